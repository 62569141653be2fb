/**
 * The whole rendered configuration (every generated file) and the reference checks that catch
 * dangling names before Bacula's own test mode does, with messages a caller can act on.
 */
import type { DesiredState, Kind } from './model.js';
import { daemonNames } from './model.js';
import type { BaculaPaths } from './paths.js';
import type { RenderSecrets } from './render-common.js';
import { renderBconsole, renderFd, renderSdDevices, renderSdMain } from './render-daemons.js';
import {
  ADMIN_JOB,
  allStorages,
  BUILTIN_STORAGE,
  builtinClient,
  EMPTY_FILESET,
  RESTORE_JOB,
  renderClients,
  renderDirMain,
  renderFilesets,
  renderJobs,
  renderPools,
  renderSchedules,
  renderStorage,
  SCRATCH_POOL,
} from './render-dir.js';

/** relative path (under the config dir) → text, in generatedFiles() order. */
export function renderAll(state: DesiredState, secrets: RenderSecrets, p: BaculaPaths): Map<string, string> {
  return new Map([
    ['bacula-dir.conf', renderDirMain(state, secrets, p)],
    ['dir.d/clients.conf', renderClients(state, secrets)],
    ['dir.d/filesets.conf', renderFilesets(state)],
    ['dir.d/schedules.conf', renderSchedules(state)],
    ['dir.d/pools.conf', renderPools(state)],
    ['dir.d/storage.conf', renderStorage(state, secrets)],
    ['dir.d/jobs.conf', renderJobs(state, p)],
    ['bacula-sd.conf', renderSdMain(state, secrets, p)],
    ['sd.d/devices.conf', renderSdDevices(state, p)],
    ['bacula-fd.conf', renderFd(state, secrets, p)],
    ['bconsole.conf', renderBconsole(state, secrets)],
  ]);
}

export interface Problem {
  kind: Kind;
  name: string;
  message: string;
}

/** Dangling references and reserved names; empty when the state is consistent. */
/** The levels of a verify job (and of no other). */
const VERIFY_LEVELS = new Set(['VolumeToCatalog', 'DiskToCatalog', 'Catalog', 'Data', 'InitCatalog']);

