/**
 * Backup with Bacula (issue 6): desired state of clients, filesets, schedules, pools, storage
 * and jobs rendered into the director's and storage daemon's config (agent/backup/), and the
 * operations on the running daemons: run, cancel, restore, history, file browsing, volumes,
 * status. README.md, "Backup (Bacula)", says how the agent talks to Bacula and why.
 */

import type { Service, ServiceFactory, Subsystem } from '../deps.js';
import { type BackupContextOptions, createBackupContext } from './context.js';
import { configMethods } from './methods-config.js';
import { opsMethods } from './methods-ops.js';
import { scheduleMethods } from './methods-schedule.js';
import { volumeMethods } from './methods-volumes.js';
import { BACULA } from './port.js';
import { baculaPort } from './port-impl.js';
import { ScheduleWatch } from './schedule-watch.js';

/** A backup service with options (tests shorten the poll period). */
export function createBackupService(
  opts: BackupContextOptions & { scheduleCheckMs?: number } = {},
): ServiceFactory {
  return (deps): Service => {
    const bctx = createBackupContext(deps, opts);
    deps.ports.provide(BACULA, baculaPort(bctx));
    const watch = new ScheduleWatch(bctx, { intervalMs: opts.scheduleCheckMs });
    return {
      name: 'backup',
      start: () => watch.start(),
      stop: () => watch.stop(),
      methods: [
        ...configMethods(bctx),
        ...opsMethods(bctx),
        ...volumeMethods(bctx),
        ...scheduleMethods(bctx, watch),
      ],
    };
  };
}

export const backupService: ServiceFactory = createBackupService();

export const backupSubsystem: Subsystem = { name: 'backup', service: backupService, provides: [BACULA] };
