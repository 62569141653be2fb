/**
 * Renders the director's configuration: the main bacula-dir.conf (Director, Catalog, Messages,
 * the appliance's own Client, @includes) and one include per resource kind under dir.d/.
 * Pure: desired state + secrets + paths → file texts.
 */
import path from 'node:path';
import type { Client, DesiredState, DiskStorage, Fileset, Job, Pool, Schedule, Storage } from './model.js';
import { daemonNames } from './model.js';
import type { BaculaPaths } from './paths.js';
import { block, file, include, type Line, q, type RenderSecrets } from './render-common.js';

export const CATALOG = 'calypso-catalog';
export const RESTORE_JOB = 'calypso-restore';
export const ADMIN_JOB = 'calypso-admin';
export const EMPTY_FILESET = 'calypso-none';
export const BUILTIN_STORAGE = 'calypso-disk';
/** Bacula takes new volumes from the pool named Scratch by default (tapes labelled ahead of use). */
export const SCRATCH_POOL = 'Scratch';
/** Debian's query file; only the `query` console command reads it. */
const QUERY_FILE = '/etc/bacula/scripts/query.sql';

const JOB_TYPE: Record<Job['type'], string> = {
  backup: 'Backup',
  restore: 'Restore',
  verify: 'Verify',
  copy: 'Copy',
  migrate: 'Migrate',
};

export function renderDirMain(state: DesiredState, secrets: RenderSecrets, p: BaculaPaths): string {
  const s = state.settings;
  const names = daemonNames(s);
  const director = block('Director', [
    ['Name', names.dir],
    ['DIRport', s.dirPort],
    ['DirAddress', { raw: s.address }],
    ['QueryFile', QUERY_FILE],
    ['WorkingDirectory', p.dirWorkDir],
    ['PidDirectory', p.pidDir],
    ['Maximum Concurrent Jobs', s.maxConcurrentJobs],
    ['Password', secrets.dir],
    ['Messages', 'Daemon'],
  ]);
  // SQLite: the catalog is <WorkingDirectory>/<dbname>.db; no user or password.
  const catalog = block('Catalog', [
    ['Name', CATALOG],
    ['dbname', 'bacula'],
    ['dbuser', ''],
    ['dbpassword', ''],
  ]);
  // No `console` destination on purpose: nobody reads the console queue, which would only grow.
  // Job messages go to the catalog's Log table (backup.log reads them) and to the log file.
  const standard = block('Messages', [
    ['Name', 'Standard'],
    `  append = ${q(p.logFile)} = all, !skipped`,
    '  catalog = all, !skipped, !saved',
  ]);
  const daemon = block('Messages', [['Name', 'Daemon'], `  append = ${q(p.logFile)} = all, !skipped`]);
  const includes = (['clients', 'filesets', 'schedules', 'pools', 'storage', 'jobs'] as const).map((n) =>
    include(p.dirInclude(n)),
  );
  return file([director, catalog, standard, daemon, includes.join('\n')]);
}

function clientBlock(c: Client, password: string): string {
  return block('Client', [
    ['Name', c.name],
    ['Address', { raw: c.address }],
    ['FDPort', c.port],
    ['Catalog', CATALOG],
    ['Password', password],
    ['File Retention', { raw: `${c.fileRetentionDays} days` }],
    ['Job Retention', { raw: `${c.jobRetentionDays} days` }],
    ['AutoPrune', c.autoPrune],
    ['Maximum Concurrent Jobs', c.maxConcurrentJobs],
  ]);
}

/** The appliance's own file daemon, always present; derived from the settings. */
export function builtinClient(state: DesiredState): Client {
  const s = state.settings;
  return {
    name: daemonNames(s).fd,
    address: s.address,
    port: s.fdPort,
    fileRetentionDays: 60,
    jobRetentionDays: 180,
    autoPrune: true,
    maxConcurrentJobs: s.maxConcurrentJobs,
    description: 'the appliance itself',
  };
}

