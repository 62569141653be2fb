/**
 * Scrub schedules per pool: a cron schedule (UTC) per pool, kept in the LMDB `config` db under
 * `zfs/scrub-schedule/<pool>`, run on the agent's one cron loop (agent/util/cron-ticker.ts). A due
 * schedule starts the same job as `pool.scrub` (same lock, so a scrub already running — by hand or
 * a resilver — makes the scheduled one skip, logged and recorded). On the maintenance calendar
 * with the last scrub's result read from the pool's `zpool status` scan line.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { Database } from 'lmdb';
import type { CalendarEntry, CalendarSource } from '../calendar-registry.js';
import * as cron from '../util/cron-schedule.js';
import { CronTicker, nextScheduledRun } from '../util/cron-ticker.js';
import type { ZfsContext } from './context.js';
import { runScrub, scanLock } from './methods-scan.js';
import type { PoolStatus } from './types.js';

/** A scrub schedule as `pool.scrub.schedule.list` shows it (the stored record, with its next run). */
export const ScrubScheduleSchema = cron.scheduleItem(
  { pool: Type.String() },
  {
    lastStart: Type.Optional(
      Type.Object(
        {
          at: Type.Number(),
          job: Type.Optional(Type.String({ description: 'the pool.scrub job it started' })),
          error: Type.Optional(Type.String({ description: 'why it did not start' })),
        },
        { description: 'the last scheduled start' },
      ),
    ),
  },
);

export type ScrubScheduleRecord = Omit<Static<typeof ScrubScheduleSchema>, 'nextRun'>;

const PREFIX = 'zfs/scrub-schedule/';

export class ScrubScheduleStore {
  constructor(private db: Database) {}

  list(): ScrubScheduleRecord[] {
    const out: ScrubScheduleRecord[] = [];
    for (const { value } of this.db.getRange({ start: PREFIX, end: `${PREFIX}\uffff` }))
      out.push(value as ScrubScheduleRecord);
    return out;
  }

  get(pool: string): ScrubScheduleRecord | undefined {
    return this.db.get(PREFIX + pool) as ScrubScheduleRecord | undefined;
  }

  /** Write the record `make` builds from what is stored, in one transaction. */
  write(make: () => ScrubScheduleRecord): Promise<void> {
    return this.db.transaction(() => {
      const r = make();
      void this.db.put(PREFIX + r.pool, r);
    });
  }

  /** Read-change-write in one transaction (the ticker's lastSlot never loses a concurrent set). */
  update(pool: string, fn: (r: ScrubScheduleRecord) => ScrubScheduleRecord): Promise<void> {
    return this.db.transaction(() => {
      const r = this.get(pool);
      if (r) void this.db.put(PREFIX + pool, fn(r));
    });
  }

  delete(pool: string): Promise<boolean> {
    return this.db.remove(PREFIX + pool);
  }
}

/** Starts due scrubs as `pool.scrub` jobs (start, stop and tick are the cron loop's). */
export class ScrubScheduler extends CronTicker<ScrubScheduleRecord> {
  constructor(z: ZfsContext, store: ScrubScheduleStore) {
    const deps = z.deps;
    const log = deps.log.child({ area: 'zfs-scrub-schedule' });
    super({
      now: () => deps.clock.now(),
      records: () => store.list(),
      run: async (r, slot, now) => {
        const spec = {
          method: 'pool.scrub',
          lock: scanLock({ name: r.pool }),
          title: `scheduled scrub ${r.pool}`,
        };
        const s = cron.startScheduledJob(deps.jobs, spec, (jctx) => runScrub(z, r.pool, jctx));
        let lastStart: ScrubScheduleRecord['lastStart'];
        if ('job' in s) {
          lastStart = { at: now, job: s.job };
          log.info({ pool: r.pool, job: s.job }, `scrub of ${r.pool}: scheduled run started`);
        } else {
          const error = s.busy
            ? 'a scrub or resilver was already running: this scheduled scrub was skipped'
            : s.error;
          lastStart = { at: now, error };
          log.warn({ pool: r.pool }, `scrub of ${r.pool}: ${error}`);
        }
        await store.update(r.pool, (x) => ({ ...x, lastSlot: slot, lastStart }));
      },
    });
  }
}

/** The last scrub as `zpool status` tells it (finished or stopped), for the calendar. */
export function lastScrub(s: PoolStatus | undefined): CalendarEntry['lastRun'] {
  const scan = s?.scan;
  if (scan?.function !== 'scrub') return undefined;
  if (scan.state !== 'finished' && scan.state !== 'canceled') return undefined;
  const at = scan.endedAt ?? scan.startedAt;
  if (at === undefined) return undefined;
  const errors = scan.errors ?? 0;
  const ok = scan.state === 'finished' && errors === 0;
  return {
    at: new Date(at).toISOString(),
    result: ok ? 'success' : 'failed',
    summary:
      scan.state === 'canceled'
        ? 'scrub canceled'
        : `scrub repaired ${scan.processed ?? 0} B with ${errors} errors`,
  };
}

/** The scrub schedules on the maintenance calendar (agent/calendar-registry.ts). */
export function scrubCalendar(z: ZfsContext, store: ScrubScheduleStore): CalendarSource {
  return {
    name: 'zfs.scrub',
    entries: async (now) => {
      const recs = store.list();
      if (recs.length === 0) return [];
      await z.ready();
      const status = new Map((await z.driver.status()).map((s) => [s.name, s]));
      return recs.map((r): CalendarEntry => {
        const next = nextScheduledRun(r, now);
        const s = status.get(r.pool);
        const fromStatus = lastScrub(s);
        // a scheduled start that failed (and is newer than the last scrub seen) is the last result
        const failedStart =
          r.lastStart?.error && (!fromStatus || Date.parse(fromStatus.at) < r.lastStart.at)
            ? ({
                at: new Date(r.lastStart.at).toISOString(),
                result: 'failed',
                summary: r.lastStart.error,
              } as const)
            : undefined;
        const lastRun = s
          ? (failedStart ?? fromStatus)
          : ({
              at: new Date(now).toISOString(),
              result: 'failed',
              summary: `pool ${r.pool} is not imported`,
            } as const);
        return {
          id: r.pool,
          title: `scrub of pool ${r.pool}${s?.scan.function === 'scrub' && s.scan.state === 'scanning' ? ` (running, ${s.scan.percent ?? 0}% done)` : ''}`,
          schedule: r.schedule,
          enabled: r.enabled,
          ...(next !== undefined ? { nextRun: new Date(next).toISOString() } : {}),
          ...(lastRun ? { lastRun } : {}),
        };
      });
    },
  };
}
