/**
 * The hotplug monitor: runs `udevadm monitor --udev --property` through the Runner (or takes a
 * replayed text stream), parses events, debounces them into batches, and restarts udevadm when
 * it dies. udev events, not kernel ones: after rule processing the udev database and the
 * /dev/disk links the probes read are already up to date.
 *
 * Debounce: a burst (a JBOD powering up, a rescan) becomes one batch, coalesced per device
 * (last event wins: the consumer re-reads sysfs anyway); a batch waits `debounceMs` after the
 * last event but never more than `maxWaitMs` after the first, so a pulled disk is noticed well
 * within a second.
 */
import type { Logger } from 'pino';
import type { Runner, SpawnedCommand } from '../agent/runner.js';
import { MonitorParser, type UdevEvent } from './parse-monitor.js';

export type { UdevEvent } from './parse-monitor.js';

/** Subsystems the hardware inventory cares about. */
export const WATCHED_SUBSYSTEMS = [
  'block',
  'scsi',
  'scsi_host',
  'scsi_tape',
  'scsi_generic',
  'scsi_changer',
  'enclosure',
  'nvme',
];

export interface UdevMonitorOptions {
  /** Runs udevadm; without one the monitor only takes `feed()` (replays, tests). */
  runner?: Runner;
  onEvents(events: UdevEvent[]): void;
  /** After udevadm was restarted: events may have been lost, re-read everything. */
  onResync?(): void;
  log?: Logger;
  debounceMs?: number;
  maxWaitMs?: number;
  /** First restart delay; doubles per consecutive failure up to maxRestartDelayMs. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** A run shorter than this counts as a failure for the backoff. */
  healthyRunMs?: number;
  /** The command; default `udevadm monitor --udev --property --subsystem-match=…`. */
  argv?: string[];
}

export function monitorArgv(subsystems: readonly string[] = WATCHED_SUBSYSTEMS): string[] {
  return ['udevadm', 'monitor', '--udev', '--property', ...subsystems.map((s) => `--subsystem-match=${s}`)];
}

export class UdevMonitor {
  private parser = new MonitorParser();
  private batch = new Map<string, UdevEvent>();
  private firstAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private proc: SpawnedCommand | undefined;
  private abort: AbortController | undefined;
  private stopped = true;
  private failures = 0;
  /** How many times udevadm was (re)started. */
  starts = 0;
  private readonly o: Required<Omit<UdevMonitorOptions, 'runner' | 'log' | 'onResync' | 'argv'>> &
    UdevMonitorOptions;

  constructor(opts: UdevMonitorOptions) {
    this.o = {
      debounceMs: 150,
      maxWaitMs: 500,
      restartDelayMs: 500,
      maxRestartDelayMs: 30_000,
      healthyRunMs: 10_000,
      ...opts,
    };
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  /** Start udevadm (needs a runner). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.spawn();
  }

  /** Feed recorded monitor text (or a live chunk) into the parser. */
  feed(text: string): void {
    for (const e of this.parser.push(text)) this.enqueue(e);
  }

  /** End of a replayed stream: flush the last event and deliver the batch now. */
  endFeed(): void {
    for (const e of this.parser.end()) this.enqueue(e);
    this.deliver();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const p = this.proc;
    this.abort?.abort();
    if (p) await p.done.catch(() => {});
    this.proc = undefined;
    this.batch.clear();
  }

  private spawn(): void {
    const runner = this.o.runner;
    if (!runner || this.stopped) return;
    const argv = this.o.argv ?? monitorArgv();
    const started = Date.now();
    this.abort = new AbortController();
    this.parser = new MonitorParser();
    let cmd: SpawnedCommand;
    try {
      cmd = runner.spawn(argv, { timeoutMs: 0, signal: this.abort.signal, dieWithParent: true });
    } catch (err) {
      this.o.log?.warn({ err: (err as Error).message }, 'udev monitor: cannot start udevadm');
      this.scheduleRestart(0);
      return;
    }
    this.proc = cmd;
    this.starts++;
    if (this.starts > 1) this.o.onResync?.();
    cmd.child.stdout?.setEncoding('utf8');
    cmd.child.stdout?.on('data', (s: string) => this.feed(s));
    const ended = (why: string) => {
      if (this.proc !== cmd) return;
      this.proc = undefined;
      for (const e of this.parser.end()) this.enqueue(e);
      if (this.stopped) return;
      this.o.log?.warn({ argv, why }, 'udev monitor: udevadm exited; restarting');
      this.scheduleRestart(Date.now() - started);
    };
    cmd.done.then(
      (r) => ended(`exit code ${r.code}`),
      (err: Error) => ended(err.message),
    );
  }

  private scheduleRestart(ranMs: number): void {
    if (this.stopped) return;
    this.failures = ranMs >= this.o.healthyRunMs ? 0 : this.failures + 1;
    const delay = Math.min(
      this.o.maxRestartDelayMs,
      this.o.restartDelayMs * 2 ** Math.max(0, this.failures - 1),
    );
    this.restartTimer = setTimeout(() => this.spawn(), delay);
    this.restartTimer.unref?.();
  }

  private enqueue(e: UdevEvent): void {
    const now = Date.now();
    if (this.batch.size === 0) this.firstAt = now;
    this.batch.delete(e.devpath); // re-insert: batch order is the order of last events
    this.batch.set(e.devpath, e);
    if (this.timer) clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.o.debounceMs, this.firstAt + this.o.maxWaitMs - now));
    this.timer = setTimeout(() => this.deliver(), wait);
  }

  private deliver(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.batch.size === 0) return;
    const events = [...this.batch.values()];
    this.batch.clear();
    try {
      this.o.onEvents(events);
    } catch (err) {
      this.o.log?.error({ err: (err as Error).message }, 'udev monitor: event handler failed');
    }
  }
}
