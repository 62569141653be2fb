/**
 * Constrained identifiers of the ZFS area, shared by every method (STYLE.md convention 2).
 *
 * The rules follow OpenZFS `zfs_namecheck.c` (pool_namecheck, entity_namecheck), narrowed on
 * purpose: no spaces (ZFS allows them, nothing on the appliance needs them and they make every
 * log line ambiguous), no component that starts with `-` or `.` (a leading dash would read as an
 * option to a tool that does not honour `--`), and one `@` (snapshot) or none. Values that pass
 * these schemas are still passed to the tools only as argv elements.
 */
import { type Static, Type } from '@sinclair/typebox';

/** ZFS_MAX_DATASET_NAME_LEN is 256 including the terminating NUL. */
export const MAX_NAME = 255;
/** Appliance policy: pool names short enough for every UI and log line. */
export const MAX_POOL_NAME = 64;

/** One path component of a dataset or a snapshot name. */
const COMPONENT = '[A-Za-z0-9_][A-Za-z0-9_.:-]*';
/**
 * Pool names start with a letter; `mirror*`, `raidz*`, `draid*`, `spare*` and `log` are reserved by
 * zpool, `c[0-9]*` is rejected by pool_namecheck (Solaris disk names); `cache`, `special` and `dedup`
 * are vdev-class keywords of `zpool create` and would be read as such.
 */
const POOL =
  '(?!(?:mirror|raidz|draid|spare)|(?:log|cache|special|dedup|none|default)(?![A-Za-z0-9_.:-])|c[0-9])[A-Za-z][A-Za-z0-9_.:-]*';
const DATASET = `${POOL}(?:/${COMPONENT})*`;

export const POOL_RE = new RegExp(`^${POOL}$`);
export const DATASET_RE = new RegExp(`^${DATASET}$`);
export const SNAPSHOT_RE = new RegExp(`^${DATASET}@${COMPONENT}$`);
export const COMPONENT_RE = new RegExp(`^${COMPONENT}$`);

export const PoolName = Type.String({
  pattern: `^${POOL}$`,
  minLength: 1,
  maxLength: MAX_POOL_NAME,
  description:
    'pool name: a letter, then letters, digits, _ . : -; not a vdev keyword (mirror*, raidz*, draid*, spare*, log, cache, special, dedup)',
});

export const DatasetName = Type.String({
  pattern: `^${DATASET}$`,
  minLength: 1,
  maxLength: MAX_NAME,
  description:
    'dataset (filesystem or volume) name: pool[/component]*; components use letters, digits, _ . : -',
});

export const SnapshotName = Type.String({
  pattern: `^${DATASET}@${COMPONENT}$`,
  minLength: 3,
  maxLength: MAX_NAME,
  description: 'full snapshot name: dataset@name',
});

export const SnapshotShortName = Type.String({
  pattern: `^${COMPONENT}$`,
  minLength: 1,
  maxLength: 200,
  description: 'the part of a snapshot name after @',
});

export const HoldTag = Type.String({
  pattern: `^${COMPONENT}$`,
  minLength: 1,
  maxLength: 64,
  description: 'hold tag (letters, digits, _ . : -)',
});

/**
 * A vdev: a device path from disk.list (/dev/…, usually /dev/disk/by-id/…) or the absolute path of
 * a file (file vdevs for tests and trials). No `..` component, nothing that is not a plain path char.
 */
export const DevicePath = Type.String({
  pattern: '^/(?!.*(?:^|/)\\.\\.?(?:/|$))[A-Za-z0-9_.:+@=,/-]+$',
  minLength: 2,
  maxLength: 1024,
  description: 'absolute device path (/dev/disk/by-id/…) or absolute path of a file vdev',
});

/** Absolute path used as a mountpoint or altroot. */
export const AbsolutePath = Type.String({
  pattern: '^/(?!.*(?:^|/)\\.\\.?(?:/|$))[A-Za-z0-9_.:+@=,/-]*$',
  minLength: 1,
  maxLength: 1024,
  description: 'absolute path',
});

/** User property names: must contain a colon (OpenZFS zfsprops(7) "User Properties"). */
export const USER_PROPERTY_PATTERN = '^[a-z0-9_.-]+:[a-z0-9_.:-]*$';
export const UserPropertyValue = Type.String({
  maxLength: 1024,
  pattern: '^[^\\x00-\\x1f\\x7f]*$',
  description: 'user property value: printable text, no control characters',
});

export const UserProperties = Type.Record(
  Type.String({ pattern: USER_PROPERTY_PATTERN, maxLength: 256 }),
  UserPropertyValue,
  {
    additionalProperties: false,
    description: 'user properties (names contain a colon, e.g. calypso:role)',
  },
);

export type PoolNameT = Static<typeof PoolName>;
export type DatasetNameT = Static<typeof DatasetName>;
export type SnapshotNameT = Static<typeof SnapshotName>;

export function isPoolName(s: string): boolean {
  return s.length <= MAX_POOL_NAME && POOL_RE.test(s);
}
export function isDatasetName(s: string): boolean {
  return s.length <= MAX_NAME && DATASET_RE.test(s);
}
export function isSnapshotName(s: string): boolean {
  return s.length <= MAX_NAME && SNAPSHOT_RE.test(s);
}

/** `pool/a/b@snap` → {dataset: 'pool/a/b', snapshot: 'snap'}. */
export function splitSnapshot(full: string): { dataset: string; snapshot: string } {
  const at = full.indexOf('@');
  if (at < 0) return { dataset: full, snapshot: '' };
  return { dataset: full.slice(0, at), snapshot: full.slice(at + 1) };
}

export function poolOf(name: string): string {
  const cut = name.search(/[/@#]/);
  return cut < 0 ? name : name.slice(0, cut);
}
