/**
 * Desired state of the backup subsystem: the schemas are the types (STYLE.md convention 2).
 * Every object is stored in LMDB (`config` db, keys `backup/<kind>/<name>`) without secrets and
 * rendered to Bacula resources by `render-*.ts`. Values reach Bacula config files only through
 * the renderer's quoting, so the patterns below exist to give callers early, precise errors;
 * `bacula-dir -t` stays the final judge of what Bacula accepts.
 */
import { type Static, Type } from '@sinclair/typebox';
import { format } from '../formats.js';

/** A Bacula name of at most `max` characters (`what`: "a backup resource name"), its rules in words. */
function baculaName(what: string, plural: string, max: number, description: string, options = {}) {
  return format({
    pattern: `^[A-Za-z0-9][A-Za-z0-9._-]{0,${max - 1}}$`,
    example: 'nightly',
    description,
    errorMessage: `${what} is a letter or digit, then letters, digits and . _ - (at most ${max})`,
    rules: [
      { minLength: 1, message: `${what} may not be empty` },
      { pattern: '^\\S*$', message: `${plural} may not contain spaces` },
      { pattern: '^[A-Za-z0-9]', message: `${what} starts with a letter or digit` },
      { pattern: '^[A-Za-z0-9._-]*$', message: `${what} may contain only letters, digits and . _ -` },
      { maxLength: max, message: `${what} has at most ${max} characters` },
    ],
    options,
  });
}

/** Bacula resource names: kept to a portable subset (Bacula itself allows a few more characters). */
export const BaculaName = baculaName(
  'a backup resource name',
  'backup resource names',
  64,
  'resource name: letters, digits, dot, dash, underscore (max 64)',
);

/** Absolute path as stored in config files: no control characters, no double quote. */
export const AbsPath = format({
  example: '/srv/data',
  pattern: '^/[^"\\u0000-\\u001f\\u007f]*$',
  maxLength: 4096,
  description: 'absolute path (spaces and UTF-8 allowed; no double quote or control characters)',
  errorMessage: 'a path is absolute, without double quotes or control characters',
  rules: [
    { pattern: '^/', message: 'a path is absolute: it starts with /' },
    { pattern: '^[^"]*$', message: 'a path may not contain a double quote' },
    {
      pattern: '^[^\\u0000-\\u001f\\u007f]*$',
      message: 'a path may not contain control characters (newline, tab…)',
    },
    { maxLength: 4096, message: 'a path has at most 4096 characters' },
  ],
});

export const Password = format({
  pattern: '^[A-Za-z0-9!#$%&()*+,./:;<=>?@\\[\\]^_`{|}~-]{12,128}$',
  description:
    'daemon password (12–128 printable characters, no quotes, backslash or spaces); never stored in LMDB',
  errorMessage: 'a daemon password is 12 to 128 printable characters without quotes, backslash or spaces',
  rules: [
    { minLength: 12, message: 'a daemon password has at least 12 characters' },
    { maxLength: 128, message: 'a daemon password has at most 128 characters' },
    { pattern: '^\\S*$', message: 'a daemon password may not contain spaces' },
    {
      pattern: '^[^"\'\\\\]*$',
      message: 'a daemon password may not contain quotes or a backslash',
    },
  ],
});

/** A host name or IP address as Bacula's config takes it. */
const HostAddress = (description: string, options = {}) =>
  format({
    pattern: '^[A-Za-z0-9.:-]{1,253}$',
    example: '127.0.0.1',
    description,
    errorMessage: 'a host name or IP address: letters, digits and . : - (1 to 253 characters, no spaces)',
    options,
  });

/** A Bacula media type or label prefix: letters, digits and . _ -. */
const Token = (what: string, max: number, description: string) =>
  format({
    pattern: `^[A-Za-z0-9._-]{1,${max}}$`,
    description,
    errorMessage: `${what} is 1 to ${max} letters, digits and . _ - (no spaces)`,
  });

