/**
 * ZFS dialects: which flags and features the installed tools have, chosen by detection rather
 * than by guessing from the distribution.
 *
 * - OpenZFS 2.1–2.3 (the appliance's production target): `zfs version` answers; `-p` on list/get,
 *   `zpool get -H`, `zpool status -P -p`, `zfs send -nvP`, resumable receive (`receive -s`,
 *   `send -t`), scrub pause (`scrub -p`), `zfs holds -H`, snapshot ranges (`a%b`), zvols.
 * - zfs-fuse 0.7 (pool version 23; the test machine): `zfs version` is an unknown command; no `list
 *   -p`, no `zpool get -H`, no send dry-run, no resumable receive, no scrub pause, `zfs holds` needs
 *   a missing pyzfs.py, zvols abort with "Function not implemented", and destroying a mounted
 *   filesystem fails with "dataset is busy" until it is unmounted first (all recorded on this
 *   machine, see test/fixtures/zfs/zfs-fuse-0.7/README.md).
 */
import type { Runner } from '../runner.js';

export interface Dialect {
  name: 'openzfs' | 'zfs-fuse';
  version?: string;
  /** `zfs list -p`, `zpool list -p`: exact numbers. */
  parsable: boolean;
  /** `zpool get -H -p -o name,property,value,source`. */
  zpoolGetScripted: boolean;
  /** `zpool status -P` (full device paths) and `-p` (exact counters). */
  statusFlags: string[];
  /** `zpool list` has a fragmentation column. */
  fragmentation: boolean;
  /** `zfs send -nvP` prints a size estimate. */
  sendEstimate: boolean;
  /** `zfs receive -s` and `zfs send -t <token>`. */
  resumableReceive: boolean;
  /** `zpool scrub -p`. */
  scrubPause: boolean;
  /** `zfs holds -H`. */
  holdsList: boolean;
  /** `zfs destroy ds@a%b`. */
  destroyRange: boolean;
  zvols: boolean;
  /** `zfs unmount` before `zfs destroy` of a filesystem (zfs-fuse finding). */
  unmountBeforeDestroy: boolean;
  /** Human dates: run the tools with TZ=UTC so that parseZfsDate reads them as UTC. */
  env: Record<string, string>;
  /** Dataset property values this dialect accepts beyond the common set. */
  compression: readonly string[];
  checksum: readonly string[];
  /** Properties only this dialect knows. */
  properties: ReadonlySet<string>;
}

const COMMON_COMPRESSION = [
  'on',
  'off',
  'lzjb',
  'gzip',
  'zle',
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => `gzip-${n}`),
];
const ZSTD = ['zstd', 'zstd-fast', ...Array.from({ length: 19 }, (_, i) => `zstd-${i + 1}`)];

export const OPENZFS: Dialect = {
  name: 'openzfs',
  parsable: true,
  zpoolGetScripted: true,
  statusFlags: ['-P', '-p'],
  fragmentation: true,
  sendEstimate: true,
  resumableReceive: true,
  scrubPause: true,
  holdsList: true,
  destroyRange: true,
  zvols: true,
  unmountBeforeDestroy: false,
  env: { TZ: 'UTC' },
  compression: [...COMMON_COMPRESSION, 'lz4', ...ZSTD],
  checksum: ['on', 'off', 'fletcher2', 'fletcher4', 'sha256', 'sha512', 'skein', 'edonr', 'blake3'],
  properties: new Set([
    'sync',
    'acltype',
    'relatime',
    'dnodesize',
    'redundant_metadata',
    'special_small_blocks',
    'autotrim',
  ]),
};

export const ZFS_FUSE: Dialect = {
  name: 'zfs-fuse',
  parsable: false,
  zpoolGetScripted: false,
  statusFlags: [],
  fragmentation: false,
  sendEstimate: false,
  resumableReceive: false,
  scrubPause: false,
  holdsList: false,
  destroyRange: false,
  zvols: false,
  unmountBeforeDestroy: true,
  env: { TZ: 'UTC' },
  compression: COMMON_COMPRESSION,
  checksum: ['on', 'off', 'fletcher2', 'fletcher4', 'sha256'],
  properties: new Set(),
};

/** `zfs version` output → OpenZFS version ("2.2.4"), or undefined. */
export function parseZfsVersion(text: string): string | undefined {
  return /zfs-(?:kmod-)?(\d+\.\d+\.\d+)/.exec(text)?.[1];
}

/**
 * Ask the tools. `zfs version` exists since OpenZFS 0.8; zfs-fuse answers "unrecognized command
 * 'version'" (exit 2). Anything that does not report a version is treated as the legacy dialect,
 * whose flag set is the conservative one.
 */
export async function detectDialect(runner: Runner): Promise<Dialect> {
  try {
    const r = await runner.run(['zfs', 'version'], {
      // generous: on a loaded machine (the kernel lab under TCG) it took over 10 s at the agent's start
      timeoutMs: 60_000,
      okCodes: [0, 1, 2],
      maxOutput: 65536,
    });
    const version = parseZfsVersion(`${r.stdout}\n${r.stderr}`);
    if (r.code === 0 && version) return { ...OPENZFS, version };
  } catch (err) {
    // a slow or killed `zfs version` says nothing about the dialect: fail (the driver detects again next
    // time) rather than settle for the legacy one on OpenZFS, as the kernel lab once saw it do
    if ((err as { kind?: string }).kind === 'timeout' || (err as { kind?: string }).kind === 'aborted')
      throw err;
    /* otherwise fall through to the legacy dialect */
  }
  return { ...ZFS_FUSE, version: '0.7' };
}
