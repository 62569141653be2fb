/** Assembles the published pool shape from `zpool list` and `zpool status` (pure). */
import type { Pool } from './schemas.js';
import type { PoolListRow, PoolStatus, Vdev, VdevClass } from './types.js';

export function toPool(row: PoolListRow | undefined, status: PoolStatus, exactSizes: boolean): Pool {
  const vdevs: (Vdev & { class: VdevClass })[] = [];
  for (const cls of ['data', 'special', 'dedup', 'log', 'cache', 'spare'] as const) {
    for (const v of status.vdevs[cls]) vdevs.push({ ...v, class: cls });
  }
  const pool: Pool = {
    name: status.name,
    health: row?.health ?? status.state,
    exactSizes,
    scan: status.scan,
    errors: {
      read: status.read,
      write: status.write,
      checksum: status.checksum,
      data: status.errors?.count ?? 0,
      files: status.errors?.files ?? [],
    },
    vdevs,
  };
  if (row) {
    for (const k of ['size', 'allocated', 'free', 'capacity', 'fragmentation', 'dedupratio'] as const) {
      if (row[k] !== undefined) pool[k] = row[k];
    }
    if (row.altroot) pool.altroot = row.altroot;
    if (row.guid) pool.guid = row.guid;
    if (row.version) pool.version = row.version;
  }
  if (status.status) pool.status = status.status;
  if (status.action) pool.action = status.action;
  return pool;
}

/** Every leaf device of a pool with its class, depth-first. */
export function leaves(status: PoolStatus): { vdev: Vdev; class: VdevClass }[] {
  const out: { vdev: Vdev; class: VdevClass }[] = [];
  const walk = (v: Vdev, cls: VdevClass) => {
    if (v.children.length === 0) out.push({ vdev: v, class: cls });
    for (const c of v.children) walk(c, cls);
  };
  for (const [cls, list] of Object.entries(status.vdevs) as [VdevClass, Vdev[]][]) {
    for (const v of list) walk(v, cls);
  }
  return out;
}

/** Paths of every device a pool uses (leaf names, paths and former paths). */
export function devicePaths(status: PoolStatus): Set<string> {
  const s = new Set<string>();
  for (const { vdev } of leaves(status)) {
    s.add(vdev.name);
    if (vdev.path) s.add(vdev.path);
    if (vdev.was) s.add(vdev.was);
  }
  return s;
}
