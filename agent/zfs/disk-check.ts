/**
 * Checks on the devices of a new pool or a replacement, before zpool sees them. zpool itself refuses
 * devices that carry a ZFS label (without -f); this adds what it does not know about the appliance:
 *
 * - a device used by an imported pool → conflict (even with force);
 * - a mounted device (or one of its partitions mounted) → conflict (even with force: zpool would
 *   destroy a live filesystem);
 * - a partitioned disk, or one held by another driver (md, dm) → conflict unless `force`;
 * - file vdevs: absolute path of an existing regular file of at least 64 MiB (SPA_MINDEVSIZE);
 * - the same device twice → invalid.
 *
 * Reads sysfs through the sysroot (the probes' convention) and /proc/self/mounts; never writes.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { conflict, invalid, notFound } from '../../rpc/errors.js';

export const MIN_DEVICE_BYTES = 64 * 1024 * 1024;

export interface DiskCheckOptions {
  sysroot: string;
  force?: boolean;
  /** Devices of imported pools (paths and names). */
  inUse: Set<string>;
  /** /proc/self/mounts content (injectable for tests). */
  mounts?: string;
}

export function checkDevices(devices: string[], o: DiskCheckOptions): void {
  const seen = new Set<string>();
  const mounted = mountedSources(o.mounts ?? readMounts());
  for (const dev of devices) {
    if (seen.has(dev)) throw invalid(`${dev} is listed twice`, { device: dev });
    seen.add(dev);
    if (o.inUse.has(dev)) throw conflict(`${dev} is in use by an imported pool`, { device: dev });
    if (!existsSync(dev)) throw notFound(`${dev} does not exist`, { device: dev });
    const real = realpathSync(dev);
    if (o.inUse.has(real)) throw conflict(`${dev} is in use by an imported pool`, { device: dev });
    const st = statSync(real);
    if (st.isFile()) {
      if (dev.startsWith('/dev/')) throw invalid(`${dev} is a regular file under /dev`, { device: dev });
      if (st.size < MIN_DEVICE_BYTES) {
        throw invalid(`${dev} is smaller than 64 MiB (${st.size} bytes)`, { device: dev, size: st.size });
      }
      continue;
    }
    if (!st.isBlockDevice())
      throw invalid(`${dev} is neither a block device nor a regular file`, { device: dev });
    const kname = path.basename(real);
    const sysdir = path.join(o.sysroot, 'sys/class/block', kname);
    const parts = listDir(sysdir).filter(
      (e) => e.startsWith(kname) && existsSync(path.join(sysdir, e, 'partition')),
    );
    const names = [kname, ...parts].map((n) => `/dev/${n}`);
    const busy = names.find((n) => mounted.has(n));
    if (busy) throw conflict(`${dev} is mounted (${busy})`, { device: dev, mounted: busy });
    if (o.force) continue;
    if (parts.length) {
      throw conflict(`${dev} has partitions (${parts.join(', ')}); pass force to use the whole disk`, {
        device: dev,
        partitions: parts,
      });
    }
    const holders = listDir(path.join(sysdir, 'holders'));
    if (holders.length) {
      throw conflict(`${dev} is held by ${holders.join(', ')}; pass force to use it`, {
        device: dev,
        holders,
      });
    }
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readMounts(): string {
  try {
    return readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return '';
  }
}

/** Mounted block devices, resolved through symlinks (/dev/disk/by-uuid/… → /dev/sda1). */
export function mountedSources(mounts: string): Set<string> {
  const out = new Set<string>();
  for (const line of mounts.split('\n')) {
    const src = line.split(' ')[0];
    if (!src?.startsWith('/dev/')) continue;
    out.add(src);
    try {
      out.add(realpathSync(src));
    } catch {
      /* stale entry */
    }
  }
  return out;
}