export const SettingsSchema = Type.Object(
  {
    directorName: baculaName(
      'a director name',
      'director names',
      60,
      'base name: daemons are <name>-dir, <name>-sd, <name>-fd',
      { default: 'calypso' },
    ),
    address: HostAddress('address the director, storage and file daemons of the appliance listen on', {
      default: '127.0.0.1',
    }),
    dirPort: Type.Integer({ minimum: 1, maximum: 65535, default: 9101, description: 'director port' }),
    fdPort: Type.Integer({ minimum: 1, maximum: 65535, default: 9102, description: 'file daemon port' }),
    sdPort: Type.Integer({ minimum: 1, maximum: 65535, default: 9103, description: 'storage daemon port' }),
    maxConcurrentJobs: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 20,
      description: 'director-wide job limit',
    }),
  },
  { additionalProperties: false },
);
export type Settings = Static<typeof SettingsSchema>;

export const ClientSchema = Type.Object(
  {
    name: BaculaName,
    address: HostAddress('host name or IP of the file daemon'),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 9102, description: 'file daemon port' }),
    fileRetentionDays: Type.Integer({
      minimum: 1,
      maximum: 36500,
      default: 60,
      description: 'File records kept (days)',
    }),
    jobRetentionDays: Type.Integer({
      minimum: 1,
      maximum: 36500,
      default: 180,
      description: 'Job records kept (days)',
    }),
    autoPrune: Type.Boolean({ default: true, description: 'prune expired records after each job' }),
    maxConcurrentJobs: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 5,
      description: 'jobs at once on this client',
    }),
    description: Type.Optional(Type.String({ maxLength: 200, description: 'free text for people' })),
    restoreRoots: Type.Optional(
      Type.Array(AbsPath, {
        minItems: 1,
        maxItems: 16,
        description:
          'directories an operator may restore into on this client (default /tmp/bacula-restores); elsewhere needs the admin role',
      }),
    ),
  },
  { additionalProperties: false },
);
export type Client = Static<typeof ClientSchema>;

export const FilesetSchema = Type.Object(
  {
    name: BaculaName,
    include: Type.Array(AbsPath, { minItems: 1, maxItems: 256, description: 'paths to back up' }),
    exclude: Type.Array(AbsPath, { default: [], maxItems: 256, description: 'paths left out' }),
    excludePatterns: Type.Array(
      format({
        pattern: '^[^"\\u0000-\\u001f\\u007f]{1,256}$',
        description: 'shell wildcard, e.g. *.tmp',
        errorMessage: 'a wildcard is 1 to 256 characters without double quotes or control characters',
      }),
      { default: [], maxItems: 64, description: 'file name wildcards left out (Bacula WildFile)' },
    ),
    signature: Type.Union([Type.Literal('MD5'), Type.Literal('SHA1'), Type.Literal('none')], {
      default: 'MD5',
      description: 'per-file checksum recorded in the catalog',
    }),
    compression: Type.Union(
      ['none', 'GZIP', 'GZIP1', 'GZIP6', 'GZIP9', 'LZO'].map((c) => Type.Literal(c)),
      { default: 'none', description: 'software compression on the client' },
    ),
    sparse: Type.Boolean({ default: true, description: 'keep holes of sparse files' }),
    oneFs: Type.Boolean({ default: true, description: 'stay on the file system of each included path' }),
    hardLinks: Type.Boolean({
      default: true,
      description: 'back up hard-linked files once and restore the links',
    }),
    acl: Type.Boolean({ default: false, description: 'POSIX ACLs' }),
    xattr: Type.Boolean({ default: false, description: 'extended attributes' }),
    noAtime: Type.Boolean({ default: false, description: 'open files with O_NOATIME' }),
  },
  { additionalProperties: false },
);
export type Fileset = Static<typeof FilesetSchema>;

export const LevelSchema = Type.Union(
  [Type.Literal('Full'), Type.Literal('Incremental'), Type.Literal('Differential')],
  { description: 'backup level' },
);
export type Level = Static<typeof LevelSchema>;

