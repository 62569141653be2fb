/** job.* — long work with live progress (docs/design.md "Long work is a job"). */
import type { Params, Result } from '../generated/api.js';
import type { AgentClient } from '../rpc/client.js';

export type Job = Result<'job.get'>;
export type JobState = Job['state'];

/** What a job.progress / job.finished event carries. */
export type JobSummary = Pick<Job, 'id' | 'method' | 'state' | 'progress' | 'error'>;

type Opts = { signal?: AbortSignal };

export const listJobs = (c: AgentClient, q: Pick<Params<'job.list'>, 'limit' | 'state'> = {}, o: Opts = {}) =>
  c.call<Result<'job.list'>>('job.list', q, o);
export const getJob = (c: AgentClient, id: string, o: Opts = {}) => c.call<Job>('job.get', { id }, o);
export const abortJob = (c: AgentClient, id: string) => c.call<Job>('job.abort', { id });

export const JOB_TOPICS = ['job.*'];

export const isFinal = (s: JobState) => s !== 'waiting' && s !== 'running';
