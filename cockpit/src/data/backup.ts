/** backup.* — Bacula jobs, restores, clients, schedules, volumes (agent/backup/, docs/backup.md). */
import type { Result } from '../generated/api.js';
import type { AgentClient } from '../rpc/client.js';
import type { JobSummary } from './jobs.js';

export type BackupStatus =
  | 'success'
  | 'warning'
  | 'error'
  | 'aborted'
  | 'incomplete'
  | 'differences'
  | 'running'
  | 'waiting'
  | 'unknown';

/** A job of the Bacula catalog. */
export interface BackupJob {
  jobId: number;
  job: string;
  name: string;
  type: string;
  level?: string;
  status: BackupStatus;
  statusCode: string;
  client?: string;
  fileset?: string;
  pool?: string;
  started?: string;
  ended?: string;
  durationSec?: number;
  files: number;
  bytes: number;
  errors: number;
  rate?: number;
}

export interface BackupFile {
  name: string;
  /** absolute path as in the catalog; directories end with / */
  path: string;
  type: string;
  size?: number;
  mode?: number;
  mtime?: string;
}

export interface BackupJobDef {
  name: string;
  type: string;
  level?: string;
  client?: string;
  fileset?: string;
  schedule?: string;
  pool: string;
  builtin?: boolean;
}
export interface BackupClient {
  name: string;
  address: string;
  port: number;
  builtin?: boolean;
}
export interface BackupSchedule {
  name: string;
  runs: { level?: string; pool?: string; when: string }[];
}
export interface BackupVolume {
  mediaId: number;
  name: string;
  status: string;
  pool?: string;
  storage?: string;
  bytes: number;
  files: number;
  jobs: number;
  lastWritten?: string;
}

export interface DaemonStatus {
  name: string;
  kind: string;
  up: boolean;
  header?: { version?: string; [k: string]: unknown };
  error?: string;
}
export type BackupDaemons = Result<'backup.status'>;

type Opts = { signal?: AbortSignal };

export const HISTORY_PAGE = 20;

/** Director, storage and file daemons: up or the reason they are not (unavailable: Bacula not installed). */
export const daemonStatus = (c: AgentClient, o: Opts = {}) => c.call<BackupDaemons>('backup.status', {}, o);
export const listHistory = (c: AgentClient, q: { offset: number; limit: number }, o: Opts = {}) =>
  c.call<{ items: BackupJob[]; total: number }>('backup.history', q, o);
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
  c.call<{ path: string; items: BackupFile[]; total: number }>(
    'backup.files',
    { jobId, path, limit: 1000 },
    o,
  );
/** The catalog id of a running (or waiting) job of that name, newest first. */
export const runningJobId = (c: AgentClient, name: string) =>
  c
    .call<{ items: BackupJob[] }>('backup.history', { name, status: ['running', 'waiting'], limit: 1 })
    .then((r) => r.items[0]?.jobId);
export const cancelBackup = (c: AgentClient, jobId: number) =>
  c.call<{ message: string }>('backup.cancel', { jobId });

const started = (id: string, method: string, description: string): JobSummary => ({
  id,
  method,
  state: 'waiting',
  progress: { percent: 0, description },
});

/** Start a configured job; resolves with the agent job as it stands before its first progress event. */
export async function runBackup(c: AgentClient, job: string): Promise<JobSummary> {
  const r = await c.call<{ job: string }>('backup.run', { job });
  return started(r.job, 'backup.run', `backup ${job}`);
}

export interface RestoreRequest {
  jobId: number;
  where: string;
  /** chosen paths (directories end with /); none = the whole job */
  files?: string[];
}
export async function runRestore(c: AgentClient, r: RestoreRequest): Promise<JobSummary> {
  const p: Record<string, unknown> = { jobId: r.jobId, where: r.where };
  if (r.files?.length) p.files = r.files;
  const res = await c.call<{ job: string }>('backup.restore', p);
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
