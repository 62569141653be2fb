/**
 * Parsers (pure) for radosgw-admin's JSON output (`--format json`), checked against outputs
 * recorded from Ceph 16.2.15 (test/object/fixtures/radosgw-admin-16.2.15).
 *
 * Secrets: `user info`, `user create` and `key create` print every secret key of the user. The
 * parsers keep a secret only where the caller asked for the one new key (`newKeyOf`); user
 * listings carry access key ids only.
 */
import type { Bucket, NewKey, Quota, User } from './model.js';

interface RgwKey {
  user?: string;
  access_key?: string;
  secret_key?: string;
}
interface RgwQuota {
  enabled?: boolean;
  max_size?: number;
  max_objects?: number;
}
interface RgwUser {
  user_id?: string;
  display_name?: string;
  email?: string;
  suspended?: number;
  max_buckets?: number;
  keys?: RgwKey[];
}
interface RgwUsage {
  size?: number;
  size_actual?: number;
  num_objects?: number;
}
interface RgwBucketStats {
  bucket?: string;
  owner?: string;
  creation_time?: string;
  usage?: Record<string, RgwUsage>;
  bucket_quota?: RgwQuota;
}

function json(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`radosgw-admin ${what}: output is not JSON`);
  }
}

export function parseQuota(q: RgwQuota | undefined): Quota {
  const out: Quota = { enabled: q?.enabled === true };
  // -1 means unlimited; a size below zero is never a limit
  if (q?.max_size !== undefined && q.max_size >= 0) out.maxSize = q.max_size;
  if (q?.max_objects !== undefined && q.max_objects >= 0) out.maxObjects = q.max_objects;
  return out;
}

export function parseUser(text: string): User {
  const u = json(text, 'user info') as RgwUser;
  if (typeof u?.user_id !== 'string') throw new Error('radosgw-admin user info: no user_id');
  return userFrom(u);
}

function userFrom(u: RgwUser): User {
  const out: User = {
    id: u.user_id ?? '',
    displayName: u.display_name ?? '',
    suspended: (u.suspended ?? 0) !== 0,
    keys: (u.keys ?? [])
      .filter((k) => typeof k.access_key === 'string')
      .map((k) => ({ accessKey: k.access_key!, user: k.user ?? u.user_id ?? '' })),
  };
  if (u.email) out.email = u.email;
  if (u.max_buckets !== undefined) out.maxBuckets = u.max_buckets;
  return out;
}

/** The one key in `after` that was not in `before` (key create / user create print them all). */
export function newKeyOf(text: string, before: readonly string[]): NewKey {
  const u = json(text, 'key create') as RgwUser;
  const fresh = (u.keys ?? []).filter((k) => k.access_key && !before.includes(k.access_key));
  if (fresh.length !== 1 || !fresh[0]!.secret_key)
    throw new Error(`radosgw-admin: expected one new key, found ${fresh.length}`);
  const k = fresh[0]!;
  return { user: k.user ?? u.user_id ?? '', accessKey: k.access_key!, secretKey: k.secret_key! };
}

/** A user's credentials for the agent's own S3 calls (never returned to a client, never stored). */
export function firstSecretOf(text: string): { accessKey: string; secretKey: string } | undefined {
  const u = json(text, 'user info') as RgwUser;
  const k = (u.keys ?? []).find((x) => x.access_key && x.secret_key);
  return k ? { accessKey: k.access_key!, secretKey: k.secret_key! } : undefined;
}

export function parseUserList(text: string): string[] {
  const v = json(text, 'user list');
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw new Error('radosgw-admin user list: expected an array of ids');
  return v as string[];
}

function bucketFrom(b: RgwBucketStats): Bucket {
  let bytes = 0;
  let objects = 0;
  // rgw.main holds objects, rgw.multimeta unfinished multipart uploads; rgw.none only index
  // entries without data (delete markers), which are neither bytes nor objects
  for (const [cat, u] of Object.entries(b.usage ?? {})) {
    if (cat === 'rgw.none') continue;
    bytes += u.size ?? 0;
    objects += u.num_objects ?? 0;
  }
  const out: Bucket = {
    name: b.bucket ?? '',
    owner: b.owner ?? '',
    usage: { bytes, objects },
    quota: parseQuota(b.bucket_quota),
  };
  if (b.creation_time) out.created = b.creation_time;
  return out;
}

/** `bucket stats` without --bucket prints an array; with it, one object. */
export function parseBucketStats(text: string): Bucket[] {
  const v = json(text, 'bucket stats') as RgwBucketStats | RgwBucketStats[];
  const list = Array.isArray(v) ? v : [v];
  return list.filter((b) => typeof b?.bucket === 'string').map(bucketFrom);
}

/** radosgw-admin reports "no such user" as exit 22 (EINVAL) with this text, not ENOENT. */
export function isNoSuchUser(stderr: string): boolean {
  return /no user info saved|user not found|could not fetch user info/i.test(stderr);
}

/** `bucket stats --bucket X` for a missing bucket: exit 2 or 210, "failure: (2002)"/ENOENT text. */
export function isNoSuchBucket(code: number, stderr: string): boolean {
  return code === 2 || /\(2002\)|No such file or directory|bucket not found/i.test(stderr);
}

export function isExists(stderr: string): boolean {
  return /exists/i.test(stderr);
}
