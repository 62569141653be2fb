/**
 * Bucket policies (pure): canned grants as policy statements, and the check a custom policy
 * passes before it reaches the gateway — valid JSON, principals that are known users (or "*"),
 * S3 bucket/object actions only, and resources inside the bucket the policy is attached to.
 *
 * Canned grants live in the same policy document as custom statements, marked by their Sid
 * (`CalypsoGrant<Access><hex of user id><B|O>`), so one PutBucketPolicy carries both and
 * `grant.list` reads them back from the gateway (nothing is kept beside it).
 */
import type { Canned, Grant } from './model.js';

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal: '*' | { AWS: string | string[] };
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, unknown>;
}
export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
}

const BUCKET_ACTIONS: Record<Canned, string[]> = {
  'read-only': ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetBucketLocation'],
  'read-write': [
    's3:ListBucket',
    's3:ListBucketVersions',
    's3:GetBucketLocation',
    's3:ListBucketMultipartUploads',
  ],
  'write-only': ['s3:ListBucketMultipartUploads'],
};
const OBJECT_ACTIONS: Record<Canned, string[]> = {
  'read-only': ['s3:GetObject', 's3:GetObjectVersion'],
  'read-write': [
    's3:GetObject',
    's3:GetObjectVersion',
    's3:PutObject',
    's3:DeleteObject',
    's3:DeleteObjectVersion',
    's3:AbortMultipartUpload',
    's3:ListMultipartUploadParts',
  ],
  'write-only': ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
};
const ACCESS_TAG: Record<Canned, string> = {
  'read-only': 'ReadOnly',
  'read-write': 'ReadWrite',
  'write-only': 'WriteOnly',
};
const SID = /^CalypsoGrant(ReadOnly|ReadWrite|WriteOnly)([0-9a-f]+)(B|O)$/;

export const userArn = (uid: string) => `arn:aws:iam:::user/${uid}`;
const bucketArn = (b: string) => `arn:aws:s3:::${b}`;

/** The two statements of a canned grant (bucket-level and object-level actions). */
export function grantStatements(bucket: string, user: string, access: Canned): PolicyStatement[] {
  const tag = `CalypsoGrant${ACCESS_TAG[access]}${Buffer.from(user, 'utf8').toString('hex')}`;
  return [
    {
      Sid: `${tag}B`,
      Effect: 'Allow',
      Principal: { AWS: [userArn(user)] },
      Action: BUCKET_ACTIONS[access],
      Resource: [bucketArn(bucket)],
    },
    {
      Sid: `${tag}O`,
      Effect: 'Allow',
      Principal: { AWS: [userArn(user)] },
      Action: OBJECT_ACTIONS[access],
      Resource: [`${bucketArn(bucket)}/*`],
    },
  ];
}

/**
 * A canned grant as an IAM policy (MinIO evaluates per-user access through IAM policies attached
 * to users; its bucket policies name no users): the same actions, no Principal.
 */
export function iamGrantPolicy(bucket: string, access: Canned): { Version: string; Statement: unknown[] } {
  return {
    Version: '2012-10-17',
    Statement: grantStatements(bucket, 'x', access).map(({ Sid: _sid, Principal: _p, ...rest }) => rest),
  };
}

/** MinIO policy name of a canned grant (attached to each user it is granted to). */
export const iamGrantName = (bucket: string, access: Canned) => `calypso-${bucket}-${access}`;
const IAM_GRANT = /^calypso-(.+)-(read-only|read-write|write-only)$/;

export function parseIamGrantName(name: string): { bucket: string; access: Canned } | undefined {
  const m = IAM_GRANT.exec(name);
  return m ? { bucket: m[1]!, access: m[2] as Canned } : undefined;
}

function grantOf(s: PolicyStatement): { user: string; access: Canned } | undefined {
  const m = s.Sid ? SID.exec(s.Sid) : null;
  if (!m) return undefined;
  const access = (Object.keys(ACCESS_TAG) as Canned[]).find((k) => ACCESS_TAG[k] === m[1])!;
  return { user: Buffer.from(m[2]!, 'hex').toString('utf8'), access };
}

/** Canned grants found in a policy (by their Sid). */
export function grantsOf(bucket: string, doc: PolicyDocument | undefined): Grant[] {
  const seen = new Map<string, Grant>();
  for (const s of doc?.Statement ?? []) {
    const g = grantOf(s);
    if (g) seen.set(g.user, { bucket, ...g });
  }
  return [...seen.values()];
}

