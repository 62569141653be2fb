/**
 * The /dev/disk/by-* (and /dev/tape/by-*) symlinks, read from the tree itself. Used only for
 * devices the udev database says nothing about: the database already lists each device's
 * links (`S:` lines), which is one file instead of a directory scan and a readlink per link.
 * A link whose target is not a known device is dangling (a device pulled, a stale tree): it is
 * reported and never attributed to another device.
 */
import type { SysReader } from './sysfs.js';

export interface LinkIndex {
  /** Kernel name → links (`disk/by-id/…`, relative to /dev). */
  byTarget: Map<string, string[]>;
}

const DIRS = ['disk/by-id', 'disk/by-path', 'tape/by-id', 'tape/by-path'];

export function scanLinks(r: SysReader, known: (name: string) => boolean): LinkIndex {
  const byTarget = new Map<string, string[]>();
  for (const d of DIRS) {
    const names = r.list(`dev/${d}`);
    if (!names) continue;
    for (const n of names.sort()) {
      const target = r.link(`dev/${d}/${n}`);
      if (target === undefined) {
        r.warn('not a symlink', `dev/${d}/${n}`);
        continue;
      }
      const kname = target.slice(target.lastIndexOf('/') + 1);
      if (!known(kname)) {
        r.warn(`dangling link to ${target}`, `dev/${d}/${n}`);
        continue;
      }
      const list = byTarget.get(kname);
      if (list) list.push(`${d}/${n}`);
      else byTarget.set(kname, [`${d}/${n}`]);
    }
  }
  return { byTarget };
}
