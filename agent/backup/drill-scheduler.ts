/**
 * Scheduled restore drills: each minute, every enabled drill whose cron schedule (UTC) matches
 * that minute and has not run in it starts as a job — the same job, lock and code as
 * `backup.drill.run`, so a scheduled run and a manual one never overlap (the second is `busy`
 * and is skipped, logged). Nothing is spawned while no drill has a schedule.
 */
import type { CalendarSource } from '../calendar-registry.js';
import { startScheduledJob } from '../util/cron-schedule.js';
import { CronTicker, nextScheduledRun } from '../util/cron-ticker.js';
import type { DrillRecord } from './drill-model.js';
import { type DrillEnv, drillJob } from './drill-run.js';

export const drillLock = (name: string) => `backup.drill.run:${name}`;

/** The next scheduled run after `now` (ms), for an enabled drill with a valid schedule. */
export const nextDrillRun = (d: DrillRecord, now: number): number | undefined => nextScheduledRun(d, now);

/** Starts due drills as jobs, on the agent's one cron loop (agent/util/cron-ticker.ts). */
export class DrillScheduler extends CronTicker<DrillRecord> {
  constructor(env: DrillEnv) {
    const deps = env.bctx.deps;
    const log = deps.log.child({ area: 'backup.drill' });
    super({
      now: () => deps.clock.now(),
      records: () => env.store.list(),
      run: async (d, slot) => {
        await env.store.update(d.name, (x) => ({ ...x, lastSlot: slot }));
        const spec = { method: 'backup.drill.run', lock: drillLock(d.name), title: `drill ${d.name}` };
        const s = startScheduledJob(deps.jobs, spec, (jctx) => drillJob(env, d, jctx));
        if ('job' in s) log.info({ drill: d.name, job: s.job }, `drill ${d.name}: scheduled run started`);
        else if (s.busy)
          log.warn({ drill: d.name }, `drill ${d.name}: still running, this scheduled run is skipped`);
        else log.error({ err: s.error, drill: d.name }, `drill ${d.name}: scheduled run not started`);
      },
    });
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
