/**
 * What the ZFS subsystem contributes to `/metrics` (agent/metrics-registry.ts): pool size,
 * space, scrub age, errors and health from `zpool list`/`status` (pool.list's code), datasets by
 * type and the snapshot count (from the snapshot cache).
 */
import { defineMetrics, family, type MetricsSource } from '../metrics-registry.js';

/** The fields of pool.list's items the gauges read. */
export interface PoolReading {
  name: string;
  health: string;
  size?: number;
  allocated?: number;
  free?: number;
  scan?: { state?: string; endedAt?: number; errors?: number };
  errors?: { read?: number; write?: number; checksum?: number; data?: number };
}

export interface ZfsReaders {
  pools(): Promise<PoolReading[]>;
  /** dataset.list's forest, counted */
  datasets(): Promise<{ filesystems: number; volumes: number }>;
  snapshots(): Promise<number>;
}

const pool = (name: string, help: string, v: (p: PoolReading, now: number) => number | undefined) =>
  family<PoolReading[]>({
    name,
    help,
    labels: ['pool'],
    collect(pools, set, now) {
      for (const p of pools) {
        const x = v(p, now);
        if (x !== undefined && Number.isFinite(x)) set({ pool: p.name }, x);
      }
    },
  });

export function zfsMetrics(r: ZfsReaders): MetricsSource<unknown>[] {
  return [
    defineMetrics<PoolReading[]>({
      name: 'zfs.pools',
      read: r.pools,
      families: [
        pool('calypso_zfs_pool_size_bytes', 'Pool size', (p) => p.size),
        pool('calypso_zfs_pool_allocated_bytes', 'Pool space allocated', (p) => p.allocated),
        pool('calypso_zfs_pool_free_bytes', 'Pool space free', (p) => p.free),
        pool('calypso_zfs_pool_capacity_ratio', 'Allocated / size', (p) =>
          p.size && p.allocated !== undefined ? p.allocated / p.size : undefined,
        ),
        pool('calypso_zfs_pool_scrub_age_seconds', 'Seconds since the last finished scan', (p, now) =>
          p.scan?.state === 'finished' && p.scan.endedAt
            ? Math.max(0, now / 1000 - p.scan.endedAt)
            : undefined,
        ),
        pool('calypso_zfs_pool_scan_errors', 'Errors the last finished scan found', (p) =>
          p.scan?.state === 'finished' ? (p.scan.errors ?? 0) : undefined,
        ),
        family<PoolReading[]>({
          name: 'calypso_zfs_pool_errors',
          help: 'Error counters of the pool (read, write, checksum, permanent data errors)',
          labels: ['pool', 'kind'],
          collect(pools, set) {
            for (const p of pools)
              for (const kind of ['read', 'write', 'checksum', 'data'] as const) {
                const x = p.errors?.[kind];
                if (typeof x === 'number') set({ pool: p.name, kind }, x);
              }
          },
        }),
        family<PoolReading[]>({
          name: 'calypso_zfs_pool_health',
          help: 'Pool health: 1 for its current state',
          labels: ['pool', 'state'],
          collect(pools, set) {
            for (const p of pools) set({ pool: p.name, state: p.health }, 1);
          },
        }),
      ],
    }),
    defineMetrics({
      name: 'zfs.datasets',
      read: r.datasets,
      families: [
        family<{ filesystems: number; volumes: number }>({
          name: 'calypso_zfs_datasets',
          help: 'Datasets by type',
          labels: ['type'],
          collect(d, set) {
            set({ type: 'filesystem' }, d.filesystems);
            set({ type: 'volume' }, d.volumes);
          },
        }),
      ],
    }),
    defineMetrics({
      name: 'zfs.snapshots',
      read: r.snapshots,
      families: [
        family<number>({
          name: 'calypso_zfs_snapshots',
          help: 'Snapshots',
          labels: [],
          collect(n, set) {
            set({}, n);
          },
        }),
      ],
    }),
  ];
}
