/**
 * Missed schedules (issue 17): a Bacula job that should have run and did not raises
 * `backup.job.missed:<job>`.
 *
 * The director is the authority on when a job runs: every check reads its list of upcoming
 * runs (`.status dir scheduled`, the next 24 hours) and remembers them in LMDB, so that the
 * runs it announced are still known when it is down at their time — the commonest way a
 * backup is missed. Once a run's time plus the grace (`alert.rules` → `backupMissedMinutes`)
 * has passed, the catalog says whether it happened: a job of that name scheduled at or after
 * that time (a scheduled run records its scheduled time; a manual run after it counts too).
 * If not, the alert is raised; it clears when the job next runs — a later job in the catalog,
 * or `backup.finished` with success from `backup.run`.
 *
 * Nothing runs while no job has a schedule and nothing is watched: an appliance without Bacula
 * spawns no process for this.
 */
import type { Logger } from 'pino';
import { RpcError } from '../../rpc/errors.js';
import type { AgentDeps } from '../deps.js';
import { lit, localText } from './catalog-sql.js';
import type { BackupContext } from './context.js';
import { parseKeyValueBlocks } from './parse-bconsole.js';

export interface ScheduledRun {
  job: string;
  level?: string;
  /** epoch milliseconds */
  at: number;
}

const LEVELS: Record<string, string> = { F: 'Full', I: 'Incremental', D: 'Differential' };

