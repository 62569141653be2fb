/**
 * Object Lock and lifecycle (pure builders + readers): a bucket's default retention
 * (governance or compliance, days or years) and its lifecycle rule (expire current objects,
 * noncurrent versions, unfinished multipart uploads after N days) as S3 steps of a plan — the
 * dry run shows them, the run sends them — and the same settings read back from the gateway.
 * The immutable target's policy: a writer who may put but never delete, re-lock or re-policy.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { type Static, Type } from '@sinclair/typebox';
import type { Step } from './backend.js';
import type { PolicyStatement } from './policy.js';
import { fromS3, s3Code } from './s3.js';
import { loadSdk } from './sdk.js';

/** Upper bound of a retention or lifecycle age: 100 years. */
const MAX_DAYS = 36_500;

export const LockMode = Type.Union([Type.Literal('governance'), Type.Literal('compliance')], {
  description:
    'governance: nobody deletes a version within its retention unless allowed to bypass it (the admin, with ' +
    'x-amz-bypass-governance-retention); compliance: nobody at all, not even the admin',
});
export type LockMode = Static<typeof LockMode>;

export const RetentionDays = Type.Integer({
  minimum: 1,
  maximum: MAX_DAYS,
  description: 'default retention of each new version, in days',
});
export const RetentionYears = Type.Integer({
  minimum: 1,
  maximum: 100,
  description: 'default retention of each new version, in years (instead of days)',
});

export const LockSchema = Type.Object(
  {
    name: Type.String(),
    enabled: Type.Boolean({ description: 'Object Lock was enabled when the bucket was created' }),
    mode: Type.Optional(LockMode),
    days: Type.Optional(Type.Integer()),
    years: Type.Optional(Type.Integer()),
  },
  { description: 'a bucket’s Object Lock state and default retention' },
);
export type LockState = Static<typeof LockSchema>;

export interface LockRule {
  mode: LockMode;
  days?: number;
  years?: number;
}

const Age = (what: string) =>
  Type.Optional(
    Type.Union([Type.Integer({ minimum: 1, maximum: MAX_DAYS }), Type.Null()], {
      description: `${what}, in days; null or absent: never`,
    }),
  );
export const LifecycleFields = {
  expireDays: Age(
    'expire current objects this long after they were written (a delete marker when versioned)',
  ),
  noncurrentDays: Age('remove a version this long after it stopped being the current one'),
  abortMultipartDays: Age('abort a multipart upload not completed this long after it started'),
};
export const LifecycleSchema = Type.Object(
  {
    name: Type.String(),
    expireDays: Type.Optional(Type.Integer()),
    noncurrentDays: Type.Optional(Type.Integer()),
    abortMultipartDays: Type.Optional(Type.Integer()),
  },
  { description: 'a bucket’s lifecycle rule (ages in days; absent: never)' },
);
export interface Lifecycle {
  expireDays?: number | null;
  noncurrentDays?: number | null;
  abortMultipartDays?: number | null;
}

/** The lock problem of a rule, if any (exactly one of days and years). */
export function lockRuleProblem(r: { days?: number; years?: number }): string | undefined {
  if ((r.days === undefined) === (r.years === undefined))
    return 'a default retention needs exactly one of days and years';
  return undefined;
}

/** PutObjectLockConfiguration: the default retention, or none (versions are then locked only when a client asks). */
export function lockStep(bucket: string, rule: LockRule | undefined): Step {
  return {
    kind: 's3',
    op: 'PutObjectLockConfiguration',
    input: {
      Bucket: bucket,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        ...(rule
          ? {
              Rule: {
                DefaultRetention: {
                  Mode: rule.mode.toUpperCase(),
                  ...(rule.days !== undefined ? { Days: rule.days } : { Years: rule.years }),
                },
              },
            }
          : {}),
      },
    },
  };
}

/** The lifecycle rule as one PutBucketLifecycleConfiguration, or DeleteBucketLifecycle when every age is off. */
export function lifecycleStep(bucket: string, l: Lifecycle): Step {
  const on = (v: number | null | undefined): v is number => typeof v === 'number';
  if (!on(l.expireDays) && !on(l.noncurrentDays) && !on(l.abortMultipartDays))
    return { kind: 's3', op: 'DeleteBucketLifecycle', input: { Bucket: bucket } };
  return {
    kind: 's3',
    op: 'PutBucketLifecycleConfiguration',
    input: {
      Bucket: bucket,
      LifecycleConfiguration: {
        Rules: [
          {
            ID: 'calypso',
            Status: 'Enabled',
            Filter: { Prefix: '' },
            ...(on(l.expireDays) ? { Expiration: { Days: l.expireDays } } : {}),
            ...(on(l.noncurrentDays)
              ? { NoncurrentVersionExpiration: { NoncurrentDays: l.noncurrentDays } }
              : {}),
            ...(on(l.abortMultipartDays)
              ? { AbortIncompleteMultipartUpload: { DaysAfterInitiation: l.abortMultipartDays } }
              : {}),
          },
        ],
      },
    },
  };
}

