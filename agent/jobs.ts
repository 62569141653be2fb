/**
 * Jobs: long or exclusive work (scrub, replication, backup, upgrade…). A job takes its named
 * lock before it is accepted, runs with an AbortSignal, reports typed progress as `job.progress`
 * events, and is persisted in LMDB. A job that was running when the agent died is marked
 * `interrupted` at the next start, never silently lost. Finished jobs are kept for
 * `retentionDays` and at most `maxFinished`.
 */
import { randomBytes } from 'node:crypto';
import type { Database } from 'lmdb';
import type { Logger } from 'pino';
import { aborted, busy, notFound, RpcError, toWireError, type WireError } from '../rpc/errors.js';
import type { Progress } from '../rpc/registry.js';
import type { EventBus } from './events.js';
import { pause } from './util/time.js';

export const JOB_STATES = ['waiting', 'running', 'success', 'failed', 'aborted', 'interrupted'] as const;
export type JobState = (typeof JOB_STATES)[number];
const FINAL: ReadonlySet<JobState> = new Set(['success', 'failed', 'aborted', 'interrupted']);

export interface JobRecord {
  id: string;
  method: string;
  state: JobState;
  progress: Progress;
  lock?: string;
  user: string;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  result?: unknown;
  error?: WireError;
  /** short log of progress descriptions and state changes */
  log: { time: number; message: string }[];
}

export interface JobRunContext {
  id: string;
  signal: AbortSignal;
  progress(percent: number, description?: string): void;
  log(message: string): void;
}

export interface JobManagerOptions {
  db: Database;
  events: EventBus;
  log: Logger;
  now?: () => number;
  retentionDays?: number;
  maxFinished?: number;
}

const LOG_LIMIT = 200;
const PERSIST_EVERY_MS = 500;

export class JobManager {
  private running = new Map<
    string,
    { controller: AbortController; record: JobRecord; done: Promise<void> }
  >();
  private locks = new Map<string, string>();
  private now: () => number;
  private counter = 0;
  private interruptedAtStart: JobRecord[] = [];

