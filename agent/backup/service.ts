/**
 * Backup with Bacula (issue 6): desired state of clients, filesets, schedules, pools, storage
 * and jobs rendered into the director's and storage daemon's config (agent/backup/), and the
 * operations on the running daemons: run, cancel, restore, history, file browsing, volumes,
 * status. README.md, "Backup (Bacula)", says how the agent talks to Bacula and why.
 */

import path from 'node:path';
import type { Service, ServiceFactory, Subsystem } from '../deps.js';
import { type BackupContextOptions, createBackupContext } from './context.js';
import { DrillStore } from './drill-model.js';
import { DrillScheduler, drillCalendar } from './drill-scheduler.js';
import { configMethods } from './methods-config.js';
import { drillMethods } from './methods-drill.js';
import { opsMethods } from './methods-ops.js';
import { scheduleMethods } from './methods-schedule.js';
import { volumeMethods } from './methods-volumes.js';
import { backupMetrics } from './metrics.js';
import { BACULA } from './port.js';
import { baculaPort } from './port-impl.js';
import { BACKUP_PROBES } from './probes.js';
import { ScheduleWatch } from './schedule-watch.js';

/** A backup service with options (tests shorten the poll period). */
export function createBackupService(
  opts: BackupContextOptions & { scheduleCheckMs?: number; drillTickMs?: number } = {},
): ServiceFactory {
  return (deps): Service => {
    deps.capabilities.declare(...BACKUP_PROBES);
    const bctx = createBackupContext(deps, opts);
    deps.ports.provide(BACULA, baculaPort(bctx));
    deps.metrics.contribute(
      ...backupMetrics(
        async () => (await bctx.ops().history({ offset: 0, limit: 200, type: 'backup' })).items,
      ),
    );
    const watch = new ScheduleWatch(bctx, { intervalMs: opts.scheduleCheckMs });
    const drills = {
      bctx,
      store: new DrillStore(deps.store.db('config'), deps.store.db('history')),
      scratchRoot: path.join(deps.layout.data.cache, 'drills'),
    };
    const drillScheduler = new DrillScheduler(drills);
    deps.calendar.contribute(drillCalendar(drills));
    return {
      name: 'backup',
      start: () => {
        watch.start();
        drillScheduler.start(opts.drillTickMs ?? 30_000);
      },
      stop: async () => {
        await drillScheduler.stop();
        await watch.stop();
      },
      methods: [
        ...configMethods(bctx),
        ...opsMethods(bctx),
        ...volumeMethods(bctx),
        ...scheduleMethods(bctx, watch),
        ...drillMethods(bctx, drills),
      ],
    };
  };
}

export const backupService: ServiceFactory = createBackupService();

export const backupSubsystem: Subsystem = {
  name: 'backup',
  service: backupService,
  provides: [BACULA],
  alertSources: ['backup'],
};
