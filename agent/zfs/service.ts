/**
 * The ZFS service: pools, datasets, zvols, snapshots and their policies, replication, the appliance
 * data layout and pool health (docs/design.md: data under /srv/calypso lives on ZFS datasets).
 *
 * The method records live in agent/zfs/methods-*.ts by topic (one file would pass 1,000 lines);
 * this file assembles them around one shared context and owns the background work: the health
 * monitor, the snapshot policy and scrub schedulers, started with the agent and stopped before the store
 * closes.
 */
import type { Service, ServiceFactory, Subsystem } from '../deps.js';
import { createZfsContext, type ZfsOptions } from './context.js';
import { datasetsPort } from './datasets-port.js';
import { datasetMethods, toTree } from './methods-dataset.js';
import { iostatMethods } from './methods-iostat.js';
import { policyMethods } from './methods-policy.js';
import { listPools, poolMethods } from './methods-pool.js';
import { replicationMethods } from './methods-replication.js';
import { scanMethods } from './methods-scan.js';
import { scrubScheduleMethods } from './methods-scrub-schedule.js';
import { snapshotMethods } from './methods-snapshot.js';
import { zfsMetrics } from './metrics.js';
import { PolicyScheduler, PolicyStore } from './policy-runner.js';
import { DATASETS, ZFS_SEND, ZVOLS } from './port.js';
import { ZFS_PROBE } from './probes.js';
import { ScrubScheduler, ScrubScheduleStore, scrubCalendar } from './scrub-schedule.js';
import { sendPort } from './send-port.js';
import { zvolsPort } from './zvols-port.js';

/** A factory with tunables (tests: short polls, a pinned dialect, a fake runner). */
export function createZfsService(options: Partial<ZfsOptions> = {}): ServiceFactory {
  return (deps): Service => {
    const z = createZfsContext(deps, options);
    const store = new PolicyStore(deps.store.db('config'));
    const scheduler = new PolicyScheduler(z, store, deps.log.child({ area: 'zfs-policy' }));
    const scrubs = new ScrubScheduleStore(deps.store.db('config'));
    const scrubScheduler = new ScrubScheduler(z, scrubs);
    deps.calendar.contribute(scrubCalendar(z, scrubs));
    const available = () => deps.capabilities.get('zfs')?.available !== false;
    deps.capabilities.declare(ZFS_PROBE);
    deps.ports.provide(ZVOLS, zvolsPort(deps.capabilities));
    deps.ports.provide(DATASETS, datasetsPort(z));
    deps.ports.provide(ZFS_SEND, sendPort(z));
    deps.metrics.contribute(
      ...zfsMetrics({
        pools: () => listPools(z),
        datasets: async () => {
          await z.ready();
          const c = { filesystems: 0, volumes: 0 };
          const walk = (n: { type?: string; children?: unknown[] }) => {
            if (n.type === 'volume') c.volumes++;
            else c.filesystems++;
            for (const ch of n.children ?? []) walk(ch as typeof n);
          };
          for (const n of toTree(await z.driver.listDatasets())) walk(n);
          return c;
        },
        snapshots: async () => {
          await z.ready();
          return (await z.cache.query({ limit: 1 })).total;
        },
      }),
    );
    let stopped = false;
    return {
      name: 'zfs',
      methods: [
        ...poolMethods(z),
        ...iostatMethods(z),
        ...scanMethods(z),
        ...scrubScheduleMethods(z, scrubs),
        ...datasetMethods(z),
        ...snapshotMethods(z),
        ...policyMethods(z, store, scheduler),
        ...replicationMethods(z),
      ],
      start() {
        // background work only where ZFS exists; methods answer `unavailable` otherwise
        void deps.capabilities.all().then(() => {
          if (stopped || (!available() && !options.runner && !options.dialect)) return;
          if (z.options.healthIntervalMs > 0) z.monitor.start();
          scheduler.start(z.options.schedulerTickMs);
          scrubScheduler.start(z.options.schedulerTickMs);
        });
      },
      async stop() {
        stopped = true;
        await scheduler.stop();
        await scrubScheduler.stop();
        await z.monitor.stop();
      },
    };
  };
}

export const zfsService: ServiceFactory = createZfsService();

export const zfsSubsystem: Subsystem = {
  name: 'zfs',
  service: zfsService,
  provides: [ZVOLS, DATASETS, ZFS_SEND],
  alertSources: ['zfs'],
};
