/** backup.* — Bacula jobs, restores, clients, schedules, volumes (agent/backup/, docs/backup.md). */
import type { Item, Params, Result } from '../generated/api.js';
import type { AgentClient } from '../rpc/client.js';
import type { JobSummary } from './jobs.js';

/** A job of the Bacula catalog. */
export type BackupJob = Item<'backup.history'>;
export type BackupStatus = BackupJob['status'];

export type BackupFile = Item<'backup.files'>;

export type BackupJobDef = Item<'backup.job.list'>;
export type BackupClient = Item<'backup.client.list'>;
export type BackupSchedule = Item<'backup.schedule.list'>;
export type BackupVolume = Item<'backup.volume.list'>;

export type BackupDaemons = Result<'backup.status'>;
export type DaemonStatus = BackupDaemons['director'];

type Opts = { signal?: AbortSignal };

export const HISTORY_PAGE = 20;

/** Director, storage and file daemons: up or the reason they are not (unavailable: Bacula not installed). */
export const daemonStatus = (c: AgentClient, o: Opts = {}) => c.call<BackupDaemons>('backup.status', {}, o);
export const listHistory = (c: AgentClient, q: { offset: number; limit: number }, o: Opts = {}) =>
  c.call<Result<'backup.history'>>('backup.history', q, o);
export const listJobDefs = (c: AgentClient, o: Opts = {}) => c.items<BackupJobDef>('backup.job.list', {}, o);
export const listClients = (c: AgentClient, o: Opts = {}) =>
  c.items<BackupClient>('backup.client.list', {}, o);
export const listSchedules = (c: AgentClient, o: Opts = {}) =>
  c.items<BackupSchedule>('backup.schedule.list', {}, o);
export type UpcomingRuns = Result<'backup.schedule.upcoming'>;
export const listUpcoming = (c: AgentClient, o: Opts = {}) =>
  c.call<UpcomingRuns>('backup.schedule.upcoming', {}, o);
export const listVolumes = (c: AgentClient, o: Opts = {}) =>
  c.items<BackupVolume>('backup.volume.list', {}, o);
export const listFiles = (c: AgentClient, jobId: number, path: string, o: Opts = {}) =>
  c.call<Result<'backup.files'>>('backup.files', { jobId, path, limit: 1000 }, o);
/** The catalog id of a running (or waiting) job of that name, newest first. */
export const runningJobId = (c: AgentClient, name: string) =>
  c
    .call<Result<'backup.history'>>('backup.history', { name, status: ['running', 'waiting'], limit: 1 })
    .then((r) => r.items[0]?.jobId);
export const cancelBackup = (c: AgentClient, jobId: number) =>
  c.call<Result<'backup.cancel'>>('backup.cancel', { jobId });

const started = (id: string, method: string, description: string): JobSummary => ({
  id,
  method,
  state: 'waiting',
  progress: { percent: 0, description },
});

/** Start a configured job; resolves with the agent job as it stands before its first progress event. */
export async function runBackup(c: AgentClient, job: string): Promise<JobSummary> {
  const r = await c.call<Result<'backup.run'>>('backup.run', { job });
  return started(r.job, 'backup.run', `backup ${job}`);
}

/** What the restore dialog asks for: the job, where to, and the chosen paths (directories end with /; none = the whole job). */
export type RestoreRequest = Pick<Params<'backup.restore'>, 'jobId' | 'where' | 'files'>;
export async function runRestore(c: AgentClient, r: RestoreRequest): Promise<JobSummary> {
  const p: Params<'backup.restore'> = { jobId: r.jobId, where: r.where };
  if (r.files?.length) p.files = r.files;
  const res = await c.call<Result<'backup.restore'>>('backup.restore', p);
  return started(res.job, 'backup.restore', `restore job ${r.jobId}`);
}

export const BACKUP_TOPICS = ['backup.*'];

/**
 * The Bacula job id behind an agent job's progress text (`bacula job 12 queued`), so that a
 * running backup can be cancelled by its catalog id.
 */
export function baculaJobId(description: string): number | undefined {
  const m = /bacula (?:restore )?job (\d+)/.exec(description);
  return m ? Number(m[1]) : undefined;
}

/** Badge class for a status group. */
export function statusClass(s: BackupStatus): string {
  if (s === 'success') return 'badge ok';
  if (s === 'warning' || s === 'running' || s === 'waiting' || s === 'differences') return 'badge warn';
  return 'badge bad';
}
