/** object.* — S3 buckets, users and keys, grants, migration (agent/object/, README "Object storage"). */
import type { Item, Params, Result } from '../generated/api.js';
import type { AgentClient } from '../rpc/client.js';
import type { JobSummary } from './jobs.js';

export type ObjectStatus = Result<'object.status'>;

export type Bucket = Item<'object.bucket.list'>;
export type BucketQuota = Bucket['quota'];
export type BucketContents = Result<'object.bucket.contents'>;

export type ObjectUser = Item<'object.user.list'>;

/** Returned once, when a key is created: shown in the one-time dialog, then forgotten. */
export type NewKey = Result<'object.key.create'>;

export type Grant = Item<'object.grant.list'>;
export type Access = Grant['access'];

type Opts = { signal?: AbortSignal };

export const objectStatus = (c: AgentClient, o: Opts = {}) => c.call<ObjectStatus>('object.status', {}, o);
export const startGateway = (c: AgentClient) => c.call<ObjectStatus>('object.service.start', {});
export const stopGateway = (c: AgentClient) => c.call<ObjectStatus>('object.service.stop', {});

export const listBuckets = (c: AgentClient, o: Opts = {}) => c.items<Bucket>('object.bucket.list', {}, o);
export const createBucket = (c: AgentClient, name: string, owner: string) =>
  c.call<Bucket>('object.bucket.create', { name, owner });
/** `force` removes every object; the agent wants the name typed back as `confirm`. */
export const deleteBucket = (c: AgentClient, name: string, force = false) =>
  c.call<Result<'object.bucket.delete'>>(
    'object.bucket.delete',
    force ? { name, force, confirm: name } : { name },
  );
export const setVersioning = (c: AgentClient, name: string, enabled: boolean) =>
  c.call<Result<'object.bucket.versioning'>>('object.bucket.versioning', { name, enabled });
export const setQuota = (c: AgentClient, name: string, q: BucketQuota) =>
  c.call<Bucket>('object.bucket.quota', { name, ...q });

export const listUsers = (c: AgentClient, o: Opts = {}) => c.items<ObjectUser>('object.user.list', {}, o);
export const createUser = (c: AgentClient, id: string, displayName: string, email?: string) =>
  c.call<Result<'object.user.create'>>(
    'object.user.create',
    email ? { id, displayName, email } : { id, displayName },
  );
export const suspendUser = (c: AgentClient, id: string, suspended: boolean) =>
  c.call<ObjectUser>('object.user.suspend', { id, suspended });
export const deleteUser = (c: AgentClient, id: string) =>
  c.call<Result<'object.user.delete'>>('object.user.delete', { id });
export const createKey = (c: AgentClient, user: string) => c.call<NewKey>('object.key.create', { user });
export const rotateKey = (c: AgentClient, user: string, accessKey: string) =>
  c.call<NewKey>('object.key.rotate', { user, accessKey });
export const revokeKey = (c: AgentClient, user: string, accessKey: string) =>
  c.call<Result<'object.key.revoke'>>('object.key.revoke', { user, accessKey });

export const listGrants = (c: AgentClient, bucket: string, o: Opts = {}) =>
  c.items<Grant>('object.grant.list', { bucket }, o);
export const setGrant = (c: AgentClient, g: Grant) =>
  c.call<Result<'object.grant.set'>>('object.grant.set', { ...g });
export const revokeGrant = (c: AgentClient, bucket: string, user: string) =>
  c.call<Result<'object.grant.revoke'>>('object.grant.revoke', { bucket, user });

type Migrate = Params<'object.migrate'>;
/** The migration form: the source's endpoint and keys, the owner, and which buckets (source → target names; none: every bucket of the source, same names). */
export type MigrationRequest = Pick<Migrate['source'], 'endpoint' | 'accessKey' | 'secretKey'> &
  Pick<Migrate, 'owner' | 'buckets'>;
export async function startMigration(c: AgentClient, r: MigrationRequest): Promise<JobSummary> {
  const p: Migrate = {
    source: { endpoint: r.endpoint, accessKey: r.accessKey, secretKey: r.secretKey },
    owner: r.owner,
  };
  if (r.buckets?.length) p.buckets = r.buckets;
  const res = await c.call<Result<'object.migrate'>>('object.migrate', p);
  return {
    id: res.job,
    method: 'object.migrate',
    state: 'waiting',
    progress: { percent: 0, description: r.endpoint },
  };
}

/** Share of a quota in use (0–100), or undefined without a limit. */
export function quotaPercent(b: Bucket): number | undefined {
  if (!b.quota.enabled) return undefined;
  const parts: number[] = [];
  if (b.quota.maxSize) parts.push((b.usage.bytes / b.quota.maxSize) * 100);
  if (b.quota.maxObjects) parts.push((b.usage.objects / b.quota.maxObjects) * 100);
  return parts.length ? Math.min(100, Math.max(...parts)) : undefined;
}

/** S3 bucket naming rules, checked before a round trip (the agent checks them again). */
export function bucketNameProblem(name: string): string | undefined {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name))
    return '3–63 characters: a-z, 0-9, "." and "-", starting and ending with a letter or digit';
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return 'must not look like an IP address';
  if (/\.\.|\.-|-\./.test(name)) return 'no ".." and no "." next to "-"';
  return undefined;
}
