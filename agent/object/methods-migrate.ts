/**
 * object.migrate: a job copying buckets from another S3 server into local buckets owned by a
 * local user (migrate.ts). The source's secret key is a params field: redacted from logs and
 * the audit log (`secretParams`, and the core redacts `*secret*` keys), never in a job record.
 */
import { Type } from '@sinclair/typebox';
import { conflict } from '../../rpc/errors.js';
import { defineMethod } from '../../rpc/registry.js';
import type { ObjectContext } from './context.js';
import { exists } from './methods-bucket.js';
import { DEFAULT_MAX_KEYS, migrate } from './migrate.js';
import { BucketName, UserId } from './model.js';
import { s3Client } from './s3.js';

const PairReport = Type.Object({
  source: Type.String(),
  target: Type.String(),
  copied: Type.Integer(),
  skipped: Type.Integer({ description: 'already there (same size and ETag)' }),
  bytesCopied: Type.Integer(),
  bytesSkipped: Type.Integer(),
});

export function migrateMethods(o: ObjectContext) {
  return [
    defineMethod({
      name: 'object.migrate',
      summary:
        'Copy buckets and objects from another S3 server (job; resumable: what arrived is not copied again)',
      params: Type.Object(
        {
          source: Type.Object(
            {
              endpoint: Type.String({
                pattern: '^https?://[^\\s/]+/?$',
                description: 'S3 endpoint of the source server (http[s]://host[:port])',
              }),
              accessKey: Type.String({ minLength: 1, maxLength: 128, description: 'source access key id' }),
              secretKey: Type.String({
                minLength: 1,
                maxLength: 256,
                description: 'source secret key (never logged)',
              }),
              region: Type.Optional(
                Type.String({ pattern: '^[a-z0-9-]{1,32}$', description: 'default us-east-1' }),
              ),
            },
            { additionalProperties: false, description: 'the S3 server to copy from, and its credentials' },
          ),
          owner: UserId,
          buckets: Type.Optional(
            Type.Array(
              Type.Object(
                { source: BucketName, target: Type.Optional(BucketName) },
                { additionalProperties: false },
              ),
              { minItems: 1, maxItems: 1000, description: 'default: every bucket of the source, same names' },
            ),
          ),
          maxKeys: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 10_000_000,
              description: `source keys looked at in this run at most (default ${DEFAULT_MAX_KEYS}); run again to go on`,
            }),
          ),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({
        buckets: Type.Array(PairReport),
        copied: Type.Integer(),
        skipped: Type.Integer(),
        bytesCopied: Type.Integer(),
        bytesSkipped: Type.Integer(),
        truncated: Type.Optional(
          Type.Boolean({ description: 'stopped at maxKeys: run again to go on (what arrived is skipped)' }),
        ),
      }),
      role: 'admin',
      mutating: true,
      secretParams: ['secretKey'],
      job: { lock: () => 'object.migrate', title: (p) => `migrate from ${p.source.endpoint}` },
      handler: async (p, ctx) => {
        const b = await o.ready();
        await b.getUser(p.owner);
        const source = await s3Client(p.source.endpoint.replace(/\/$/, ''), p.source, p.source.region);
        const target = await b.clientFor(p.owner);
        try {
          const report = await migrate({
            planOnly: ctx.dryRun,
            maxKeys: p.maxKeys,
            source,
            target,
            buckets: p.buckets?.map((x) => ({ source: x.source, target: x.target ?? x.source })),
            signal: ctx.signal,
            progress: ctx.progress,
            ensureBucket: async (name) => {
              const have = (await exists(b, name)) ? await b.getBucket(name) : undefined;
              if (have && have.owner !== p.owner)
                throw conflict(`bucket ${name} exists and belongs to ${have.owner}`, { bucket: name });
              if (!have) await b.run(await b.createBucket(name, p.owner));
            },
          });
          if (!ctx.dryRun) return report;
          return {
            dryRun: true as const,
            commands: [],
            notes: [
              ...report.buckets.map(
                (r) =>
                  `${r.source} → ${r.target}: would copy ${r.copied} objects (${r.bytesCopied} bytes); ${r.skipped} already there`,
              ),
              ...(report.truncated
                ? [
                    `stopped after ${p.maxKeys ?? DEFAULT_MAX_KEYS} source keys (maxKeys): the run goes as far, the next one on`,
                  ]
                : []),
            ],
          };
        } finally {
          source.destroy();
        }
      },
    }),
  ];
}
