/**
 * Remotes and push replication to another appliance over SSH (docs/replication.md): pairing with
 * a key made here and a pinned host key, the receiving side's forced command (guard.ts), and
 * replication tasks that run `zfs send | ssh … zfs receive` as jobs.
 */
import type { Service, Subsystem } from '../deps.js';
import { ZFS_SEND } from '../zfs/port.js';
import { remoteConfig } from './config.js';
import { createRemoteContext } from './context.js';
import { DrillReports } from './drill.js';
import { drillMethods } from './methods-drill.js';
import { hostKeyMethods } from './methods-hostkey.js';
import { remoteMethods } from './methods-remote.js';
import { taskMethods } from './methods-task.js';
import { drillCalendar, ReplicationScheduler, replicationCalendar } from './scheduler.js';

export const SSH_PROBE = {
  name: 'ssh',
  bins: ['ssh', 'ssh-keygen', 'ssh-keyscan'],
  versionArgs: ['-V'],
  versionFrom: /OpenSSH_([\w.]+)/,
  okCodes: [0, 255],
};

export interface RemoteOptions {
  /** how often scheduled tasks are looked at (ms; 0: never, tests) */
  tickMs?: number;
}

export function createRemoteSubsystem(opts: RemoteOptions = {}): Subsystem {
  return {
    name: 'remote',
    config: remoteConfig,
    alertSources: ['replication'],
    needs: [ZFS_SEND],
    service: (deps): Service => {
      deps.capabilities.declare(SSH_PROBE);
      const x = createRemoteContext(deps);
      const drills = { x, reports: new DrillReports(deps.store.db('history')) };
      const scheduler = new ReplicationScheduler(x, drills);
      deps.calendar.contribute(replicationCalendar(x));
      deps.calendar.contribute(drillCalendar(drills));
      return {
        name: 'remote',
        start: () => scheduler.startTicking(opts.tickMs ?? 30_000),
        stop: () => scheduler.stop(),
        methods: [
          ...remoteMethods(x),
          ...hostKeyMethods(x),
          ...taskMethods(x, drills.reports),
          ...drillMethods(drills),
        ],
      };
    },
  };
}

export const remoteSubsystem: Subsystem = createRemoteSubsystem();
