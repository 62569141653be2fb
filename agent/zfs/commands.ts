/**
 * argv builders for zpool and zfs (pure). The driver runs exactly these lists, and a dry run returns
 * them, so what a dry run shows is what a real call executes.
 *
 * Client values are validated by schema (names.ts) and always appended after `--` where the tool
 * honours it. Exception, on purpose: `zfs set` on zfs-fuse does not parse options, so a `--` there
 * is read as a dataset name ("cannot open '--'"); the property argument is built by us from a
 * closed list and the dataset name cannot start with `-` (schema), so no `--` is needed.
 */
import type { Dialect } from './dialect.js';
import { DATASET_COLUMNS, SNAPSHOT_COLUMNS } from './parse-zfs-list.js';
import { POOL_LIST_COLUMNS } from './parse-zpool-list.js';
import { propertyArgs } from './properties.js';

export type Argv = string[];

const opt = (flag: string, on: boolean | undefined): string[] => (on ? [flag] : []);
const each = (flag: string, values: string[]): string[] => values.flatMap((v) => [flag, v]);

// ---------------------------------------------------------------- pools

export function poolListColumns(d: Dialect): string[] {
  return d.fragmentation
    ? [...POOL_LIST_COLUMNS, 'fragmentation', 'guid']
    : [...POOL_LIST_COLUMNS, 'guid', 'version'];
}

export function zpoolList(d: Dialect, name?: string): Argv {
  return [
    'zpool',
    'list',
    '-H',
    ...opt('-p', d.parsable),
    '-o',
    poolListColumns(d).join(','),
    ...(name ? ['--', name] : []),
  ];
}

export function zpoolStatus(d: Dialect, name?: string): Argv {
  return ['zpool', 'status', '-v', ...d.statusFlags, ...(name ? ['--', name] : [])];
}

/**
 * One I/O sample of `seconds` for the pools (all when none): OpenZFS scripted and exact with the
 * since-import average skipped; zfs-fuse has none of -H -p -y, so it takes two samples and the
 * parser keeps the second.
 */
export function zpoolIostat(d: Dialect, names: string[], seconds: number): Argv {
  return d.parsable
    ? ['zpool', 'iostat', '-H', '-p', '-y', ...(names.length ? ['--', ...names] : []), String(seconds), '1']
    : ['zpool', 'iostat', ...(names.length ? ['--', ...names] : []), String(seconds), '2'];
}

export function zpoolGet(d: Dialect, name: string, props = 'all'): Argv {
  // zfs-fuse's `zpool get` has neither -H nor -o: its aligned table is parsed instead
  return d.zpoolGetScripted
    ? ['zpool', 'get', '-H', '-p', '-o', 'name,property,value,source', props, '--', name]
    : ['zpool', 'get', props, name];
}

export interface VdevGroup {
  type: 'stripe' | 'mirror' | 'raidz1' | 'raidz2' | 'raidz3';
  disks: string[];
}

export interface Topology {
  data: VdevGroup[];
  log?: VdevGroup[];
  special?: VdevGroup[];
  dedup?: VdevGroup[];
  cache?: string[];
  spares?: string[];
}

function groupArgs(groups: VdevGroup[]): string[] {
  return groups.flatMap((g) => (g.type === 'stripe' ? g.disks : [g.type, ...g.disks]));
}

export function topologyArgs(t: Topology): string[] {
  const out = groupArgs(t.data);
  if (t.special?.length) out.push('special', ...groupArgs(t.special));
  if (t.dedup?.length) out.push('dedup', ...groupArgs(t.dedup));
  if (t.log?.length) out.push('log', ...groupArgs(t.log));
  if (t.cache?.length) out.push('cache', ...t.cache);
  if (t.spares?.length) out.push('spare', ...t.spares);
  return out;
}

export function topologyDisks(t: Topology): string[] {
  return [
    ...[...t.data, ...(t.log ?? []), ...(t.special ?? []), ...(t.dedup ?? [])].flatMap((g) => g.disks),
    ...(t.cache ?? []),
    ...(t.spares ?? []),
  ];
}