export const ScheduleSchema = Type.Object(
  {
    name: BaculaName,
    runs: Type.Array(
      Type.Object(
        {
          level: Type.Optional(LevelSchema),
          pool: Type.Optional(BaculaName),
          when: format({
            pattern: '^[A-Za-z0-9 :,/-]{1,128}$',
            errorMessage:
              'a schedule time uses letters, digits, spaces and : , / - (e.g. "mon-fri at 23:05"), at most 128',
            description:
              'Bacula date-time specification, e.g. "mon-fri at 23:05", "1st sun at 02:00", "hourly at 0:15"',
          }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 32, description: 'Run lines' },
    ),
    enabled: Type.Boolean({ default: true, description: 'a disabled schedule starts nothing' }),
  },
  { additionalProperties: false },
);
export type Schedule = Static<typeof ScheduleSchema>;

export const PoolSchema = Type.Object(
  {
    name: BaculaName,
    kind: Type.Union([Type.Literal('disk'), Type.Literal('tape')], {
      default: 'disk',
      description: 'disk pools label volumes automatically; tape pools use labelled cartridges',
    }),
    storage: Type.Optional(BaculaName),
    labelFormat: Type.Optional(
      Token('a volume label prefix', 40, 'volume name prefix (disk; default "<pool>-")'),
    ),
    maxVolumeBytes: Type.Optional(Type.Integer({ minimum: 1048576, description: 'bytes per volume' })),
    maxVolumes: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100000, description: 'volumes in the pool' }),
    ),
    maxVolumeJobs: Type.Optional(Type.Integer({ minimum: 1, description: 'jobs written per volume' })),
    volumeRetentionDays: Type.Integer({
      minimum: 1,
      maximum: 36500,
      default: 365,
      description: 'days before recycling',
    }),
    recycle: Type.Boolean({ default: true, description: 'reuse purged volumes' }),
    autoPrune: Type.Boolean({ default: true, description: 'prune expired volumes automatically' }),
    nextPool: Type.Optional(BaculaName),
    recyclePool: Type.Optional(BaculaName),
    scratchPool: Type.Optional(BaculaName),
  },
  { additionalProperties: false },
);
export type Pool = Static<typeof PoolSchema>;

const DiskStorageSchema = Type.Object(
  {
    name: BaculaName,
    type: Type.Literal('disk'),
    path: Type.Optional(AbsPath),
    devices: Type.Integer({
      minimum: 1,
      maximum: 16,
      default: 2,
      description: 'file devices (parallel jobs)',
    }),
    mediaType: Type.Optional(Token('a media type', 64, 'default File-<name>')),
    maxConcurrentJobs: Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'jobs at once' }),
  },
  {
    additionalProperties: false,
    description: 'directory of file volumes (default under srv/calypso/backups)',
  },
);

