/**
 * The demo's Bacula (sandbox/appliance.ts): the agent in the sandbox renders the director's,
 * storage daemon's and file daemon's configuration under its prefix; this starts the three
 * daemons on free loopback ports (sandbox/bacula.ts) and seeds one job with one finished run:
 * a Full backup of the demo's files to a disk storage under the prefix.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { baculaPaths } from '../agent/backup/paths.js';
import { createLayout } from '../agent/layout.js';
import { type BaculaDaemons, baculaDaemons, freePorts } from './bacula.js';

export const BACKUP_JOB = 'demo-files';
export const BACULA_TOOLS = ['bacula-dir', 'bacula-sd', 'bacula-fd', 'bconsole', 'sqlite3'];
export const BACULA_INSTALL =
  'apt-get install bacula-director-sqlite3 bacula-sd bacula-fd bacula-console sqlite3';

type Call = <T>(m: string, p?: Record<string, unknown>) => Promise<T>;

/**
 * Configure a disk storage and a pool through the agent, then start the daemons (while the
 * demo's pool is being made). `started` receives them as soon as they exist (the caller stops
 * them on exit, also when a later step fails).
 */
export async function startBacula(
  call: Call,
  prefix: string,
  started: (d: BaculaDaemons) => void,
): Promise<void> {
  const [dir, fd, sd] = (await freePorts(3)) as [number, number, number];
  await call('backup.settings.set', { dirPort: dir, fdPort: fd, sdPort: sd });
  await call('backup.storage.set', { name: 'demo-disk', type: 'disk', devices: 1 });
  await call('backup.pool.set', { name: 'demo-daily', storage: 'demo-disk' });
  const d = baculaDaemons({ paths: baculaPaths(createLayout(prefix)), ports: { dir, fd, sd } });
  started(d);
  await d.startAll();
}

/** A file set of `data` and a Full job of it, run once. Returns the id of the agent's job that runs it. */
export async function runBackup(call: Call, data: string): Promise<string> {
  await call('backup.fileset.set', { name: 'demo-files', include: [data] });
  await call('backup.job.set', {
    name: BACKUP_JOB,
    level: 'Full',
    client: 'calypso-fd',
    fileset: 'demo-files',
    pool: 'demo-daily',
  });
  return (await call<{ job: string }>('backup.run', { job: BACKUP_JOB })).job;
}

/**
 * Stop the daemons, then remove what the run left under the prefix: the catalog and the
 * storage's volumes (the agent's next apply makes a fresh catalog; the job's definition stays in
 * the agent's state, like every other setting of the demo's prefix).
 */
export async function stopBackup(d: BaculaDaemons, prefix: string): Promise<void> {
  await d.stop();
  const p = baculaPaths(createLayout(prefix));
  rmSync(p.catalogDb, { force: true });
  rmSync(path.join(p.volumesRoot, 'demo-disk'), { recursive: true, force: true });
}

/** What the demo backs up when it has no pool: a few files of its own. */
export function demoDataDir(box: string): string {
  return path.join(box, 'backup-source');
}
