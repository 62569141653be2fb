/**
 * Settable ZFS properties as constrained schemas: a property the appliance does not know, or a value
 * outside its domain, is rejected by the registry before anything runs. The union of both dialects
 * is accepted here; values only OpenZFS knows (lz4, zstd, sync, …) are refused by the service with
 * `invalid` on zfs-fuse (checkDialect).
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { invalid } from '../../rpc/errors.js';
import type { Dialect } from './dialect.js';
import { AbsolutePath, type UserProperties } from './names.js';

const lit = <T extends string>(values: readonly T[], description: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { description },
  );
const OnOff = (d: string) => lit(['on', 'off'], d);

/** "10G", "512M", "1.5T", or bytes as an integer. */
export const Size = Type.Union(
  [
    Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?[KMGTP]?$', maxLength: 24 }),
  ],
  { description: 'bytes, or a number with a K/M/G/T/P suffix (powers of 1024)' },
);
const SizeOrNone = Type.Union([Size, Type.Literal('none')], { description: 'a size, or none' });

const POW2 = [
  '512',
  '1K',
  '2K',
  '4K',
  '8K',
  '16K',
  '32K',
  '64K',
  '128K',
  '256K',
  '512K',
  '1M',
  '2M',
  '4M',
  '8M',
  '16M',
];
const ZSTD = ['zstd', 'zstd-fast', ...Array.from({ length: 19 }, (_, i) => `zstd-${i + 1}`)];
const GZIP = ['gzip', ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => `gzip-${n}`)];

/** Properties that can be set at creation and changed later. */
export const SETTABLE = {
  compression: lit(['on', 'off', 'lzjb', 'zle', 'lz4', ...GZIP, ...ZSTD], 'compression algorithm'),
  atime: OnOff('update access times'),
  relatime: OnOff('update access times lazily (OpenZFS)'),
  recordsize: lit(POW2, 'largest block size of files'),
  quota: SizeOrNone,
  refquota: SizeOrNone,
  reservation: SizeOrNone,
  refreservation: SizeOrNone,
  mountpoint: Type.Union([AbsolutePath, Type.Literal('none'), Type.Literal('legacy')], {
    description: 'absolute path, none or legacy',
  }),
  canmount: lit(['on', 'off', 'noauto'], 'whether the filesystem can be mounted'),
  readonly: OnOff('read-only'),
  exec: OnOff('allow executing programs'),
  setuid: OnOff('honour the set-uid bit'),
  devices: OnOff('allow device files'),
  copies: Type.Integer({ minimum: 1, maximum: 3, description: 'copies of user data (1–3)' }),
  dedup: lit(['on', 'off', 'verify', 'sha256', 'sha256,verify'], 'deduplication'),
  checksum: lit(
    ['on', 'off', 'fletcher2', 'fletcher4', 'sha256', 'sha512', 'skein', 'edonr', 'blake3'],
    'checksum',
  ),
  sync: lit(['standard', 'always', 'disabled'], 'synchronous write behaviour (OpenZFS)'),
  snapdir: lit(['hidden', 'visible'], 'visibility of .zfs'),
  xattr: lit(['on', 'off', 'sa', 'dir'], 'extended attributes'),
  acltype: lit(['off', 'noacl', 'nfsv4', 'posix', 'posixacl'], 'ACL type (OpenZFS)'),
  aclinherit: lit(['discard', 'noallow', 'restricted', 'passthrough', 'passthrough-x'], 'ACL inheritance'),
  aclmode: lit(['discard', 'groupmask', 'passthrough', 'restricted'], 'ACL mode on chmod'),
  logbias: lit(['latency', 'throughput'], 'intent log bias'),
  primarycache: lit(['all', 'none', 'metadata'], 'ARC caching'),
  secondarycache: lit(['all', 'none', 'metadata'], 'L2ARC caching'),
  sharenfs: OnOff('NFS sharing (default options)'),
  sharesmb: OnOff('SMB sharing (default options)'),
  redundant_metadata: lit(['all', 'most', 'some', 'none'], 'redundancy of metadata (OpenZFS)'),
  dnodesize: lit(['legacy', 'auto', '1k', '2k', '4k', '8k', '16k'], 'dnode size (OpenZFS)'),
  special_small_blocks: Size,
} satisfies Record<string, TSchema>;

/** Only at creation time. */
export const CREATE_ONLY = {
  casesensitivity: lit(['sensitive', 'insensitive', 'mixed'], 'file name case sensitivity (creation only)'),
  normalization: lit(['none', 'formC', 'formD', 'formKC', 'formKD'], 'unicode normalization (creation only)'),
  utf8only: OnOff('reject non-UTF-8 file names (creation only)'),
} satisfies Record<string, TSchema>;

export const DatasetProperties = Type.Partial(Type.Object(SETTABLE), {
  additionalProperties: false,
  description: 'native dataset properties; each is validated against its domain',
});

export const DatasetCreateProperties = Type.Partial(Type.Object({ ...SETTABLE, ...CREATE_ONLY }), {
  additionalProperties: false,
  description: 'native dataset properties at creation',
});

export const PoolProperties = Type.Object(
  {
    ashift: Type.Optional(Type.Integer({ minimum: 9, maximum: 16, description: 'log2 of the sector size' })),
    autoexpand: Type.Optional(OnOff('grow when devices grow')),
    autoreplace: Type.Optional(OnOff('replace a device found in the same physical slot')),
    autotrim: Type.Optional(OnOff('TRIM freed space automatically (OpenZFS)')),
    failmode: Type.Optional(lit(['wait', 'continue', 'panic'], 'behaviour on catastrophic failure')),
  },
  { additionalProperties: false, description: 'pool properties' },
);

export type DatasetPropertiesT = Static<typeof DatasetCreateProperties>;
export type PoolPropertiesT = Static<typeof PoolProperties>;
export type UserPropertiesT = Static<typeof UserProperties>;

const OPENZFS_ONLY_PROPS = new Set([
  'relatime',
  'sync',
  'acltype',
  'redundant_metadata',
  'dnodesize',
  'special_small_blocks',
  'autotrim',
]);

/** Refuse values the detected dialect does not have, before anything runs. */
export function checkDialect(d: Dialect, props: Record<string, unknown> | undefined): void {
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined) continue;
    if (OPENZFS_ONLY_PROPS.has(k) && !d.properties.has(k)) {
      throw invalid(`property ${k} is not supported by ${d.name}`, { property: k, dialect: d.name });
    }
    if (k === 'compression' && !d.compression.includes(String(v))) {
      throw invalid(`compression=${v} is not supported by ${d.name}`, { property: k, dialect: d.name });
    }
    if (k === 'checksum' && !d.checksum.includes(String(v))) {
      throw invalid(`checksum=${v} is not supported by ${d.name}`, { property: k, dialect: d.name });
    }
    if (k === 'xattr' && (v === 'sa' || v === 'dir') && d.name !== 'openzfs') {
      throw invalid(`xattr=${v} is not supported by ${d.name}`, { property: k, dialect: d.name });
    }
  }
}

/** `{compression: 'lz4', copies: 2}` → ['compression=lz4', 'copies=2'], in a stable order. */
export function propertyArgs(props: Record<string, unknown> | undefined): string[] {
  return Object.entries(props ?? {})
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${String(v)}`);
}