/**
 * The appliance's own disk storage, always present: the director refuses to start without a
 * Job, a Job needs a Storage and a Pool, and restores need a Restore job; these builtins make
 * an empty desired state a valid, running configuration.
 */
export function builtinStorage(): DiskStorage {
  return { name: BUILTIN_STORAGE, type: 'disk', devices: 2, maxConcurrentJobs: 10 };
}

export function allStorages(state: DesiredState): Storage[] {
  return [builtinStorage(), ...state.storages];
}

export function renderClients(state: DesiredState, secrets: RenderSecrets): string {
  const own = clientBlock(builtinClient(state), secrets.fd);
  const others = state.clients.map((c) => {
    const pw = secrets.clients[c.name];
    if (!pw) throw new Error(`bacula config: no password for client ${c.name}`);
    return clientBlock(c, pw);
  });
  return file([own, ...others]);
}

function filesetBlock(f: Fileset): string {
  const opts: Line[] = [];
  if (f.signature !== 'none') opts.push(['Signature', { raw: f.signature }]);
  if (f.compression !== 'none') opts.push(['Compression', { raw: f.compression }]);
  opts.push(['Sparse', f.sparse], ['OneFS', f.oneFs], ['HardLinks', f.hardLinks], ['AclSupport', f.acl]);
  opts.push(['XattrSupport', f.xattr], ['NoAtime', f.noAtime]);
  const inc: string[] = [];
  // Bacula applies the first Options block that matches a file, so the exclusion patterns come first.
  if (f.excludePatterns.length) {
    const wild: Line[] = f.excludePatterns.map((w) => ['WildFile', w] as Line);
    inc.push(block('Options', [...wild, ['Exclude', true]], '    '));
  }
  inc.push(block('Options', opts, '    '));
  for (const path of f.include) inc.push(`    File = ${q(path)}`);
  const lines: Line[] = [['Name', f.name], block('Include', inc.map((l) => l) as Line[], '  ')];
  if (f.exclude.length)
    lines.push(
      block(
        'Exclude',
        f.exclude.map((x) => ['File', x] as Line),
        '  ',
      ),
    );
  return block('FileSet', lines);
}

export function renderFilesets(state: DesiredState): string {
  // An empty fileset for copy/migrate jobs and the restore job, which Bacula's parser requires.
  const none = block('FileSet', [['Name', EMPTY_FILESET], block('Include', [], '  ')]);
  return file([none, ...state.filesets.map(filesetBlock)]);
}

function scheduleBlock(s: Schedule): string {
  const runs: Line[] = s.runs.map((r) => {
    const parts = [r.level ? `Level=${r.level}` : '', r.pool ? `Pool=${q(r.pool)}` : '', r.when].filter(
      Boolean,
    );
    return `  Run = ${parts.join(' ')}`;
  });
  return block('Schedule', [['Name', s.name], ['Enabled', s.enabled], ...runs]);
}

export function renderSchedules(state: DesiredState): string {
  return file(state.schedules.map(scheduleBlock));
}

function poolBlock(pool: Pool): string {
  const disk = pool.kind === 'disk';
  return block('Pool', [
    ['Name', pool.name],
    ['Pool Type', { raw: 'Backup' }],
    ['Storage', pool.storage],
    ['Label Format', disk ? (pool.labelFormat ?? `${pool.name}-`) : pool.labelFormat],
    ['Maximum Volume Bytes', pool.maxVolumeBytes],
    ['Maximum Volumes', pool.maxVolumes],
    ['Maximum Volume Jobs', pool.maxVolumeJobs],
    ['Volume Retention', { raw: `${pool.volumeRetentionDays} days` }],
    ['Recycle', pool.recycle],
    ['AutoPrune', pool.autoPrune],
    // Disk volumes give their space back when purged; tapes keep their data until rewritten.
    ['Action On Purge', disk ? { raw: 'Truncate' } : undefined],
    // cleaning cartridges (barcodes CLNxxx) are never labelled as volumes by `label barcodes`
    ['Cleaning Prefix', disk ? undefined : 'CLN'],
    ['Next Pool', pool.nextPool],
    ['Recycle Pool', pool.recyclePool],
    ['Scratch Pool', pool.scratchPool],
  ]);
}

