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
import { format } from '../formats.js';

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

/** Every `/` (or `@`) is followed by a letter, digit or _: no empty part, no part starting - or . */
const PART_STARTS = (sep: string) => `^(?!.*[${sep}](?![A-Za-z0-9_]))`;
const NO_SPACES = '^\\S*$';
/** The reserved beginnings of a pool name, as one lookahead (the first alternative of POOL). */
const NOT_RESERVED =
  '^(?!(?:mirror|raidz|draid|spare)|(?:log|cache|special|dedup|none|default)(?![A-Za-z0-9_.:-])|c[0-9])';
const RESERVED_WORDS =
  'may not start with mirror, raidz, draid, spare or c and a digit, and may not be log, cache, special, dedup, none or default (zpool reads these as vdev keywords)';

export const PoolName = format({
  pattern: `^${POOL}$`,
  minLength: 1,
  maxLength: MAX_POOL_NAME,
  example: 'tank',
  description:
    'pool name: a letter, then letters, digits, _ . : -; not a vdev keyword (mirror*, raidz*, draid*, spare*, log, cache, special, dedup)',
  errorMessage: `a pool name is a letter, then letters, digits or _ . : -; it ${RESERVED_WORDS}`,
  rules: [
    { minLength: 1, message: 'a pool name may not be empty' },
    { pattern: NO_SPACES, message: 'pool names may not contain spaces' },
    {
      pattern: '^[^/@#]*$',
      message: 'a pool name may not contain / @ or # (those name datasets, snapshots, bookmarks)',
    },
    { pattern: '^[A-Za-z]', message: 'a pool name starts with a letter' },
    { pattern: '^[A-Za-z0-9_.:-]*$', message: 'a pool name may contain only letters, digits and _ . : -' },
    { pattern: NOT_RESERVED, message: `a pool name ${RESERVED_WORDS}` },
    { maxLength: MAX_POOL_NAME, message: `a pool name has at most ${MAX_POOL_NAME} characters` },
  ],
});

export const DatasetName = format({
  pattern: `^${DATASET}$`,
  minLength: 1,
  maxLength: MAX_NAME,
  example: 'tank/data',
  description:
    'dataset (filesystem or volume) name: pool[/component]*; components use letters, digits, _ . : -',
  errorMessage: 'a dataset name is pool[/part]*: parts of letters, digits and _ . : -',
  rules: [
    { minLength: 1, message: 'a dataset name may not be empty' },
    { pattern: NO_SPACES, message: 'dataset names may not contain spaces' },
    { pattern: '^[^@]*$', message: 'a dataset name may not contain @ (dataset@name is a snapshot)' },
    { pattern: '^[^#]*$', message: 'a dataset name may not contain # (dataset#name is a bookmark)' },
    {
      pattern: '^[A-Za-z0-9_.:/-]*$',
      message: 'a dataset name may contain only letters, digits, / and _ . : -',
    },
    { pattern: '^[A-Za-z]', message: 'a dataset name starts with its pool name, which starts with a letter' },
    {
      pattern: NOT_RESERVED,
      message: `a dataset name starts with its pool name, and a pool name ${RESERVED_WORDS}`,
    },
    {
      pattern: PART_STARTS('/'),
      message:
        'each part of a dataset name after / starts with a letter, digit or _ (no empty part, no - or . first)',
    },
    { maxLength: MAX_NAME, message: `a dataset name has at most ${MAX_NAME} characters` },
  ],
});

export const SnapshotName = format({
  pattern: `^${DATASET}@${COMPONENT}$`,
  minLength: 3,
  maxLength: MAX_NAME,
  example: 'tank/data@before-upgrade',
  description: 'full snapshot name: dataset@name',
  errorMessage: 'a snapshot name is dataset@name: letters, digits and _ . : - in each part',
  rules: [
    { pattern: NO_SPACES, message: 'snapshot names may not contain spaces' },
    { pattern: '^[^@]+@[^@]+$', message: 'a snapshot name is dataset@name: one @, with a name on each side' },
    { pattern: '^[^#]*$', message: 'a snapshot name may not contain #' },
    {
      pattern: '^[A-Za-z0-9_.:/@-]*$',
      message: 'a snapshot name may contain only letters, digits, / @ and _ . : -',
    },
    {
      pattern: '^[A-Za-z]',
      message: 'a snapshot name starts with its pool name, which starts with a letter',
    },
    {
      pattern: NOT_RESERVED,
      message: `a snapshot name starts with its pool name, and a pool name ${RESERVED_WORDS}`,
    },
    {
      pattern: PART_STARTS('/@'),
      message:
        'each part of a snapshot name after / or @ starts with a letter, digit or _ (no empty part, no - or . first)',
    },
    { pattern: '^[^@]*[^/@]@', message: 'the dataset part of a snapshot name may not end with /' },
    { maxLength: MAX_NAME, message: `a snapshot name has at most ${MAX_NAME} characters` },
  ],
});

