/**
 * Replication tasks on a schedule and after a snapshot policy's new snapshot: each minute the
 * agent's one cron loop (agent/util/cron-ticker.ts) starts every due task, and the zfs
 * subsystem's `snapshot.policy.run` event (published on deps.events) starts the tasks that name
 * that policy when its run created a snapshot. Both start the same job, with the same lock, as
 * `replication.task.run`: a run in progress makes the new one skipped, logged.
 */
import type { CalendarSource } from '../calendar-registry.js';
import { startScheduledJob } from '../util/cron-schedule.js';
import { CronTicker, nextScheduledRun } from '../util/cron-ticker.js';
import type { RemoteContext } from './context.js';
import type { TaskRecord } from './model.js';
import { runTask, taskLock } from './run.js';

type Scheduled = TaskRecord & { enabled: boolean };
const withEnabled = (t: TaskRecord): Scheduled => ({ ...t, enabled: t.enabled !== false });

export class ReplicationScheduler {
  private ticker: CronTicker<Scheduled>;
  private off: (() => void) | undefined;
  private log;

  constructor(private x: RemoteContext) {
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
  }

  async stop(): Promise<void> {
    this.off?.();
    this.off = undefined;
    await this.ticker.stop();
  }

  tick(): Promise<void> {
    return this.ticker.tick();
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