/** `.api 2` + `.status dir scheduled` → the upcoming runs (one per job and time). */
export function parseScheduled(text: string): ScheduledRun[] {
  const seen = new Set<string>();
  const out: ScheduledRun[] = [];
  for (const b of parseKeyValueBlocks(text)) {
    const epoch = b.schedtime_epoch;
    if (!b.name || !epoch || !/^\d+$/.test(epoch)) continue;
    const at = Number(epoch) * 1000;
    const id = `${b.name}\u0000${at}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const level = b.level ? (LEVELS[b.level] ?? b.level) : undefined;
    out.push({ job: b.name, at, ...(level ? { level } : {}) });
  }
  return out.sort((a, b) => a.at - b.at || (a.job < b.job ? -1 : 1));
}

/** A job ran for a run at `at` if the catalog has one of its name scheduled at or after it (1 min slack). */
export function ranFor(lastScheduled: string | undefined, at: number): boolean {
  return lastScheduled !== undefined && lastScheduled >= localText(Math.floor(at / 1000) - 60);
}

/** Latest SchedTime (catalog local time text) per job name. */
export function lastScheduledSql(jobs: readonly string[]): string {
  return `SELECT Name AS name, max(SchedTime) AS last FROM Job WHERE Name IN (${jobs.map(lit).join(', ')}) GROUP BY Name;`;
}

export const missedKey = (job: string) => `backup.job.missed:${job}`;
const PREFIX = 'watch/backup/';
const runKey = (r: ScheduledRun) => `${PREFIX}${String(r.at).padStart(15, '0')}/${r.job}`;
/** runs watched at most; the oldest go first (a director announcing thousands is misconfigured) */
const MAX_WATCHED = 10_000;

export interface ScheduleWatchOptions {
  /** check period (default 5 minutes) */
  intervalMs?: number;
}

export class ScheduleWatch {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private log: Logger;
  private lastRead: { at?: number; error?: string; tried?: number } = {};

  constructor(
    private bctx: BackupContext,
    private o: ScheduleWatchOptions = {},
  ) {
    this.log = bctx.deps.log.child({ area: 'backup.schedule' });
  }

  private get deps(): AgentDeps {
    return this.bctx.deps;
  }

  private get db() {
    return this.deps.store.db('alerts');
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), this.o.intervalMs ?? 5 * 60_000);
    this.timer.unref();
    setImmediate(() => void this.check());
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** The runs being watched, soonest first, and when the director was last read. */
  watched(): { runs: ScheduledRun[]; readAt?: string; error?: string } {
    const runs: ScheduledRun[] = [];
    for (const { value } of this.db.getRange({ start: PREFIX, end: `${PREFIX}\uffff` }))
      runs.push(value as ScheduledRun);
    return {
      runs,
      ...(this.lastRead.at ? { readAt: new Date(this.lastRead.at).toISOString() } : {}),
      ...(this.lastRead.error ? { error: this.lastRead.error } : {}),
    };
  }

  /** A check unless the director was read less than `maxAgeMs` ago. */
  async fresh(maxAgeMs: number): Promise<void> {
    // never answer from a check half done (an alert raised, its run not yet dropped)
    if (this.running) await this.running;
    const at = Math.max(this.lastRead.at ?? 0, this.lastRead.tried ?? 0);
    if (this.deps.clock.now() - at > maxAgeMs) await this.check();
  }

  /** One check; concurrent callers share the one in progress. */
  check(): Promise<void> {
    this.running ??= this.once()
      .catch((err) => this.log.error({ err }, 'schedule check failed'))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private openMissed() {
    return this.deps.alerts
      .list()
      .filter((a) => a.key.startsWith('backup.job.missed:') && a.state !== 'cleared');
  }

  private async once(): Promise<void> {
    const state = this.bctx.store.load();
    const scheduled = state.jobs.filter(
      (j) =>
        j.enabled !== false &&
        j.schedule &&
        state.schedules.some((s) => s.name === j.schedule && s.enabled !== false),
    );
    const defined = new Set(state.jobs.map((j) => j.name));
    let watched = this.watched().runs;
    const open = this.openMissed();
    if (scheduled.length === 0 && watched.length === 0 && open.length === 0) return;
    const now = this.deps.clock.now();

    if (scheduled.length > 0) await this.read(now);
    watched = this.watched().runs;

    const graceMs = this.deps.alerts.rules().thresholds.backupMissedMinutes * 60_000;
    const due = watched.filter((r) => r.at + graceMs <= now);
    const gone = due.filter((r) => !defined.has(r.job));
    for (const r of gone) await this.db.remove(runKey(r));
    const check = due.filter((r) => defined.has(r.job));
    const jobs = [
      ...new Set([...check.map((r) => r.job), ...open.map((a) => String(a.data?.job ?? ''))]),
    ].filter(Boolean);
    if (jobs.length === 0) return;

    let last: Map<string, string>;
    try {
      last = this.bctx.catalog.exists()
        ? new Map(
            (await this.bctx.catalog.query<{ name: string; last: string }>(lastScheduledSql(jobs))).map(
              (r) => [r.name, r.last],
            ),
          )
        : new Map(); // no catalog: Bacula never recorded a job
    } catch (err) {
      this.log.warn({ err }, 'schedule check: the catalog cannot be read; next time');
      return;
    }

    for (const r of check) {
      if (!ranFor(last.get(r.job), r.at)) {
        const when = new Date(r.at).toISOString();
        await this.deps.alerts.raise({
          key: missedKey(r.job),
          level: 'warning',
          source: 'backup',
          title: `backup job ${r.job} missed its schedule`,
          detail:
            `Bacula job ${r.job}${r.level ? ` (${r.level})` : ''} was scheduled for ${when} and has not run ` +
            `${Math.round(graceMs / 60_000)} minutes later. Check that the director runs (backup.status) and ` +
            'that the job is not waiting for a volume or a device; run it now with backup.run.',
          data: { job: r.job, scheduledAt: when, at: r.at, ...(r.level ? { level: r.level } : {}) },
        });
      }
      await this.db.remove(runKey(r));
    }
    for (const a of this.openMissed()) {
      const job = String(a.data?.job ?? '');
      const at = Number(a.data?.at ?? 0);
      if (!defined.has(job) || ranFor(last.get(job), at)) await this.deps.alerts.clear(a.key);
    }
  }

  /** Remember the runs the director announces (future ones only); a director that is down is no error here. */
  private async read(now: number): Promise<void> {
    let runs: ScheduledRun[];
    try {
      await this.bctx.requireTools('bconsole');
      runs = parseScheduled(await this.bctx.bconsole().api('.status dir scheduled', { timeoutMs: 15_000 }));
      this.lastRead = { at: now, tried: now };
    } catch (err) {
      this.lastRead = {
        ...this.lastRead,
        tried: now,
        error: err instanceof RpcError ? err.message : String(err),
      };
      this.log.debug({ err }, 'schedule check: the director cannot be asked; the runs known stay watched');
      return;
    }
    const fresh = runs.filter((r) => r.at > now && !this.db.get(runKey(r)));
    if (fresh.length)
      await this.db.transaction(() => {
        for (const r of fresh) this.db.put(runKey(r), r);
      });
    const keys = [...this.db.getKeys({ start: PREFIX, end: `${PREFIX}\uffff` })];
    for (const k of keys.slice(0, Math.max(0, keys.length - MAX_WATCHED))) await this.db.remove(k);
  }
}
