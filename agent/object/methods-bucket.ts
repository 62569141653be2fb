/** Bucket methods: list (with usage and quota), get, create, delete, versioning, quota, usage (contents: methods-contents.ts). */
import { Type } from '@sinclair/typebox';
import { conflict, invalid, RpcError } from '../../rpc/errors.js';
import { defineMethod, isDryRunPlan } from '../../rpc/registry.js';
import { mutation, resourceMethods } from '../config-set/resource.js';
import type { ObjectBackend } from './backend.js';
import type { ObjectContext } from './context.js';
import { contentsOf } from './methods-contents.js';
import { type Bucket, BucketName, BucketSchema, bucketNameProblem, UserId } from './model.js';

const Ok = Type.Object({});

/** One bucket's stats, not the whole listing (which reads every bucket's index). */
export async function exists(b: ObjectBackend, name: string): Promise<boolean> {
  try {
    await b.getBucket(name);
    return true;
  } catch (err) {
    if (err instanceof RpcError && err.kind === 'not_found') return false;
    throw err;
  }
}
/** A bucket with its contents by kind; when they cannot be read (the owner has no key), why not. */
async function withContents(o: ObjectContext, b: Bucket): Promise<Bucket> {
  try {
    return { ...b, contents: await contentsOf(o, b.name, b.owner) };
  } catch (err) {
    return { ...b, contentsUnavailable: (err as Error).message };
  }
}

const ByName = Type.Object({ name: BucketName }, { additionalProperties: false });

/** A bucket at or over the rules' share of its size quota raises `object.quota:<bucket>`. */
export async function quotaAlerts(
  o: ObjectContext,
  buckets: { name: string; usage: { bytes: number }; quota: { enabled: boolean; maxSize?: number } }[],
): Promise<void> {
  const alerts = o.deps.alerts;
  const limit = alerts.rules().thresholds.objectQuotaPercent;
  for (const b of buckets) {
    const key = `object.quota:${b.name}`;
    const max = b.quota.enabled ? b.quota.maxSize : undefined;
    const pct = max ? Math.floor((b.usage.bytes / max) * 100) : 0;
    if (max && pct >= limit)
      await alerts.raise({
        key,
        level: pct >= 100 ? 'critical' : 'warning',
        source: 'object',
        title: `bucket ${b.name} is ${pct} % of its quota`,
        detail: `Writes fail once the quota is reached: raise it (object.bucket.quota) or delete objects.`,
        data: { bucket: b.name, bytes: b.usage.bytes, quota: max },
      });
    else await alerts.clear(key);
  }
}