const TapeStorageSchema = Type.Object(
  {
    name: BaculaName,
    type: Type.Literal('tape'),
    mediaType: Token('a media type', 64, 'e.g. LTO-8'),
    changerDevice: AbsPath,
    changerId: Type.Optional(
      format({
        pattern: '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$',
        description:
          'stable identity of the changer (by-id name or WWN): its lock key, shared with tape moves',
        errorMessage:
          'a changer id is letters, digits and . _ : @ - (at most 128), starting with a letter or digit',
      }),
    ),
    changerCommand: Type.Optional(
      format({
        pattern: '^/[^"\\u0000-\\u001f]{1,512}$',
        description: 'default: Debian mtx-changer',
        errorMessage: 'a changer command is an absolute path without double quotes or control characters',
      }),
    ),
    drives: Type.Array(
      Type.Object(
        {
          device: AbsPath,
          index: Type.Integer({ minimum: 0, maximum: 255, description: 'Drive Index (mtx numbering)' }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 64, description: 'tape drives (stable /dev/tape/by-id/*-nst paths)' },
    ),
    maxConcurrentJobs: Type.Integer({ minimum: 1, maximum: 100, default: 1, description: 'jobs at once' }),
  },
  { additionalProperties: false, description: 'an autochanger with its drives' },
);

export const StorageSchema = Type.Union([DiskStorageSchema, TapeStorageSchema], {
  description: 'a storage device on the appliance storage daemon',
});
export type Storage = Static<typeof StorageSchema>;
export type DiskStorage = Static<typeof DiskStorageSchema>;
export type TapeStorage = Static<typeof TapeStorageSchema>;

export const JobSchema = Type.Object(
  {
    name: BaculaName,
    type: Type.Union(
      [
        Type.Literal('backup'),
        Type.Literal('restore'),
        Type.Literal('verify'),
        Type.Literal('copy'),
        Type.Literal('migrate'),
      ],
      { default: 'backup', description: 'job type' },
    ),
    level: Type.Optional(
      Type.Union(
        [
          'Full',
          'Incremental',
          'Differential',
          'VolumeToCatalog',
          'DiskToCatalog',
          'Catalog',
          'Data',
          'InitCatalog',
        ].map((l) => Type.Literal(l)),
        { description: 'default level (verify jobs use the verify levels)' },
      ),
    ),
    client: Type.Optional(BaculaName),
    fileset: Type.Optional(BaculaName),
    schedule: Type.Optional(BaculaName),
    storage: Type.Optional(BaculaName),
    pool: BaculaName,
    fullPool: Type.Optional(BaculaName),
    incrementalPool: Type.Optional(BaculaName),
    differentialPool: Type.Optional(BaculaName),
    nextPool: Type.Optional(BaculaName),
    verifyJob: Type.Optional(BaculaName),
    selection: Type.Optional(
      Type.Union(
        ['PoolUncopiedJobs', 'OldestVolume', 'PoolOccupancy', 'PoolTime', 'Job', 'Client'].map((s) =>
          Type.Literal(s),
        ),
        {
          description: 'copy/migrate: which jobs to take',
        },
      ),
    ),
    selectionPattern: Type.Optional(
      format({
        pattern: '^[^"\\u0000-\\u001f]{1,256}$',
        description: 'regex for Job/Client selection',
        errorMessage:
          'a selection pattern is 1 to 256 characters without double quotes or control characters',
      }),
    ),
    priority: Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'lower runs first' }),
    accurate: Type.Boolean({ default: false, description: 'track deletions and renames in incrementals' }),
    spoolAttributes: Type.Boolean({ default: true, description: 'spool file attributes, insert at job end' }),
    maxBandwidth: Type.Optional(Type.Integer({ minimum: 1024, description: 'bytes per second cap' })),
    where: Type.Optional(AbsPath),
    enabled: Type.Boolean({ default: true, description: 'a disabled job is not scheduled' }),
  },
  { additionalProperties: false },
);
export type Job = Static<typeof JobSchema>;

export interface DesiredState {
  settings: Settings;
  clients: Client[];
  filesets: Fileset[];
  schedules: Schedule[];
  pools: Pool[];
  storages: Storage[];
  jobs: Job[];
}

export const KINDS = ['client', 'fileset', 'schedule', 'pool', 'storage', 'job'] as const;
export type Kind = (typeof KINDS)[number];

export const DEFAULT_SETTINGS: Settings = {
  directorName: 'calypso',
  address: '127.0.0.1',
  dirPort: 9101,
  fdPort: 9102,
  sdPort: 9103,
  maxConcurrentJobs: 20,
};

/** Daemon resource names derived from the settings' base name. */
export function daemonNames(s: Settings) {
  return { dir: `${s.directorName}-dir`, sd: `${s.directorName}-sd`, fd: `${s.directorName}-fd` };
}

export function emptyState(settings: Settings = DEFAULT_SETTINGS): DesiredState {
  return { settings, clients: [], filesets: [], schedules: [], pools: [], storages: [], jobs: [] };
}
