/**
 * A bucket's contents by kind as an S3 client sees them (bucket-contents.ts), and aborting stale
 * multipart uploads — whose parts RGW stores and counts (usage, quota) but no listing shows.
 */
import { Type } from '@sinclair/typebox';
import { defineMethod, isDryRunPlan } from '../../rpc/registry.js';
import { abortPlan, listUploads, readContents, staleUploads } from './bucket-contents.js';
import type { ObjectContext } from './context.js';
import { BucketName, type Contents, ContentsSchema } from './model.js';

/** Contents read as the bucket's owner (who can always list it). */
export async function contentsOf(o: ObjectContext, bucket: string, owner: string): Promise<Contents> {
  const b = await o.ready();
  return readContents(await b.clientFor(owner), bucket, new Date(o.deps.clock.now()));
}

const UploadSchema = Type.Object({
  key: Type.String(),
  uploadId: Type.String(),
  initiated: Type.Optional(Type.String({ description: 'when the upload started (ISO)' })),
});

export function contentsMethods(o: ObjectContext) {
  return [
    defineMethod({
      name: 'object.bucket.contents',
      summary:
        'What a bucket holds as S3 clients see it: current objects, all versions, delete markers, unfinished multipart uploads',
      description:
        '`usage` (object.bucket.get/list) is what RGW counts and the quota limits: every stored version and the ' +
        'parts of unfinished multipart uploads. This lists the bucket (as its owner) and counts each kind apart.',
      params: Type.Object({ name: BucketName }, { additionalProperties: false }),
      result: ContentsSchema,
      role: 'auditor',
      mutating: false,
      handler: async (p) => {
        const bucket = await (await o.ready()).getBucket(p.name);
        return contentsOf(o, p.name, bucket.owner);
      },
    }),

    defineMethod({
      name: 'object.bucket.abortMultipart',
      summary:
        'Abort a bucket’s unfinished multipart uploads started more than olderThanHours ago (frees their parts)',
      params: Type.Object(
        {
          bucket: BucketName,
          olderThanHours: Type.Integer({
            minimum: 0,
            maximum: 87_600,
            default: 24,
            description: 'only uploads started at least this many hours ago (default 24; 0: all of them)',
          }),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({ aborted: Type.Array(UploadSchema) }),
      role: 'operator',
      mutating: true,
      handler: async (p, ctx) => {
        const b = await o.ready();
        const bucket = await b.getBucket(p.bucket);
        const uploads = await listUploads(await b.clientFor(bucket.owner), p.bucket);
        const stale = staleUploads(uploads, p.olderThanHours, o.deps.clock.now());
        const r = await o.apply(abortPlan(p.bucket, stale, p.olderThanHours), ctx.dryRun, ctx.signal);
        if (isDryRunPlan(r)) return r;
        ctx.auditDetail?.({ aborted: stale.length, uploads: stale.map((u) => `${u.key} ${u.uploadId}`) });
        return { aborted: stale };
      },
    }),
  ];
}
