/**
 * Object storage: the named identifier schemas every method shares, S3's bucket-naming rules,
 * and the shapes the backends return. The schemas are the single source of truth (runtime
 * check, TypeScript type, OpenRPC docs); the bucket-name rules the regular expression cannot
 * say (no IP address form, no `..`, reserved prefixes and suffixes) live in `bucketNameProblem`.
 */
import { type Static, Type } from '@sinclair/typebox';

const Count = Type.Integer({ minimum: 0 });

export const ContentsSchema = Type.Object(
  {
    currentObjects: {
      ...Count,
      description: 'objects a plain listing (ListObjectsV2) shows: latest versions',
    },
    currentBytes: { ...Count, description: 'their bytes' },
    versions: {
      ...Count,
      description: 'every stored version, current ones included (1 per object when unversioned)',
    },
    versionBytes: { ...Count, description: 'bytes of every stored version' },
    noncurrentVersions: { ...Count, description: 'older versions kept by versioning' },
    deleteMarkers: { ...Count, description: 'delete markers (no data; hide an object from plain listings)' },
    multipartUploads: {
      ...Count,
      description: 'unfinished multipart uploads (started, neither completed nor aborted)',
    },
    multipartParts: { ...Count, description: 'parts uploaded to them' },
    multipartBytes: {
      ...Count,
      description: 'bytes of those parts: stored and counted by RGW, in no listing',
    },
    oldestUpload: Type.Optional(
      Type.String({ description: 'when the oldest unfinished upload started (ISO)' }),
    ),
    complete: Type.Boolean({ description: 'false when the count stopped at the listing limit' }),
    countedAt: Type.String({ description: 'when the listing was read (ISO)' }),
  },
  {
    description:
      'what an S3 client sees in the bucket, by kind; `usage` is what RGW counts (and the quota limits): ' +
      'every version and the parts of unfinished uploads',
  },
);
export type Contents = Static<typeof ContentsSchema>;

/**
 * S3 general-purpose bucket names (AWS "Bucket naming rules"): 3–63 characters; lower-case
 * letters, digits, dots and hyphens; beginning and ending with a letter or digit. The pattern
 * also forbids a leading '-' so a name can never read as an option of radosgw-admin or mc.
 */
export const BUCKET_NAME_PATTERN = '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$';
export const BucketName = Type.String({
  pattern: BUCKET_NAME_PATTERN,
  minLength: 3,
  maxLength: 63,
  description:
    'S3 bucket name: 3–63 characters of a-z, 0-9, "." and "-", starting and ending with a letter or digit; not an IP address, no "..", no "xn--"/"sthree-" prefix or "-s3alias"/"--ol-s3" suffix',
});

/** RGW user ids and MinIO user names alike: no tenant separator ('$'), no option-like leading '-'. */
export const UserId = Type.String({
  pattern: '^[A-Za-z0-9_][A-Za-z0-9_.@=+-]{0,63}$',
  description:
    'object-storage user id: 1–64 characters of letters, digits and _ . @ = + -, not starting with "-" or "."',
});

/** AWS-style access key ids (RGW generates 20 upper-case characters; MinIO accepts 3–128). */
export const AccessKeyId = Type.String({
  pattern: '^[A-Za-z0-9]{3,128}$',
  description: 'S3 access key id',
});

export const DisplayName = Type.String({
  minLength: 1,
  maxLength: 128,
  // no control characters: the name is an argv value, and shown in the UI
  pattern: '^[^\\x00-\\x1f\\x7f]+$',
  description: 'a user’s display name (printable characters)',
});

export const Email = Type.String({
  pattern: '^[^\\s@]+@[^\\s@]+$',
  maxLength: 254,
  description: 'e-mail address of the user',
});

export const CANNED = ['read-only', 'read-write', 'write-only'] as const;
export type Canned = (typeof CANNED)[number];
export const CannedGrant = Type.Union(
  CANNED.map((c) => Type.Literal(c)),
  {
    description:
      'canned access: read-only (list, get), read-write (list, get, put, delete), write-only (put)',
  },
);

