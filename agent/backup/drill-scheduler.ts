/**
 * Scheduled restore drills: each minute, every enabled drill whose cron schedule (UTC) matches
 * that minute and has not run in it starts as a job — the same job, lock and code as
 * `backup.drill.run`, so a scheduled run and a manual one never overlap (the second is `busy`
 * and is skipped, logged). Nothing is spawned while no drill has a schedule.
 */
import type { Logger } from 'pino';
import { RpcError } from '../../rpc/errors.js';
import type { CalendarSource } from '../calendar-registry.js';
import { cronMatches, nextRun, parseCron } from '../util/cron.js';
import type { DrillRecord } from './drill-model.js';
import { type DrillEnv, drillJob } from './drill-run.js';

export const drillLock = (name: string) => `backup.drill.run:${name}`;

/** The next scheduled run after `now` (ms), for an enabled drill with a valid schedule. */
export function nextDrillRun(d: DrillRecord, now: number): number | undefined {
  if (!d.enabled || !d.schedule) return undefined;
  try {
    return nextRun(parseCron(d.schedule), now);
  } catch {
    return undefined; // validated on write
  }
}

export class DrillScheduler {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private log: Logger;

  constructor(private env: DrillEnv) {
    this.log = env.bctx.deps.log.child({ area: 'backup.drill' });
  }

  start(tickMs = 30_000): void {
    if (tickMs <= 0) return;
    this.timer = setInterval(() => void this.tick(), tickMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /** Start every due drill as a job; returns the job ids started. */
  tick(): Promise<void> {
    this.ticking ??= this.once().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async once(): Promise<void> {
    const deps = this.env.bctx.deps;
    const slot = Math.floor(deps.clock.now() / 60_000) * 60_000;
    for (const d of this.env.store.list()) {
      if (!d.enabled || !d.schedule || d.lastSlot === slot) continue;
      let due = false;
      try {
        due = cronMatches(parseCron(d.schedule), slot);
      } catch {
        continue;
      }
      if (!due) continue;
      await this.env.store.update(d.name, (x) => ({ ...x, lastSlot: slot }));
      try {
        const id = deps.jobs.start(
          {
            method: 'backup.drill.run',
            user: 'calypso-scheduler',
            lock: drillLock(d.name),
            title: `drill ${d.name}`,
          },
          (jctx) => drillJob(this.env, d, jctx),
        );
        this.log.info({ drill: d.name, job: id }, `drill ${d.name}: scheduled run started`);
      } catch (err) {
        if (err instanceof RpcError && err.kind === 'busy') {
          this.log.warn({ drill: d.name }, `drill ${d.name}: still running, this scheduled run is skipped`);
        } else this.log.error({ err, drill: d.name }, `drill ${d.name}: scheduled run not started`);
      }
    }
  }
}

/** The drills on the maintenance calendar (agent/calendar-registry.ts). */
export function drillCalendar(env: DrillEnv): CalendarSource {
  return {
    name: 'backup.drill',
    entries: (now) =>
      env.store.list().map((d) => {
        const last = env.store.reports(d.name)[0];
        const next = nextDrillRun(d, now);
        return {
          id: d.name,
          title: `restore drill of backup job ${d.job}${d.sample !== undefined ? ` (sample of ${d.sample} files)` : ''}`,
          ...(d.schedule ? { schedule: d.schedule } : {}),
          enabled: d.enabled,
          ...(next !== undefined ? { nextRun: new Date(next).toISOString() } : {}),
          ...(last
            ? {
                lastRun: {
                  at: last.at,
                  result: last.result === 'passed' ? 'success' : 'failed',
                  summary: last.message,
                } as const,
              }
            : {}),
        };
      }),
  };
}