export function renderPools(state: DesiredState): string {
  const scratch = block('Pool', [
    ['Name', SCRATCH_POOL],
    ['Pool Type', { raw: 'Backup' }],
    ['Storage', BUILTIN_STORAGE],
    ['Recycle', true],
    ['AutoPrune', true],
  ]);
  return file([scratch, ...state.pools.map(poolBlock)]);
}

export function mediaType(st: Storage): string {
  return st.type === 'disk' ? (st.mediaType ?? `File-${st.name}`) : st.mediaType;
}

export function renderStorage(state: DesiredState, secrets: RenderSecrets): string {
  const s = state.settings;
  return file(
    allStorages(state).map((st) =>
      block('Storage', [
        ['Name', st.name],
        ['Address', { raw: s.address }],
        ['SDPort', s.sdPort],
        ['Password', secrets.sd],
        // The SD side is always an Autochanger named like the storage (a virtual one for disks),
        // so that disk storages get several devices and parallel jobs.
        ['Device', st.name],
        ['Media Type', mediaType(st)],
        ['Autochanger', true],
        ['Maximum Concurrent Jobs', st.maxConcurrentJobs],
      ]),
    ),
  );
}

function jobBlock(j: Job, p: BaculaPaths, ownClient: string): string {
  const needsClient = j.type === 'backup' || j.type === 'verify' || j.type === 'restore';
  const level =
    j.level ?? (j.type === 'backup' ? 'Incremental' : j.type === 'verify' ? 'VolumeToCatalog' : undefined);
  return block('Job', [
    ['Name', j.name],
    ['Type', { raw: JOB_TYPE[j.type] }],
    ['Level', level === undefined || j.type === 'restore' ? undefined : { raw: level }],
    // Copy/migrate jobs ignore Client and FileSet but Bacula's parser insists on them.
    ['Client', j.client ?? (needsClient ? undefined : ownClient)],
    ['FileSet', j.fileset ?? (needsClient && j.type !== 'restore' ? undefined : EMPTY_FILESET)],
    ['Schedule', j.schedule],
    ['Storage', j.storage],
    ['Pool', j.pool],
    ['Full Backup Pool', j.fullPool],
    ['Incremental Backup Pool', j.incrementalPool],
    ['Differential Backup Pool', j.differentialPool],
    ['Next Pool', j.nextPool],
    ['Verify Job', j.verifyJob],
    ['Selection Type', j.selection ? { raw: j.selection } : undefined],
    ['Selection Pattern', j.selectionPattern],
    ['Priority', j.priority],
    ['Accurate', j.type === 'backup' ? j.accurate : undefined],
    ['Spool Attributes', j.spoolAttributes],
    ['Maximum Bandwidth', j.maxBandwidth],
    ['Where', j.where],
    ['Messages', 'Standard'],
    ['Write Bootstrap', j.type === 'backup' ? path.join(p.dirWorkDir, '%n.bsr') : undefined],
    ['Enabled', j.enabled],
  ]);
}

export function renderJobs(state: DesiredState, p: BaculaPaths): string {
  const own = daemonNames(state.settings).fd;
  const blocks = state.jobs.map((j) => jobBlock(j, p, own));
  const builtin: Line[] = [
    ['Client', own],
    ['FileSet', EMPTY_FILESET],
    ['Storage', BUILTIN_STORAGE],
    ['Pool', SCRATCH_POOL],
    ['Messages', 'Standard'],
  ];
  // Restores run through this job (backup.restore passes client, where and the files).
  blocks.push(
    block('Job', [
      ['Name', RESTORE_JOB],
      ['Type', { raw: 'Restore' }],
      ...builtin,
      ['Where', path.join(p.volumesRoot, '.restores')],
    ]),
  );
  // The director refuses a configuration without jobs; this one does nothing unless run.
  blocks.push(block('Job', [['Name', ADMIN_JOB], ['Type', { raw: 'Admin' }], ...builtin]));
  return file(blocks);
}
