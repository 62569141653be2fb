/**
 * Where the Bacula subsystem keeps its files, derived from the appliance layout (the layout
 * module stays the only place that spells the roots).
 *
 * - generated config: etc/calypso/system/bacula/{bacula-dir,bacula-sd,bacula-fd,bconsole}.conf
 *   plus dir.d/*.conf and sd.d/*.conf included by the main files
 * - director working dir and SQLite catalog: srv/calypso/db/bacula/bacula.db (Bacula's SQLite
 *   driver opens `<WorkingDirectory>/<dbname>.db`)
 * - SD/FD working dir: var/lib/calypso/bacula; config history: var/lib/calypso/bacula/config-history
 * - pid files: run/calypso/bacula; log: var/log/calypso/bacula.log
 * - disk volumes: srv/calypso/backups/<storage>
 */
import path from 'node:path';
import type { Layout } from '../layout.js';

export const DIR_INCLUDES = ['clients', 'filesets', 'schedules', 'pools', 'storage', 'jobs'] as const;
export type DirInclude = (typeof DIR_INCLUDES)[number];

export interface BaculaPaths {
  confDir: string;
  dirConf: string;
  sdConf: string;
  fdConf: string;
  bconsoleConf: string;
  /** dir.d/<name>.conf */
  dirInclude(name: DirInclude): string;
  sdDevices: string;
  dirWorkDir: string;
  catalogDb: string;
  workDir: string;
  historyDir: string;
  pidDir: string;
  logFile: string;
  volumesRoot: string;
}

export function baculaPaths(layout: Layout): BaculaPaths {
  const confDir = layout.generated('bacula');
  const dirWorkDir = path.join(layout.data.db, 'bacula');
  const workDir = path.join(layout.stateDir, 'bacula');
  return {
    confDir,
    dirConf: path.join(confDir, 'bacula-dir.conf'),
    sdConf: path.join(confDir, 'bacula-sd.conf'),
    fdConf: path.join(confDir, 'bacula-fd.conf'),
    bconsoleConf: path.join(confDir, 'bconsole.conf'),
    dirInclude: (name) => path.join(confDir, 'dir.d', `${name}.conf`),
    sdDevices: path.join(confDir, 'sd.d', 'devices.conf'),
    dirWorkDir,
    catalogDb: path.join(dirWorkDir, 'bacula.db'),
    workDir,
    historyDir: path.join(workDir, 'config-history'),
    pidDir: path.join(layout.runDir, 'bacula'),
    logFile: path.join(layout.logDir, 'bacula.log'),
    volumesRoot: layout.data.backups,
  };
}

/** Every generated file, relative to confDir, in a stable order (diffs and history use it). */
export function generatedFiles(): string[] {
  return [
    'bacula-dir.conf',
    ...DIR_INCLUDES.map((n) => `dir.d/${n}.conf`),
    'bacula-sd.conf',
    'sd.d/devices.conf',
    'bacula-fd.conf',
    'bconsole.conf',
  ];
}