export const Bytes = Type.Integer({ minimum: 0, description: 'bytes' });

export const QuotaSchema = Type.Object(
  {
    enabled: Type.Boolean(),
    maxSize: Type.Optional(Type.Integer({ minimum: 0, description: 'bytes; absent: no size limit' })),
    maxObjects: Type.Optional(Type.Integer({ minimum: 0, description: 'objects; absent: no count limit' })),
  },
  { description: 'a bucket quota' },
);
export type Quota = Static<typeof QuotaSchema>;

export const BucketSchema = Type.Object(
  {
    name: Type.String(),
    owner: Type.String({ description: 'owning user id' }),
    created: Type.Optional(Type.String({ description: 'ISO time' })),
    usage: Type.Object(
      { bytes: Bytes, objects: Type.Integer({ minimum: 0 }) },
      {
        description:
          'what RGW counts and the quota limits: every stored version and the parts of unfinished multipart ' +
          'uploads included (contents: what an S3 listing shows, by kind)',
      },
    ),
    contents: Type.Optional(ContentsSchema),
    contentsUnavailable: Type.Optional(Type.String({ description: 'why contents could not be read' })),
    usageAt: Type.Optional(Type.String({ description: 'when usage was read (listings are sampled)' })),
    quota: QuotaSchema,
    versioning: Type.Optional(
      Type.Union([Type.Literal('off'), Type.Literal('enabled'), Type.Literal('suspended')]),
    ),
  },
  { description: 'a bucket with its usage and quota' },
);
export type Bucket = Static<typeof BucketSchema>;

export const KeyInfoSchema = Type.Object(
  { accessKey: Type.String(), user: Type.String() },
  { description: 'an access key (its secret is never returned after creation)' },
);

export const UserSchema = Type.Object(
  {
    id: Type.String(),
    displayName: Type.String(),
    email: Type.Optional(Type.String()),
    suspended: Type.Boolean(),
    keys: Type.Array(KeyInfoSchema),
    maxBuckets: Type.Optional(Type.Integer()),
  },
  { description: 'an object-storage user' },
);
export type User = Static<typeof UserSchema>;

/** What creating a key (or a user with its first key) returns: the only time the secret leaves the agent. */
export const NewKeySchema = Type.Object(
  {
    user: Type.String(),
    accessKey: Type.String(),
    secretKey: Type.String({ description: 'shown once; the agent does not keep it' }),
  },
  { description: 'a new access key with its secret' },
);
export type NewKey = Static<typeof NewKeySchema>;

export const GrantSchema = Type.Object(
  { bucket: Type.String(), user: Type.String(), access: CannedGrant },
  { description: 'a canned grant of a bucket to a user' },
);
export type Grant = Static<typeof GrantSchema>;

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** The S3 rules a pattern cannot express; undefined when the name is acceptable. */
export function bucketNameProblem(name: string): string | undefined {
  if (!new RegExp(BUCKET_NAME_PATTERN).test(name))
    return 'must be 3–63 characters of a-z, 0-9, "." and "-", starting and ending with a letter or digit';
  if (IPV4.test(name)) return 'must not be formatted as an IP address';
  if (name.includes('..')) return 'must not contain two adjacent periods';
  if (name.includes('.-') || name.includes('-.')) return 'a period must not be next to a hyphen';
  if (name.startsWith('xn--') || name.startsWith('sthree-') || name.startsWith('amzn-s3-demo-'))
    return 'must not start with a reserved prefix (xn--, sthree-, amzn-s3-demo-)';
  if (
    name.endsWith('-s3alias') ||
    name.endsWith('--ol-s3') ||
    name.endsWith('.mrap') ||
    name.endsWith('--x-s3')
  )
    return 'must not end with a reserved suffix (-s3alias, --ol-s3, .mrap, --x-s3)';
  return undefined;
}