/** A single name component (snapshot short name, hold tag): its rules, in words. */
function componentFormat(what: string, maxLength: number, description: string, example: string) {
  return format({
    pattern: `^${COMPONENT}$`,
    example,
    minLength: 1,
    maxLength,
    description,
    errorMessage: `${what} is letters, digits and _ . : -, starting with a letter, digit or _`,
    rules: [
      { minLength: 1, message: `${what} may not be empty` },
      { pattern: NO_SPACES, message: `${what} may not contain spaces` },
      { pattern: '^[^/@#]*$', message: `${what} may not contain / @ or #` },
      { pattern: '^[A-Za-z0-9_.:-]*$', message: `${what} may contain only letters, digits and _ . : -` },
      { pattern: '^[A-Za-z0-9_]', message: `${what} starts with a letter, digit or _ (not - or .)` },
      { maxLength, message: `${what} has at most ${maxLength} characters` },
    ],
  });
}

export const SnapshotShortName = componentFormat(
  'a snapshot name (after @)',
  200,
  'the part of a snapshot name after @',
  'before-upgrade',
);

export const HoldTag = componentFormat('a hold tag', 64, 'hold tag (letters, digits, _ . : -)', 'keep');

/** The rules of an absolute path, in words (`what`: "a device path", "a path"). */
function pathRules(what: string) {
  return [
    { pattern: '^/', message: `${what} is absolute: it starts with /` },
    { pattern: NO_SPACES, message: `${what} may not contain spaces` },
    {
      pattern: '^[A-Za-z0-9_.:+@=,/-]*$',
      message: `${what} may contain only letters, digits, / and _ . : + @ = , -`,
    },
    { pattern: '^(?!.*(?:^|/)\\.\\.?(?:/|$))', message: `${what} may not contain . or .. parts` },
  ];
}

/**
 * Path patterns: the `.`/`..` lookahead runs before the leading `/`. It used to run after it,
 * which let a dot part right after the root through (`/../etc`, `/.`); the rule said "no `..`
 * component" and now holds for the first part too (test/core/formats.test.ts).
 *
 * A vdev: a device path from disk.list (/dev/…, usually /dev/disk/by-id/…) or the absolute path of
 * a file (file vdevs for tests and trials). No `..` component, nothing that is not a plain path char.
 */
export const DevicePath = format({
  pattern: '^(?!.*(?:^|/)\\.\\.?(?:/|$))/[A-Za-z0-9_.:+@=,/-]+$',
  minLength: 2,
  maxLength: 1024,
  example: '/dev/disk/by-id/wwn-0x5000c500a1b2c3d4',
  description: 'absolute device path (/dev/disk/by-id/…) or absolute path of a file vdev',
  errorMessage: 'a device path is absolute (/dev/disk/by-id/…): letters, digits, / and _ . : + @ = , -',
  rules: [
    ...pathRules('a device path'),
    { minLength: 2, message: 'a device path names a device or file, not /' },
    { maxLength: 1024, message: 'a device path has at most 1024 characters' },
  ],
});

/** Absolute path used as a mountpoint or altroot. */
export const AbsolutePath = format({
  pattern: '^(?!.*(?:^|/)\\.\\.?(?:/|$))/[A-Za-z0-9_.:+@=,/-]*$',
  minLength: 1,
  maxLength: 1024,
  example: '/mnt/data',
  description: 'absolute path',
  errorMessage: 'a path is absolute: letters, digits, / and _ . : + @ = , -, with no . or .. parts',
  rules: [...pathRules('a path'), { maxLength: 1024, message: 'a path has at most 1024 characters' }],
});

/** User property names: must contain a colon (OpenZFS zfsprops(7) "User Properties"). */
export const USER_PROPERTY_PATTERN = '^[a-z0-9_.-]+:[a-z0-9_.:-]*$';
export const UserPropertyValue = format({
  maxLength: 1024,
  pattern: '^[^\\x00-\\x1f\\x7f]*$',
  description: 'user property value: printable text, no control characters',
  errorMessage:
    'a property value is printable text of at most 1024 characters: no newline, tab or other control character',
});

export const UserProperties = Type.Record(
  format({
    pattern: USER_PROPERTY_PATTERN,
    maxLength: 256,
    description: 'user property name',
    errorMessage:
      'a user property name contains a colon (e.g. calypso:role) and uses lower-case letters, digits and _ . : -',
  }),
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