export function checkState(state: DesiredState): Problem[] {
  const out: Problem[] = [];
  const clients = new Set([builtinClient(state).name, ...state.clients.map((c) => c.name)]);
  const filesets = new Set(state.filesets.map((f) => f.name));
  const schedules = new Set(state.schedules.map((s) => s.name));
  const pools = new Set([SCRATCH_POOL, ...state.pools.map((p) => p.name)]);
  const storages = new Set(allStorages(state).map((s) => s.name));
  const jobs = new Set(state.jobs.map((j) => j.name));
  const need = (kind: Kind, name: string, what: string, ref: string | undefined, set: Set<string>) => {
    if (ref !== undefined && !set.has(ref))
      out.push({ kind, name, message: `${what} "${ref}" does not exist` });
  };
  const reserved = new Set([
    ...Object.values(daemonNames(state.settings)),
    EMPTY_FILESET,
    RESTORE_JOB,
    ADMIN_JOB,
    BUILTIN_STORAGE,
    SCRATCH_POOL,
  ]);
  for (const c of state.clients) {
    if (reserved.has(c.name))
      out.push({ kind: 'client', name: c.name, message: 'name is reserved for the appliance' });
  }
  for (const [kind, list] of [
    ['fileset', state.filesets],
    ['pool', state.pools],
    ['storage', state.storages],
  ] as const) {
    for (const o of list)
      if (reserved.has(o.name)) out.push({ kind, name: o.name, message: 'name is reserved' });
  }
  for (const s of state.schedules) for (const r of s.runs) need('schedule', s.name, 'pool', r.pool, pools);
  for (const p of state.pools) {
    need('pool', p.name, 'storage', p.storage, storages);
    need('pool', p.name, 'next pool', p.nextPool, pools);
    need('pool', p.name, 'recycle pool', p.recyclePool, pools);
    need('pool', p.name, 'scratch pool', p.scratchPool, pools);
  }
  const deviceNames = new Set<string>();
  for (const s of allStorages(state)) {
    const devs =
      s.type === 'disk'
        ? Array.from({ length: s.devices }, (_, i) => `${s.name}-dev${i + 1}`)
        : s.drives.map((d) => `${s.name}-drive${d.index}`);
    for (const d of devs) deviceNames.add(d);
    if (s.type === 'tape' && new Set(s.drives.map((d) => d.index)).size !== s.drives.length) {
      out.push({ kind: 'storage', name: s.name, message: 'two drives share a Drive Index' });
    }
  }
  for (const s of allStorages(state)) {
    if (deviceNames.has(s.name))
      out.push({ kind: 'storage', name: s.name, message: 'name clashes with a device name' });
  }
  for (const j of state.jobs) {
    if (reserved.has(j.name)) out.push({ kind: 'job', name: j.name, message: 'name is reserved' });
    need('job', j.name, 'client', j.client, clients);
    need('job', j.name, 'fileset', j.fileset, filesets);
    need('job', j.name, 'schedule', j.schedule, schedules);
    need('job', j.name, 'storage', j.storage, storages);
    for (const p of [j.pool, j.fullPool, j.incrementalPool, j.differentialPool, j.nextPool]) {
      need('job', j.name, 'pool', p, pools);
    }
    need('job', j.name, 'verify job', j.verifyJob, jobs);
    if ([j.pool, j.fullPool, j.incrementalPool, j.differentialPool].includes(SCRATCH_POOL)) {
      out.push({
        kind: 'job',
        name: j.name,
        message: 'the Scratch pool only holds unused volumes; jobs cannot write to it',
      });
    }
    const verifyLevel = j.level !== undefined && VERIFY_LEVELS.has(j.level);
    if (j.type === 'verify' && j.level !== undefined && !verifyLevel)
      out.push({
        kind: 'job',
        name: j.name,
        message: `a verify job's level is VolumeToCatalog, DiskToCatalog, Catalog, Data or InitCatalog, not ${j.level}`,
      });
    if (j.type !== 'verify' && verifyLevel)
      out.push({
        kind: 'job',
        name: j.name,
        message: `${j.level} is a verify level; this is a ${j.type} job`,
      });
    if (j.verifyJob !== undefined && j.type !== 'verify')
      out.push({ kind: 'job', name: j.name, message: 'only a verify job names a verify job' });
    const verified = j.verifyJob === undefined ? undefined : state.jobs.find((x) => x.name === j.verifyJob);
    if (verified && verified.type !== 'backup')
      out.push({
        kind: 'job',
        name: j.name,
        message: `verify job "${j.verifyJob}" is a ${verified.type} job; a verify job checks a backup job`,
      });
    if (j.type === 'copy' || j.type === 'migrate') {
      if (!j.selection)
        out.push({
          kind: 'job',
          name: j.name,
          message: `a ${j.type} job needs a selection (PoolUncopiedJobs copies every job of its pool not copied yet)`,
        });
      if (!j.nextPool && !state.pools.find((p) => p.name === j.pool)?.nextPool)
        out.push({
          kind: 'job',
          name: j.name,
          message: `a ${j.type} job needs a next pool (the destination): set nextPool on the job or on pool "${j.pool}"`,
        });
    }
    if ((j.type === 'backup' || j.type === 'verify') && (!j.client || !j.fileset)) {
      out.push({ kind: 'job', name: j.name, message: `${j.type} jobs need a client and a fileset` });
    }
    if (
      j.type !== 'restore' &&
      !j.storage &&
      !state.pools.find((p) => p.name === j.pool)?.storage &&
      j.pool !== SCRATCH_POOL
    ) {
      out.push({ kind: 'job', name: j.name, message: 'no storage: set one on the job or on its pool' });
    }
  }
  return out;
}

/** Which objects refer to `name` of `kind` (a delete of a referenced object is refused). */
export function referencesTo(state: DesiredState, kind: Kind, name: string): string[] {
  const refs: string[] = [];
  if (kind === 'pool') {
    for (const p of state.pools) {
      if ([p.nextPool, p.recyclePool, p.scratchPool].includes(name)) refs.push(`pool ${p.name}`);
    }
    for (const s of state.schedules) if (s.runs.some((r) => r.pool === name)) refs.push(`schedule ${s.name}`);
  }
  if (kind === 'storage') for (const p of state.pools) if (p.storage === name) refs.push(`pool ${p.name}`);
  for (const j of state.jobs) {
    const uses =
      (kind === 'client' && j.client === name) ||
      (kind === 'fileset' && j.fileset === name) ||
      (kind === 'schedule' && j.schedule === name) ||
      (kind === 'storage' && j.storage === name) ||
      (kind === 'job' && j.verifyJob === name) ||
      (kind === 'pool' &&
        [j.pool, j.fullPool, j.incrementalPool, j.differentialPool, j.nextPool].includes(name));
    if (uses) refs.push(`job ${j.name}`);
  }
  return refs;
}
