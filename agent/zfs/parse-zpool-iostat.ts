/**
 * `zpool iostat` → per-pool I/O over one interval (operations and bytes per second) and the
 * capacity it prints beside them.
 *
 * OpenZFS: `zpool iostat -H -p -y POOL… SECONDS 1` — tab-separated exact numbers, one line per
 * pool, the since-import average left out (-y). zfs-fuse 0.7 has none of these flags
 * (recorded on this machine): `zpool iostat POOL… SECONDS 2` prints a header and one line per
 * pool for each sample, sizes and rates as zfs_nicenum ("2.70M", "4.06K"); its first sample is
 * the average since import, so the last line of each pool is the one read.
 */
import { parseCount, parseSize } from './units.js';

export interface PoolIo {
  name: string;
  /** bytes allocated and free, as printed beside the rates */
  alloc?: number;
  free?: number;
  /** per second over the interval */
  readOps: number;
  writeOps: number;
  readBytes: number;
  writeBytes: number;
}

export function parseZpoolIostat(text: string, parsable: boolean): PoolIo[] {
  const last = new Map<string, PoolIo>();
  for (const raw of text.split('\n')) {
    const f = parsable ? raw.split('\t') : raw.trim().split(/\s+/);
    if (f.length !== 7) continue;
    const [name, alloc, free, rops, wops, rbw, wbw] = f as [string, ...string[]];
    // the two header lines and the dashes of the human table
    if (!parsable && (/^-+$/.test(name) || alloc === 'alloc' || name === 'capacity')) continue;
    const nums = [rops, wops, rbw, wbw].map((v) => (parsable ? Number(v) : parseCount(v)));
    if (nums.some((n) => !Number.isFinite(n))) continue;
    last.set(name, {
      name,
      alloc: parsable ? Number(alloc) : parseSize(alloc),
      free: parsable ? Number(free) : parseSize(free),
      readOps: nums[0]!,
      writeOps: nums[1]!,
      readBytes: nums[2]!,
      writeBytes: nums[3]!,
    });
  }
  return [...last.values()];
}