const WRITER_DENIED = [
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:BypassGovernanceRetention',
  's3:PutObjectRetention',
  's3:PutObjectLegalHold',
  's3:PutBucketObjectLockConfiguration',
  's3:PutBucketPolicy',
  's3:DeleteBucketPolicy',
  's3:PutBucketVersioning',
  's3:PutLifecycleConfiguration',
  's3:DeleteBucket',
];

const IMMUTABLE_SID = 'CalypsoImmutable';

/** True for the statement object.target.immutable.create put in (by its reserved Sid). */
export const isWriterDeny = (s: PolicyStatement): boolean =>
  s.Effect === 'Deny' && typeof s.Sid === 'string' && s.Sid.startsWith(IMMUTABLE_SID);

/** True when a custom statement claims the immutable target's reserved Sid. */
export const claimsImmutableSid = (s: PolicyStatement): boolean =>
  typeof s.Sid === 'string' && s.Sid.startsWith(IMMUTABLE_SID);

/** The immutable target's statement: its writer (the bucket's owner) may never delete, unlock or re-policy. */
export function writerDenyStatement(bucket: string, user: string): PolicyStatement {
  return {
    Sid: `${IMMUTABLE_SID}${Buffer.from(user, 'utf8').toString('hex')}`,
    Effect: 'Deny',
    Principal: { AWS: [`arn:aws:iam:::user/${user}`] },
    Action: WRITER_DENIED,
    Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
  };
}

export async function readLock(client: S3Client, bucket: string): Promise<LockState> {
  const { GetObjectLockConfigurationCommand } = await loadSdk();
  try {
    const r = await client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    const c = r.ObjectLockConfiguration;
    const d = c?.Rule?.DefaultRetention;
    return {
      name: bucket,
      enabled: c?.ObjectLockEnabled === 'Enabled',
      ...(d?.Mode ? { mode: d.Mode.toLowerCase() as LockMode } : {}),
      ...(d?.Days !== undefined ? { days: d.Days } : {}),
      ...(d?.Years !== undefined ? { years: d.Years } : {}),
    };
  } catch (err) {
    const code = s3Code(err);
    if (code === 'ObjectLockConfigurationNotFoundError' || code === 'InvalidBucketState')
      return { name: bucket, enabled: false };
    throw fromS3(err, `bucket ${bucket}`);
  }
}

/** The lifecycle ages: of the rules that apply to the whole bucket and are enabled, the shortest. */
export async function readLifecycle(
  client: S3Client,
  bucket: string,
): Promise<Static<typeof LifecycleSchema>> {
  const { GetBucketLifecycleConfigurationCommand } = await loadSdk();
  let rules: { Rules?: unknown[] };
  try {
    rules = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
  } catch (err) {
    if (s3Code(err) === 'NoSuchLifecycleConfiguration') return { name: bucket };
    throw fromS3(err, `bucket ${bucket}`);
  }
  const out: Static<typeof LifecycleSchema> = { name: bucket };
  const min = (a: number | undefined, b: number | undefined) =>
    b === undefined ? a : a === undefined ? b : Math.min(a, b);
  for (const raw of rules.Rules ?? []) {
    const r = raw as {
      Status?: string;
      Prefix?: string;
      Filter?: { Prefix?: string };
      Expiration?: { Days?: number };
      NoncurrentVersionExpiration?: { NoncurrentDays?: number };
      AbortIncompleteMultipartUpload?: { DaysAfterInitiation?: number };
    };
    if (r.Status !== 'Enabled' || (r.Filter?.Prefix ?? r.Prefix ?? '') !== '') continue;
    out.expireDays = min(out.expireDays, r.Expiration?.Days);
    out.noncurrentDays = min(out.noncurrentDays, r.NoncurrentVersionExpiration?.NoncurrentDays);
    out.abortMultipartDays = min(
      out.abortMultipartDays,
      r.AbortIncompleteMultipartUpload?.DaysAfterInitiation,
    );
  }
  for (const k of ['expireDays', 'noncurrentDays', 'abortMultipartDays'] as const)
    if (out[k] === undefined) delete out[k];
  return out;
}
