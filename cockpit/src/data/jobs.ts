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

/**
 * The newest event of the last 100 jobs seen: a short job can finish before the call that started
 * it answers, so a page remembers what the events said and reads it when the answer comes.
 */
export class SeenJobs {
  private last = new Map<string, JobSummary>();

  /** Remember `j` (the newest event of its job) and answer it. */
  see(j: JobSummary): JobSummary {
    this.last.set(j.id, j);
    if (this.last.size > 100) this.last.delete(this.last.keys().next().value!);
    return j;
  }

  /** The newest event seen of job `id`. */
  get(id: string): JobSummary | undefined {
    return this.last.get(id);
  }

  /** A job just started: its newest event seen, else waiting. */
  started(id: string, method: string): JobSummary {
    return this.last.get(id) ?? ({ id, method, state: 'waiting', progress: {} } as JobSummary);
  }

  /** The newest event seen of `j`'s job, else `j`. */
  latest<T extends { id: string }>(j: T): JobSummary | T {
    return this.last.get(j.id) ?? j;
  }
}

/** Every job event, remembered in `seen` first; answers the unsubscribe. */
export const watchJobs = (
  client: AgentClient,
  seen: SeenJobs,
  onJob: (j: JobSummary) => void,
): (() => void) => client.on(JOB_TOPICS, (ev) => onJob(seen.see(ev.data as JobSummary)));