export interface PoolCreateArgs {
  name: string;
  topology: Topology;
  properties?: Record<string, unknown>;
  filesystemProperties?: Record<string, unknown>;
  mountpoint?: string;
  altroot?: string;
  force?: boolean;
}

export function zpoolCreate(p: PoolCreateArgs): Argv {
  return [
    'zpool',
    'create',
    ...opt('-f', p.force),
    ...each('-o', propertyArgs(p.properties)),
    ...each('-O', propertyArgs(p.filesystemProperties)),
    ...(p.mountpoint ? ['-m', p.mountpoint] : []),
    ...(p.altroot ? ['-R', p.altroot] : []),
    '--',
    p.name,
    ...topologyArgs(p.topology),
  ];
}

export const zpoolDestroy = (name: string, force?: boolean): Argv => [
  'zpool',
  'destroy',
  ...opt('-f', force),
  '--',
  name,
];
export const zpoolExport = (name: string, force?: boolean): Argv => [
  'zpool',
  'export',
  ...opt('-f', force),
  '--',
  name,
];

export interface PoolImportArgs {
  pool?: string;
  newName?: string;
  dirs?: string[];
  altroot?: string;
  force?: boolean;
}

export function zpoolImport(p: PoolImportArgs): Argv {
  return [
    'zpool',
    'import',
    ...each('-d', p.dirs ?? []),
    ...(p.altroot ? ['-R', p.altroot] : []),
    ...opt('-f', p.force),
    ...(p.pool ? ['--', p.pool, ...(p.newName ? [p.newName] : [])] : []),
  ];
}

export function zpoolScrub(name: string, action: 'start' | 'stop' | 'pause' = 'start'): Argv {
  const flag = action === 'stop' ? ['-s'] : action === 'pause' ? ['-p'] : [];
  return ['zpool', 'scrub', ...flag, '--', name];
}

export const zpoolReplace = (pool: string, device: string, newDevice?: string, force?: boolean): Argv => [
  'zpool',
  'replace',
  ...opt('-f', force),
  '--',
  pool,
  device,
  ...(newDevice ? [newDevice] : []),
];
export const zpoolAttach = (pool: string, device: string, newDevice: string, force?: boolean): Argv => [
  'zpool',
  'attach',
  ...opt('-f', force),
  '--',
  pool,
  device,
  newDevice,
];
export const zpoolDetach = (pool: string, device: string): Argv => ['zpool', 'detach', '--', pool, device];
export const zpoolOnline = (pool: string, device: string, expand?: boolean): Argv => [
  'zpool',
  'online',
  ...opt('-e', expand),
  '--',
  pool,
  device,
];
export const zpoolOffline = (pool: string, device: string, temporary?: boolean): Argv => [
  'zpool',
  'offline',
  ...opt('-t', temporary),
  '--',
  pool,
  device,
];
export const zpoolClear = (pool: string, device?: string): Argv => [
  'zpool',
  'clear',
  '--',
  pool,
  ...(device ? [device] : []),
];

// ---------------------------------------------------------------- datasets

export function zfsListDatasets(d: Dialect, root?: string, depth?: number): Argv {
  return [
    'zfs',
    'list',
    '-H',
    ...opt('-p', d.parsable),
    '-o',
    DATASET_COLUMNS.join(','),
    '-t',
    'filesystem,volume',
    ...(root ? [...(depth === undefined ? ['-r'] : ['-d', String(depth)]), '--', root] : []),
  ];
}

export function zfsGetAll(name: string): Argv {
  // `zfs get -p` exists in both dialects and is exact
  return ['zfs', 'get', '-H', '-p', '-o', 'name,property,value,source', 'all', '--', name];
}

export function zfsGet(names: string[], props: string[]): Argv {
  return ['zfs', 'get', '-H', '-p', '-o', 'name,property,value,source', props.join(','), '--', ...names];
}

export function zfsCreate(name: string, props: Record<string, unknown> | undefined, parents?: boolean): Argv {
  return ['zfs', 'create', ...opt('-p', parents), ...each('-o', propertyArgs(props)), '--', name];
}

export interface ZvolCreateArgs {
  name: string;
  size: string;
  sparse?: boolean;
  blocksize?: string;
  properties?: Record<string, unknown>;
}

