/**
 * Immutable copies: Object Lock (default retention, governance or compliance), lifecycle rules,
 * and the immutable backup target made in one call — a user whose key may write but never
 * delete, and a versioned, locked bucket it owns. Every mutation is one plan of lock.ts's
 * builders: the dry run returns it, the run sends it.
 */
import { Type } from '@sinclair/typebox';
import { conflict, invalid, unavailable } from '../../rpc/errors.js';
import { type DryRunPlan, defineMethod, isDryRunPlan } from '../../rpc/registry.js';
import type { ObjectBackend, Plan } from './backend.js';
import type { ObjectContext } from './context.js';
import {
  LifecycleFields,
  LifecycleSchema,
  LockMode,
  LockSchema,
  type LockState,
  lifecycleStep,
  lockRuleProblem,
  lockStep,
  RetentionDays,
  RetentionYears,
  readLifecycle,
  readLock,
  writerDenyStatement,
} from './lock.js';
import { exists } from './methods-bucket.js';
import { BucketName, bucketNameProblem, DisplayName, type NewKey, NewKeySchema, UserId } from './model.js';

const ByName = Type.Object({ name: BucketName }, { additionalProperties: false });

async function lockOf(b: ObjectBackend, name: string): Promise<LockState> {
  await b.getBucket(name);
  return readLock(await b.adminS3(), name);
}

function checkRule(p: { mode: unknown; days?: number; years?: number }, bucket: string): void {
  if (p.mode === null) {
    if (p.days !== undefined || p.years !== undefined)
      throw invalid('days and years need a mode (governance or compliance)', { bucket });
    return;
  }
  const problem = lockRuleProblem(p);
  if (problem) throw invalid(`${bucket}: ${problem}`, { bucket });
}

export function lockMethods(o: ObjectContext) {
  return [
    defineMethod({
      name: 'object.bucket.lock.get',
      summary: 'Whether a bucket has Object Lock, and its default retention (mode, days or years)',
      params: ByName,
      result: LockSchema,
      role: 'auditor',
      mutating: false,
      handler: async (p) => lockOf(await o.ready(), p.name),
    }),

    defineMethod({
      name: 'object.bucket.lock.set',
      summary:
        'Set the default retention of a bucket created with Object Lock (governance or compliance, days or years)',
      params: Type.Object(
        {
          name: BucketName,
          mode: Type.Union([LockMode, Type.Null()], {
            description: 'governance or compliance; null: no default retention (new versions are not locked)',
          }),
          days: Type.Optional(RetentionDays),
          years: Type.Optional(RetentionYears),
        },
        { additionalProperties: false },
      ),
      result: LockSchema,
      role: 'admin',
      mutating: true,
      handler: async (p, ctx) => {
        checkRule(p, p.name);
        const b = await o.ready();
        if (!(await lockOf(b, p.name)).enabled)
          throw conflict(
            `bucket ${p.name} was created without Object Lock, and RGW enables it only when a bucket is created ` +
              '(with versioning): create a new bucket with objectLock: true (object.bucket.create, or ' +
              'object.target.immutable.create) and copy the objects into it (object.migrate)',
            { bucket: p.name },
          );
        const rule = p.mode === null ? undefined : { mode: p.mode, days: p.days, years: p.years };
        const r = await o.apply({ steps: [lockStep(p.name, rule)] }, ctx.dryRun);
        return isDryRunPlan(r) ? r : lockOf(b, p.name);
      },
    }),

    defineMethod({
      name: 'object.bucket.lifecycle.get',
      summary:
        'A bucket’s lifecycle: expiry of current objects, of noncurrent versions, of unfinished uploads',
      params: ByName,
      result: LifecycleSchema,
      role: 'auditor',
      mutating: false,
      handler: async (p) => {
        const b = await o.ready();
        await b.getBucket(p.name);
        return readLifecycle(await b.adminS3(), p.name);
      },
    }),

    defineMethod({
      name: 'object.bucket.lifecycle.set',
      summary:
        'Set a bucket’s lifecycle (replaces it): expire current objects, noncurrent versions, unfinished uploads after N days',
      params: Type.Object({ name: BucketName, ...LifecycleFields }, { additionalProperties: false }),
      result: LifecycleSchema,
      role: 'operator',
      mutating: true,
      handler: async (p, ctx) => {
        const b = await o.ready();
        await b.getBucket(p.name);
        if (typeof p.noncurrentDays === 'number' && (await b.getVersioning(p.name)) === 'off')
          throw invalid(
            `bucket ${p.name} is not versioned: it has no noncurrent versions to expire (turn versioning on first)`,
            { bucket: p.name },
          );
        const r = await o.apply({ steps: [lifecycleStep(p.name, p)] }, ctx.dryRun);
        return isDryRunPlan(r) ? r : readLifecycle(await b.adminS3(), p.name);
      },
    }),

    defineMethod({
      name: 'object.target.immutable.create',
      summary:
        'An immutable backup target in one call: a new user whose key may write but never delete, owning a new versioned bucket with Object Lock',
      params: Type.Object(
        {
          bucket: BucketName,
          user: UserId,
          displayName: Type.Optional(DisplayName),
          mode: LockMode,
          days: Type.Optional(RetentionDays),
          years: Type.Optional(RetentionYears),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({
        endpoint: Type.String({ description: 'the S3 endpoint the writer uses' }),
        bucket: Type.String(),
        key: NewKeySchema,
        lock: LockSchema,
      }),
      role: 'admin',
      mutating: true,
      handler: async (p, ctx) => {
        const problem = bucketNameProblem(p.bucket);
        if (problem) throw invalid(`bucket name ${p.bucket}: ${problem}`, { bucket: p.bucket });
        checkRule(p, p.bucket);
        const b = await o.ready();
        if (b.kind === 'minio')
          throw unavailable(
            'immutable targets need RGW: MinIO bucket policies name no users, so the writer’s deny cannot be expressed',
            { backend: b.kind },
          );
        if (p.user === o.cfg.adminUser) throw conflict(`${p.user} is the agent’s own user`, { user: p.user });
        if ((await b.userIds()).includes(p.user))
          throw conflict(`user ${p.user} exists already`, { user: p.user });
        if (await exists(b, p.bucket))
          throw conflict(`bucket ${p.bucket} exists already`, { bucket: p.bucket });
        const parts: Plan[] = [
          await b.createUser({ id: p.user, displayName: p.displayName ?? `immutable target ${p.bucket}` }),
          await b.createBucket(p.bucket, p.user, { objectLock: true }),
          await b.setVersioning(p.bucket, true),
          { steps: [lockStep(p.bucket, { mode: p.mode, days: p.days, years: p.years })] },
          await b.putPolicy(p.bucket, {
            Version: '2012-10-17',
            Statement: [writerDenyStatement(p.bucket, p.user)],
          }),
        ];
        const plan: Plan = {
          steps: parts.flatMap((x) => x.steps),
          notes: parts.flatMap((x) => x.notes ?? []),
        };
        const r: DryRunPlan | { newKey?: NewKey } = await o.apply(plan, ctx.dryRun);
        if (isDryRunPlan(r)) return r;
        if (!r.newKey) throw new Error('object: the backend returned no new key');
        return { endpoint: b.endpoint, bucket: p.bucket, key: r.newKey, lock: await lockOf(b, p.bucket) };
      },
    }),
  ];
}