/** The policy with `user`'s canned grant replaced (access) or removed (undefined). */
export function withGrant(
  bucket: string,
  doc: PolicyDocument | undefined,
  user: string,
  access: Canned | undefined,
): PolicyDocument | undefined {
  const kept = (doc?.Statement ?? []).filter((s) => grantOf(s)?.user !== user);
  const next = [...kept, ...(access ? grantStatements(bucket, user, access) : [])];
  return next.length ? { Version: doc?.Version ?? '2012-10-17', Statement: next } : undefined;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Principal', 'Action', 'Resource', 'Condition']);
/** S3 actions that act on a bucket or its objects; `*` wildcards inside a name are allowed. */
const ACTION = /^s3:(\*|[A-Z][A-Za-z]*\*?|[A-Z][A-Za-z]*\*[A-Za-z]*)$/;
const ACCOUNT_ACTIONS = new Set(['s3:CreateBucket', 's3:ListAllMyBuckets']);

/**
 * Check a custom policy for `bucket`. `users` are the known user ids. Returns the parsed
 * document, or the list of problems (each names the statement and field).
 */
export function checkPolicy(
  text: string,
  bucket: string,
  users: ReadonlySet<string>,
): { doc: PolicyDocument } | { problems: string[] } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { problems: [`not valid JSON: ${(e as Error).message}`] };
  }
  if (!v || typeof v !== 'object' || Array.isArray(v))
    return { problems: ['the policy must be a JSON object'] };
  const o = v as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of Object.keys(o))
    if (k !== 'Version' && k !== 'Statement' && k !== 'Id') problems.push(`unknown top-level field ${k}`);
  if (o.Version !== '2012-10-17' && o.Version !== '2008-10-17')
    problems.push('Version must be "2012-10-17" (or "2008-10-17")');
  const stmts = o.Statement === undefined ? [] : list(o.Statement);
  if (stmts.length === 0) problems.push('Statement must hold at least one statement');
  stmts.forEach((raw, i) => {
    const at = `Statement[${i}]`;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(`${at} must be an object`);
      return;
    }
    const s = raw as Record<string, unknown>;
    for (const k of Object.keys(s))
      if (!STATEMENT_KEYS.has(k)) problems.push(`${at}: field ${k} is not supported`);
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') problems.push(`${at}.Effect must be Allow or Deny`);
    if (s.Principal !== '*') {
      const aws = (s.Principal as { AWS?: unknown } | undefined)?.AWS;
      const ps = aws === undefined ? [] : list(aws);
      if (!ps.length) problems.push(`${at}.Principal must be "*" or {"AWS": [user ARNs]}`);
      for (const p of ps) {
        if (p === '*') continue;
        const m = typeof p === 'string' ? /^arn:aws:iam:::user\/(.+)$/.exec(p) : null;
        if (!m) problems.push(`${at}.Principal ${JSON.stringify(p)} is not arn:aws:iam:::user/<id>`);
        else if (!users.has(m[1]!)) problems.push(`${at}.Principal: unknown user ${m[1]}`);
      }
    }
    const actions = s.Action === undefined ? [] : list(s.Action);
    if (!actions.length) problems.push(`${at}.Action is required`);
    for (const a of actions) {
      if (typeof a !== 'string' || !ACTION.test(a) || ACCOUNT_ACTIONS.has(a))
        problems.push(`${at}.Action ${JSON.stringify(a)} is not an S3 bucket or object action`);
    }
    const resources = s.Resource === undefined ? [] : list(s.Resource);
    if (!resources.length) problems.push(`${at}.Resource is required`);
    for (const r of resources) {
      if (typeof r !== 'string' || (r !== bucketArn(bucket) && !r.startsWith(`${bucketArn(bucket)}/`)))
        problems.push(`${at}.Resource ${JSON.stringify(r)} is outside bucket ${bucket}`);
    }
    if (s.Condition !== undefined && (typeof s.Condition !== 'object' || Array.isArray(s.Condition)))
      problems.push(`${at}.Condition must be an object`);
  });
  if (problems.length) return { problems };
  return {
    doc: { Version: o.Version as string, Statement: stmts as PolicyStatement[] },
  };
}