export function zvolCreate(p: ZvolCreateArgs): Argv {
  return [
    'zfs',
    'create',
    ...opt('-s', p.sparse),
    ...(p.blocksize ? ['-b', p.blocksize] : []),
    '-V',
    p.size,
    ...each('-o', propertyArgs(p.properties)),
    '--',
    p.name,
  ];
}

/** One `zfs set` per property: zfs-fuse takes one pair per call; the same argv suits OpenZFS. */
export function zfsSet(name: string, props: Record<string, unknown>): Argv[] {
  return propertyArgs(props).map((kv) => ['zfs', 'set', kv, name]);
}

export const zfsInherit = (name: string, prop: string): Argv => ['zfs', 'inherit', prop, '--', name];
export const zfsUnmount = (name: string): Argv => ['zfs', 'unmount', '--', name];

export function zfsDestroy(
  d: Dialect,
  name: string,
  opts: { recursive?: boolean; filesystem?: boolean } = {},
): Argv[] {
  const destroy = ['zfs', 'destroy', ...opt('-r', opts.recursive), '--', name];
  return d.unmountBeforeDestroy && opts.filesystem ? [zfsUnmount(name), destroy] : [destroy];
}

// ---------------------------------------------------------------- snapshots

export function zfsListSnapshots(d: Dialect, dataset?: string): Argv {
  return [
    'zfs',
    'list',
    '-H',
    ...opt('-p', d.parsable),
    '-t',
    'snapshot',
    '-o',
    SNAPSHOT_COLUMNS.join(','),
    // `-d 1 ds` lists the dataset's own snapshots in both dialects (zfs-fuse refuses `-t snapshot ds`)
    ...(dataset ? ['-d', '1', '--', dataset] : []),
  ];
}

export function zfsSnapshot(full: string, recursive?: boolean, props?: Record<string, unknown>): Argv {
  return ['zfs', 'snapshot', ...opt('-r', recursive), ...each('-o', propertyArgs(props)), '--', full];
}

export const zfsDestroySnapshot = (full: string, recursive?: boolean): Argv => [
  'zfs',
  'destroy',
  ...opt('-r', recursive),
  '--',
  full,
];

export const zfsRollback = (full: string, destroyNewer?: boolean): Argv => [
  'zfs',
  'rollback',
  ...opt('-r', destroyNewer),
  '--',
  full,
];

export function zfsClone(
  snapshot: string,
  target: string,
  props?: Record<string, unknown>,
  parents?: boolean,
): Argv {
  return ['zfs', 'clone', ...opt('-p', parents), ...each('-o', propertyArgs(props)), '--', snapshot, target];
}

export const zfsHold = (tag: string, full: string, recursive?: boolean): Argv => [
  'zfs',
  'hold',
  ...opt('-r', recursive),
  '--',
  tag,
  full,
];
export const zfsRelease = (tag: string, full: string, recursive?: boolean): Argv => [
  'zfs',
  'release',
  ...opt('-r', recursive),
  '--',
  tag,
  full,
];
export const zfsHolds = (full: string): Argv => ['zfs', 'holds', '-H', '--', full];

// ---------------------------------------------------------------- replication

export const zfsSendEstimate = (to: string, from?: string): Argv => [
  'zfs',
  'send',
  '-nvP',
  ...(from ? ['-i', from] : []),
  '--',
  to,
];
export const zfsSend = (to: string, from?: string): Argv => [
  'zfs',
  'send',
  ...(from ? ['-i', from] : []),
  '--',
  to,
];
export const zfsSendResume = (token: string): Argv => ['zfs', 'send', '-t', token];

export function zfsReceive(
  d: Dialect,
  target: string,
  opts: { force?: boolean; resumable?: boolean } = {},
): Argv {
  return [
    'zfs',
    'receive',
    ...opt('-F', opts.force),
    ...opt('-s', opts.resumable && d.resumableReceive),
    '--',
    target,
  ];
}

export const zfsResumeToken = (target: string): Argv => [
  'zfs',
  'get',
  '-H',
  '-o',
  'value',
  'receive_resume_token',
  '--',
  target,
];
