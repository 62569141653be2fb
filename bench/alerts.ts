/**
 * Alerts and metrics at appliance size, each against a baseline of the same run:
 * - a Prometheus scrape (prom-client registry, every gauge filled from a reading) with 100
 *   pools, 10,000 datasets and 1,024 disks (goal ≤ 50 ms), next to JSON.stringify of the same
 *   reading (the floor of turning it into text at all);
 * - one evaluation cycle of the alert engine at that size: every pool's health and capacity and
 *   every disk's state raised or cleared (in sync: nothing changes, which is the common cycle),
 *   next to reading the same keys from LMDB.
 */
import { open } from 'lmdb';
import pino from 'pino';
import { AlertEngine } from '../agent/alert-engine.js';
import { alertsMetrics } from '../agent/alerts/metrics.js';
import { backupMetrics } from '../agent/backup/metrics.js';
import { coreMetrics } from '../agent/core/metrics.js';
import { EventBus } from '../agent/events.js';
import { hardwareMetrics } from '../agent/hardware/metrics.js';
import { iscsiMetrics } from '../agent/iscsi/metrics.js';
import { createMetrics, readSources } from '../agent/metrics/exposition.js';
import { objectMetrics } from '../agent/object/metrics.js';
import { zfsMetrics } from '../agent/zfs/metrics.js';
import { tempDir } from '../test/helpers/paths.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(2)} ms`;

function reading() {
  const now = Date.now() / 1000;
  return {
    pools: Array.from({ length: 100 }, (_, i) => ({
      name: `pool${i}`,
      health: i % 17 ? 'ONLINE' : 'DEGRADED',
      size: 2 ** 44,
      allocated: 2 ** 43 + i,
      free: 2 ** 43 - i,
      capacity: 50,
      scan: { state: 'finished', endedAt: now - 86_400 * (i % 40), errors: 0 },
      errors: { read: 0, write: 0, checksum: i % 3, data: 0 },
    })),
    datasets: { filesystems: 9000, volumes: 1000 },
    snapshots: 100_000,
    disks: Array.from({ length: 1024 }, (_, i) => ({ name: `sd${i}`, temperature: 30 + (i % 20) })),
    jobs: Array.from({ length: 1000 }, (_, i) => ({ state: ['success', 'failed', 'running'][i % 3]! })),
    alerts: { critical: 6, warning: 12, info: 0, acknowledged: 3 },
    backups: Array.from({ length: 50 }, (_, i) => ({ name: `job${i}`, status: 'success', bytes: 1e9 + i })),
    iscsiSessions: Array.from({ length: 256 }, (_, i) => ({ target: `iqn.2026-12.bench:t${i % 64}` })),
    buckets: Array.from({ length: 200 }, (_, i) => ({ name: `b${i}`, bytes: 1e9 * i, objects: 1000 * i })),
  };
}

export async function benchAlerts(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const r = reading();
  const sources = [
    ...zfsMetrics({
      pools: async () => r.pools,
      datasets: async () => r.datasets,
      snapshots: async () => r.snapshots,
    }),
    ...hardwareMetrics(async () => r.disks),
    ...coreMetrics(async () => r.jobs),
    ...alertsMetrics(async () => r.alerts),
    ...backupMetrics(async () => r.backups),
    ...iscsiMetrics(async () => r.iscsiSessions),
    ...objectMetrics(async () => r.buckets),
  ];
  const m = createMetrics(
    () => sources,
    () => readSources(sources),
    Date.now,
  );
  for (let i = 0; i < 20; i++) await m.scrape();
  const scrape: number[] = [];
  const floor: number[] = [];
  let size = 0;
  for (let i = 0; i < 51; i++) {
    let t = performance.now();
    size = (await m.scrape()).length;
    scrape.push(performance.now() - t);
    t = performance.now();
    JSON.stringify(r);
    floor.push(performance.now() - t);
  }
  out['scrape: 100 pools, 10,000 datasets, 1,024 disks (median, goal ≤ 50 ms)'] =
    `${ms(median(scrape))} (${(size / 1024).toFixed(0)} KiB of text)`;
  out['baseline: JSON.stringify of the same reading'] = ms(median(floor));

  const dir = tempDir('calypso-bench-alerts-');
  const env = open({ path: dir.dir });
  const db = env.openDB({ name: 'alerts' });
  const log = pino({ level: 'silent' });
  const e = new AlertEngine({ db, events: new EventBus(), log, now: Date.now });
  const cycle = async () => {
    for (const p of r.pools) {
      const k = `zfs.pool.health:${p.name}`;
      if (p.health === 'ONLINE') await e.clear(k);
      else
        await e.raise({ key: k, level: 'critical', source: 'zfs', title: `pool ${p.name} is ${p.health}` });
      await e.clear(`zfs.pool.capacity:${p.name}`);
    }
    for (const d of r.disks) await e.clear(`hardware.disk.smart:${d.name}`);
  };
  await cycle();
  const cycles: number[] = [];
  const reads: number[] = [];
  for (let i = 0; i < 21; i++) {
    let t = performance.now();
    await cycle();
    cycles.push(performance.now() - t);
    t = performance.now();
    for (const p of r.pools) {
      db.get(`alert/zfs.pool.health:${p.name}`);
      db.get(`alert/zfs.pool.capacity:${p.name}`);
    }
    for (const d of r.disks) db.get(`alert/hardware.disk.smart:${d.name}`);
    reads.push(performance.now() - t);
  }
  out['alert evaluation cycle: 100 pools × 2 + 1,024 disks, in sync (median)'] = ms(median(cycles));
  out['baseline: the same 1,224 LMDB reads'] = ms(median(reads));
  await env.close();
  dir.cleanup();
  return out;
}
