/**
 * Replication tasks on a schedule and after a snapshot policy's new snapshot: each minute the
 * agent's one cron loop (agent/util/cron-ticker.ts) starts every due task, and the zfs
 * subsystem's `snapshot.policy.run` event (published on deps.events) starts the tasks that name
 * that policy when its run created a snapshot. Both start the same job, with the same lock, as
 * `replication.task.run`: a run in progress makes the new one skipped, logged. A task's
 * `drillSchedule` starts its replica drill (drill.ts) the same way, under the same lock.
 */
import type { CalendarSource } from '../calendar-registry.js';
import { startScheduledJob } from '../util/cron-schedule.js';
import { CronTicker, nextScheduledRun } from '../util/cron-ticker.js';
import type { RemoteContext } from './context.js';
import { DEFAULT_LIMITS, type DrillEnv, runDrill } from './drill.js';
import type { TaskRecord } from './model.js';
import { runTask, taskLock } from './run.js';

type Scheduled = TaskRecord & { enabled: boolean };
const withEnabled = (t: TaskRecord): Scheduled => ({ ...t, enabled: t.enabled !== false });
/** the task as its drill's cron record: the drill's schedule and slot */
const asDrill = (t: TaskRecord): Scheduled => ({
  ...t,
  enabled: t.enabled !== false,
  schedule: t.drillSchedule,
  lastSlot: t.lastDrillSlot,
});

export class ReplicationScheduler {
  private ticker: CronTicker<Scheduled>;
  private drills: CronTicker<Scheduled>;
  private off: (() => void) | undefined;
  private log;

  constructor(
    private x: RemoteContext,
    drillEnv: DrillEnv,
  ) {
    const deps = x.deps;
    this.log = deps.log.child({ area: 'replication' });
    this.ticker = new CronTicker<Scheduled>({
      now: () => deps.clock.now(),
      records: () => x.store.tasks().map(withEnabled),
      run: async (t, slot) => {
        await x.store.updateTask(t.id, (cur) => ({ ...cur, lastSlot: slot }));
        this.start(t.id, 'scheduled');
      },
    });
    this.drills = new CronTicker<Scheduled>({
      now: () => deps.clock.now(),
      records: () => x.store.tasks().map(asDrill),
      run: async (t, slot) => {
        await x.store.updateTask(t.id, (cur) => ({ ...cur, lastDrillSlot: slot }));
        const spec = {
          method: 'replication.drill.run',
          lock: taskLock(t.id),
          title: `replica drill of replication task ${t.id} (scheduled)`,
        };
        const s = startScheduledJob(deps.jobs, spec, (jctx) =>
          runDrill(drillEnv, t.id, DEFAULT_LIMITS, {
            dryRun: false,
            signal: jctx.signal,
            progress: jctx.progress,
          }),
        );
        if ('job' in s)
          this.log.info({ task: t.id, job: s.job }, `replica drill of ${t.id}: scheduled run started`);
        else if (s.busy) this.log.warn({ task: t.id }, `replica drill of ${t.id}: the task is busy, skipped`);
        else this.log.error({ err: s.error, task: t.id }, `replica drill of ${t.id}: not started`);
      },
    });
  }

  /** Start the task's run as a job (the same job and lock as replication.task.run); busy → skipped. */
  start(id: string, why: string): string | undefined {
    const spec = {
      method: 'replication.task.run',
      lock: taskLock(id),
      title: `replication task ${id} (${why})`,
    };
    const s = startScheduledJob(this.x.deps.jobs, spec, (jctx) =>
      runTask(this.x, id, { dryRun: false, signal: jctx.signal, progress: jctx.progress }),
    );
    if ('job' in s) {
      this.log.info({ task: id, job: s.job }, `replication task ${id}: ${why} run started`);
      return s.job;
    }
    if (s.busy)
      this.log.warn({ task: id }, `replication task ${id}: still running, this ${why} run is skipped`);
    else this.log.error({ err: s.error, task: id }, `replication task ${id}: ${why} run not started`);
    return undefined;
  }

  /** After a snapshot policy's run: the enabled tasks that follow it, when it made a snapshot. */
  onPolicyRun(data: unknown): void {
    const d = data as { id?: unknown; created?: unknown };
    if (typeof d?.id !== 'string' || !d.created) return;
    for (const t of this.x.store.tasks())
      if (t.onSnapshotPolicy === d.id && t.enabled !== false) this.start(t.id, `snapshot policy ${d.id}`);
  }

  startTicking(tickMs: number): void {
    this.off ??= this.x.deps.events.on(['snapshot.policy.run'], (ev) => this.onPolicyRun(ev.data));
    this.ticker.start(tickMs);
    this.drills.start(tickMs);
  }

  async stop(): Promise<void> {
    this.off?.();
    this.off = undefined;
    await this.ticker.stop();
    await this.drills.stop();
  }

  async tick(): Promise<void> {
    await this.ticker.tick();
    await this.drills.tick();
  }
}

/** Replication tasks on the maintenance calendar (agent/calendar-registry.ts). */
export function replicationCalendar(x: RemoteContext): CalendarSource {
  return {
    name: 'replication.task',
    entries: (now) =>
      x.store
        .tasks()
        .filter((t) => t.schedule || t.onSnapshotPolicy)
        .map((t) => {
          const next = nextScheduledRun(withEnabled(t), now);
          const what =
            t.direction === 'pull' ? `pull ${t.source} from ${t.remote}` : `push ${t.source} to ${t.remote}`;
          return {
            id: t.id,
            title: `replication: ${what}${t.recursive ? ' (recursive)' : ''}`,
            schedule: [t.schedule, t.onSnapshotPolicy && `after snapshot policy ${t.onSnapshotPolicy}`]
              .filter(Boolean)
              .join('; '),
            enabled: t.enabled !== false,
            ...(next !== undefined ? { nextRun: new Date(next).toISOString() } : {}),
            ...(t.lastRun
              ? {
                  lastRun: {
                    at: new Date(t.lastRun.time).toISOString(),
                    result: t.lastRun.ok ? 'success' : 'failed',
                    summary: t.lastRun.ok
                      ? `${t.lastRun.mode ?? ''} @${t.lastRun.snapshot ?? ''}, ${t.lastRun.bytes ?? 0} bytes`
                      : (t.lastRun.error ?? 'failed'),
                  } as const,
                }
              : {}),
          };
        }),
  };
}

/** Replica drills on the maintenance calendar (the tasks with a drillSchedule). */
export function drillCalendar(env: DrillEnv): CalendarSource {
  return {
    name: 'replication.drill',
    entries: (now) =>
      env.x.store
        .tasks()
        .filter((t) => t.drillSchedule)
        .map((t) => {
          const next = nextScheduledRun(asDrill(t), now);
          const last = env.reports.list(t.id)[0];
          return {
            id: t.id,
            title: `replica drill of replication task ${t.id} (${t.target} on ${t.direction === 'pull' ? 'here' : t.remote})`,
            schedule: t.drillSchedule!,
            enabled: t.enabled !== false,
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