export function bucketMethods(o: ObjectContext) {
  return [
    ...resourceMethods({
      prefix: 'object.bucket',
      listSummary: 'Buckets with owner, usage (bytes, objects, sampled: see usageAt) and quota',
      label: 'bucket',
      item: BucketSchema,
      listParams: Type.Object(
        {
          contents: Type.Optional(
            Type.Boolean({
              description:
                'also count each bucket’s contents by kind (current objects, versions, delete markers, unfinished uploads): lists every bucket',
            }),
          ),
        },
        { additionalProperties: false },
      ),
      list: async (p) => {
        await o.ready();
        const { buckets, at } = await o.buckets.list();
        const usageAt = new Date(at).toISOString();
        await quotaAlerts(o, buckets);
        const out = buckets.map((b) => ({ ...b, usageAt }));
        return p.contents ? await Promise.all(out.map((b) => withContents(o, b))) : out;
      },
      mutations: {
        create: mutation({
          summary:
            'Create a bucket owned by a user (objectLock: with Object Lock, which only creation can enable)',
          params: Type.Object(
            {
              name: BucketName,
              owner: UserId,
              objectLock: Type.Optional(
                Type.Boolean({
                  description:
                    'enable Object Lock (and versioning): retention can then be set with object.bucket.lock.set; it cannot be added later',
                }),
              ),
            },
            { additionalProperties: false },
          ),
          result: BucketSchema,
          role: 'operator',
          handler: async (p, ctx) => {
            const problem = bucketNameProblem(p.name);
            if (problem) throw invalid(`bucket name ${p.name}: ${problem}`, { bucket: p.name });
            const b = await o.ready();
            await b.getUser(p.owner);
            if (await exists(b, p.name))
              throw conflict(`bucket ${p.name} exists already`, { bucket: p.name });
            const r = await o.apply(
              await b.createBucket(p.name, p.owner, { objectLock: p.objectLock === true }),
              ctx.dryRun,
            );
            if (isDryRunPlan(r)) return r;
            return b.getBucket(p.name);
          },
        }),

        delete: mutation({
          summary: 'Delete a bucket; refused while it holds objects unless force, with confirm = name',
          params: Type.Object(
            {
              name: BucketName,
              force: Type.Optional(Type.Boolean({ description: 'delete every object and version too' })),
              confirm: Type.Optional(Type.String({ description: 'must equal name when force is set' })),
            },
            { additionalProperties: false },
          ),
          result: Ok,
          handler: async (p, ctx) => {
            if (p.force && p.confirm !== p.name)
              throw invalid('force needs confirm equal to the bucket name', { bucket: p.name });
            const b = await o.ready();
            const bucket = await b.getBucket(p.name);
            if (!p.force && bucket.usage.objects > 0)
              throw conflict(`bucket ${p.name} is not empty (${bucket.usage.objects} objects); use force`, {
                bucket: p.name,
                objects: bucket.usage.objects,
              });
            const r = await o.apply(await b.deleteBucket(p.name, p.force === true), ctx.dryRun);
            return isDryRunPlan(r) ? r : {};
          },
        }),

        versioning: mutation({
          summary: 'Turn versioning on (keep every version) or suspend it',
          params: Type.Object(
            { name: BucketName, enabled: Type.Boolean({ description: 'true: enabled; false: suspended' }) },
            { additionalProperties: false },
          ),
          result: Type.Object({ name: Type.String(), versioning: Type.String() }),
          role: 'operator',
          handler: async (p, ctx) => {
            const b = await o.ready();
            await b.getBucket(p.name);
            const r = await o.apply(await b.setVersioning(p.name, p.enabled), ctx.dryRun);
            if (isDryRunPlan(r)) return r;
            return { name: p.name, versioning: await b.getVersioning(p.name) };
          },
        }),

        quota: mutation({
          summary: 'Set a bucket’s quota (bytes and objects); refused below what it holds now',
          params: Type.Object(
            {
              name: BucketName,
              enabled: Type.Boolean({ description: 'false removes the limits' }),
              maxSize: Type.Optional(Type.Integer({ minimum: 1, description: 'bytes' })),
              maxObjects: Type.Optional(Type.Integer({ minimum: 1, description: 'objects' })),
            },
            { additionalProperties: false },
          ),
          result: BucketSchema,
          role: 'operator',
          handler: async (p, ctx) => {
            const b = await o.ready();
            const bucket = await b.getBucket(p.name);
            if (p.enabled && p.maxSize === undefined && p.maxObjects === undefined)
              throw invalid('an enabled quota needs maxSize or maxObjects', { bucket: p.name });
            if (p.enabled && p.maxSize !== undefined && p.maxSize < bucket.usage.bytes)
              throw invalid(`maxSize ${p.maxSize} is below the ${bucket.usage.bytes} bytes ${p.name} holds`, {
                bucket: p.name,
                used: bucket.usage.bytes,
              });
            if (p.enabled && p.maxObjects !== undefined && p.maxObjects < bucket.usage.objects)
              throw invalid(
                `maxObjects ${p.maxObjects} is below the ${bucket.usage.objects} objects ${p.name} holds`,
                {
                  bucket: p.name,
                  used: bucket.usage.objects,
                },
              );
            const quota = p.enabled
              ? { enabled: true, maxSize: p.maxSize, maxObjects: p.maxObjects }
              : { enabled: false };
            const r = await o.apply(await b.setQuota(p.name, quota), ctx.dryRun);
            if (isDryRunPlan(r)) return r;
            return b.getBucket(p.name);
          },
        }),
      },
    }),
    defineMethod({
      name: 'object.bucket.get',
      summary:
        'One bucket with usage (what RGW counts), its contents by kind (what S3 clients see), quota and versioning',
      params: ByName,
      result: BucketSchema,
      role: 'auditor',
      mutating: false,
      handler: async (p) => {
        const b = await o.ready();
        const bucket = await b.getBucket(p.name);
        return withContents(o, { ...bucket, versioning: await b.getVersioning(p.name) });
      },
    }),
    defineMethod({
      name: 'object.bucket.usage',
      summary: 'Bytes and objects stored in a bucket, and its quota',
      params: ByName,
      result: Type.Object({
        bytes: Type.Integer(),
        objects: Type.Integer(),
        quota: BucketSchema.properties.quota,
      }),
      role: 'auditor',
      mutating: false,
      handler: async (p) => {
        const bucket = await (await o.ready()).getBucket(p.name);
        return { ...bucket.usage, quota: bucket.quota };
      },
    }),
  ];
}