  constructor(private opts: JobManagerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Mark jobs left running/waiting by a previous process as interrupted, and apply retention. */
  async recover(): Promise<number> {
    let n = 0;
    const now = this.now();
    await this.opts.db.transaction(() => {
      for (const { key, value } of this.opts.db.getRange({})) {
        const rec = value as JobRecord;
        if (!FINAL.has(rec.state)) {
          rec.state = 'interrupted';
          rec.finishedAt = now;
          rec.error = {
            code: -32014,
            message: 'the agent stopped while this job was running',
            data: { kind: 'aborted' },
          };
          rec.log.push({ time: now, message: 'interrupted: the agent stopped while this job was running' });
          this.opts.db.put(key, rec);
          this.interruptedAtStart.push(rec);
          n++;
        }
      }
    });
    await this.prune();
    return n;
  }

  /** Resolves once every job record written so far is committed. */
  committed(): Promise<unknown> {
    return this.opts.db.committed as unknown as Promise<unknown>;
  }

  /** The jobs found interrupted by recover(), once (their final audit records are written from them). */
  takeInterrupted(): JobRecord[] {
    return this.interruptedAtStart.splice(0);
  }

  /** Delete finished jobs past retention or beyond the count limit (oldest first). */
  async prune(): Promise<number> {
    const cutoff = this.now() - (this.opts.retentionDays ?? 30) * 86_400_000;
    const finished: { key: string; at: number }[] = [];
    for (const { key, value } of this.opts.db.getRange({})) {
      const rec = value as JobRecord;
      if (FINAL.has(rec.state)) finished.push({ key: key as string, at: rec.finishedAt ?? rec.createdAt });
    }
    finished.sort((a, b) => a.at - b.at);
    const max = this.opts.maxFinished ?? 2000;
    const doomed = finished.filter((f, i) => f.at < cutoff || i < finished.length - max);
    if (doomed.length) {
      await this.opts.db.transaction(() => {
        for (const d of doomed) this.opts.db.remove(d.key);
      });
    }
    return doomed.length;
  }

  /**
   * Accept a job: take the lock (or throw `busy`), persist it, start `run` in the background.
   * Returns the job id at once.
   */
  start(
    spec: { method: string; user: string; lock?: string; title?: string },
    run: (ctx: JobRunContext) => Promise<unknown>,
  ): string {
    if (spec.lock) {
      const holder = this.locks.get(spec.lock);
      if (holder)
        throw busy(`${spec.lock}: job ${holder} is already running`, { lock: spec.lock, job: holder });
    }
    const id = this.newId();
    const now = this.now();
    const record: JobRecord = {
      id,
      method: spec.method,
      state: 'running',
      progress: { percent: 0, description: spec.title ?? 'starting' },
      lock: spec.lock,
      user: spec.user,
      createdAt: now,
      startedAt: now,
      log: [{ time: now, message: spec.title ?? 'started' }],
    };
    if (spec.lock) this.locks.set(spec.lock, id);
    const controller = new AbortController();
    void this.opts.db.put(id, record);
    this.publish(record);

    let lastPersist = 0;
    const ctx: JobRunContext = {
      id,
      signal: controller.signal,
      progress: (percent, description) => {
        if (FINAL.has(record.state)) return;
        const p = Math.max(0, Math.min(100, Number.isFinite(percent) ? percent : 0));
        const desc = description ?? record.progress.description;
        if (desc !== record.progress.description) this.addLog(record, desc);
        record.progress = { percent: Math.round(p * 10) / 10, description: desc };
        this.publish(record);
        const t = this.now();
        if (t - lastPersist >= PERSIST_EVERY_MS) {
          lastPersist = t;
          void this.opts.db.put(id, record);
        }
      },
      log: (message) => this.addLog(record, message),
    };
    const done = (async () => {
      try {
        const result = await run(ctx);
        if (controller.signal.aborted) throw aborted('aborted by request');
        record.state = 'success';
        record.result = result ?? null;
        record.progress = { percent: 100, description: 'done' };
      } catch (err) {
        const wire = toWireError(err, (e) =>
          this.opts.log.error({ err: e, job: id }, `job ${id}: unexpected error`),
        );
        const wasAborted = controller.signal.aborted || (err instanceof RpcError && err.kind === 'aborted');
        record.state = wasAborted ? 'aborted' : 'failed';
        record.error = wire;
      } finally {
        record.finishedAt = this.now();
        this.addLog(record, `${record.state}${record.error ? `: ${record.error.message}` : ''}`);
        if (spec.lock) this.locks.delete(spec.lock);
        await this.opts.db.put(id, record);
        this.running.delete(id);
        this.publish(record);
        this.opts.events.publish('job.finished', summary(record));
      }
    })();
    this.running.set(id, { controller, record, done });
    return id;
  }

  get(id: string): JobRecord {
    const live = this.running.get(id)?.record;
    if (live) return live;
    const rec = this.opts.db.get(id) as JobRecord | undefined;
    if (!rec) throw notFound(`job ${id} does not exist`, { id });
    return rec;
  }

  list(filter: { state?: JobState; method?: string; limit?: number; offset?: number } = {}): {
    items: JobRecord[];
    total: number;
  } {
    const all: JobRecord[] = [];
    const seen = new Set<string>();
    const consider = (rec: JobRecord) => {
      if (seen.has(rec.id)) return;
      seen.add(rec.id);
      if (filter.state && rec.state !== filter.state) return;
      if (filter.method && rec.method !== filter.method) return;
      all.push(rec);
    };
    // running jobs first (their first write may not be committed yet), then the stored ones
    for (const r of [...this.running.values()].reverse()) consider(r.record);
    for (const { value } of this.opts.db.getRange({ reverse: true })) {
      consider(this.running.get((value as JobRecord).id)?.record ?? (value as JobRecord));
    }
    all.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const offset = filter.offset ?? 0;
    return { items: all.slice(offset, offset + (filter.limit ?? 50)), total: all.length };
  }

  abort(id: string): JobRecord {
    const live = this.running.get(id);
    if (!live) {
      const rec = this.get(id);
      return rec; // already finished: aborting is a no-op, the state tells
    }
    this.addLog(live.record, 'abort requested');
    live.controller.abort(aborted('aborted by request'));
    return live.record;
  }

  /** Wait for a running job to settle (tests, shutdown). */
  async wait(id: string): Promise<JobRecord> {
    await this.running.get(id)?.done;
    return this.get(id);
  }

  /** Abort all running jobs and wait for them (bounded) — used at shutdown. */
  async shutdown(graceMs = 5000): Promise<void> {
    const all = [...this.running.values()];
    for (const j of all) j.controller.abort(aborted('the agent is shutting down'));
    if (all.length === 0) return;
    const grace = new AbortController();
    await Promise.race([
      Promise.allSettled(all.map((j) => j.done)).finally(() => grace.abort()),
      pause(graceMs, grace.signal),
    ]);
  }

  runningCount(): number {
    return this.running.size;
  }

  private addLog(record: JobRecord, message: string) {
    record.log.push({ time: this.now(), message });
    if (record.log.length > LOG_LIMIT) record.log.splice(0, record.log.length - LOG_LIMIT);
  }

  private publish(record: JobRecord) {
    this.opts.events.publish('job.progress', summary(record));
  }

  private newId(): string {
    // time-ordered ids so that LMDB's key order is creation order
    const t = this.now().toString(36).padStart(9, '0');
    const c = (this.counter++ % 1296).toString(36).padStart(2, '0');
    return `${t}${c}${randomBytes(3).toString('hex')}`;
  }
}

export function summary(r: JobRecord) {
  return {
    id: r.id,
    method: r.method,
    state: r.state,
    progress: r.progress,
    ...(r.error ? { error: r.error } : {}),
  };
}
