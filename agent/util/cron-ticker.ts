/**
 * The one scheduler loop for anything that runs on a five-field cron schedule (snapshot policies,
 * restore drills, replication tasks, scrubs, SMART tests): every `tickMs` it takes the current
 * minute, and for each record that is enabled, has a schedule matching that minute and has not
 * run in it (`lastSlot`), it calls `run`. A tick never overlaps the previous one; a slot missed
 * while the agent was down is not caught up (the next matching minute runs). Records with a
 * schedule that no longer parses never run (schedules are validated on write).
 */
import { cronMatches, nextRun, parseCron } from './cron.js';

export interface CronRecord {
  enabled: boolean;
  schedule?: string | undefined;
  lastSlot?: number | undefined;
}

export interface CronTickerOptions<T extends CronRecord> {
  now(): number;
  /** the records as they are now (read on every tick) */
  records(): Iterable<T>;
  /** run one due record; `slot` is the minute (ms) it is due in. Errors are the caller's to log. */
  run(record: T, slot: number, now: number): Promise<void>;
  onError?(record: T, err: unknown): void;
}

/** The minute (ms since the epoch, UTC) `now` falls in. */
export const minuteSlot = (now: number): number => Math.floor(now / 60_000) * 60_000;

/** True when `r` is due in `slot`: enabled, scheduled, matching, and not run in that minute yet. */
export function dueIn(r: CronRecord, slot: number): boolean {
  if (!r.enabled || !r.schedule || r.lastSlot === slot) return false;
  try {
    return cronMatches(parseCron(r.schedule), slot);
  } catch {
    return false;
  }
}

/** The next run after `now` (ms), for an enabled record with a valid schedule. */
export function nextScheduledRun(r: CronRecord, now: number): number | undefined {
  if (!r.enabled || !r.schedule) return undefined;
  try {
    return nextRun(parseCron(r.schedule), now);
  } catch {
    return undefined;
  }
}

export class CronTicker<T extends CronRecord> {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  constructor(private o: CronTickerOptions<T>) {}

  /** Tick every `tickMs` (0 or less: never; tests call tick()). The timer does not keep the process up. */
  start(tickMs: number): void {
    if (tickMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.tick(), tickMs);
    this.timer.unref();
  }

  /** Stop ticking and wait for a tick in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /** Run every due record, one after the other; a tick already running is joined, not doubled. */
  tick(): Promise<void> {
    this.ticking ??= this.once().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async once(): Promise<void> {
    const now = this.o.now();
    const slot = minuteSlot(now);
    for (const r of [...this.o.records()]) {
      if (!dueIn(r, slot)) continue;
      try {
        await this.o.run(r, slot, now);
      } catch (err) {
        this.o.onError?.(r, err);
      }
    }
  }
}
