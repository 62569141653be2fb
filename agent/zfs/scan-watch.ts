/**
 * Scrub and resilver as jobs: start the operation, then follow `zpool status` until the scan this
 * job started is over, reporting its percentage.
 *
 * Field finding (zfs-fuse 0.7): `zpool scrub` and `zpool replace` do not return until the scan has
 * finished, whereas OpenZFS returns at once. So the start command runs concurrently with the
 * polling loop, without a deadline of its own (the job's AbortSignal ends it), while every status
 * poll has a deadline: a hung `zpool status` fails the job with `timeout` instead of hanging it.
 *
 * "The scan this job started" is recognised by time: a finished or canceled scan counts only if it
 * ended at or after the job's start (the tools print seconds; one second of slack).
 */

import { aborted, RpcError } from '../../rpc/errors.js';
import { pause } from '../util/time.js';
import type { ZfsDriver } from './driver.js';
import { leaves } from './pool-view.js';
import type { ScanFunction, ScanStatus } from './types.js';

export interface ScanWatchOptions {
  driver: ZfsDriver;
  pool: string;
  fn: ScanFunction;
  /** The command that starts the scan (zpool scrub / replace / attach / online). */
  start: string[];
  signal: AbortSignal;
  progress: (percent: number, description: string) => void;
  now: () => number;
  pollMs: number;
  statusTimeoutMs: number;
  /** Run when the job is aborted (zpool scrub -s). */
  onAbort?: string[];
  /**
   * When the start command may legitimately cause no scan at all (online of an unchanged device,
   * attach to an empty pool), end once the command returned and this many polls saw no scan…
   */
  idlePollsAfterStart?: number;
  /**
   * …and no scan was seen for this long after the command returned (as many polls as fit in it; each poll
   * also waits for `zpool status`, so the watch lasts at least this long). The kernel starts a resilver
   * from its own thread, within a transaction group of the command (the CI of stop 35, 2026-12-07:
   * OpenZFS under load started it after the job's two idle polls of 100 ms had said "none").
   */
  settleMs?: number;
}

export interface ScanResult {
  pool: string;
  function: ScanFunction;
  state: 'finished' | 'paused' | 'none';
  errors?: number;
  percent: number;
  scan: ScanStatus;
}

export async function watchScan(o: ScanWatchOptions): Promise<ScanResult> {
  const t0 = Math.floor(o.now() / 1000) * 1000 - 1000;
  let commandDone = false;
  let commandError: unknown;
  // counted in polls, not read from the clock: an agent's clock may be a test's fixed one
  const idlePolls = Math.max(o.idlePollsAfterStart ?? 0, Math.ceil((o.settleMs ?? 0) / o.pollMs));
  const inner = new AbortController();
  const onAbort = () => inner.abort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  const command = o.driver
    .run(o.start, { timeoutMs: 0, signal: inner.signal })
    .then(() => {
      commandDone = true;
    })
    .catch((err) => {
      commandDone = true;
      commandError = err;
    });
  let idle = 0;
  let lastPercent = -1;
  try {
    for (;;) {
      if (commandError) throw commandError;
      if (o.signal.aborted) throw aborted(`${o.fn} of ${o.pool} aborted`);
      const status = await o.driver
        .poolStatus(o.pool, { signal: o.signal, timeoutMs: o.statusTimeoutMs })
        .catch((err) => {
          if (o.signal.aborted) throw aborted(`${o.fn} of ${o.pool} aborted`);
          throw err;
        });
      const scan = status.scan;
      const ours = scan.function === o.fn;
      // OpenZFS defers a resilver asked for while one runs, and marks the devices it will cover
      const pending =
        o.fn === 'resilver' && leaves(status).some((l) => /resilver/.test(l.vdev.activity ?? ''));
      const recent = scan.endedAt !== undefined && scan.endedAt >= t0;
      if (ours && scan.state === 'scanning') {
        idle = 0;
        const p = Math.min(99.9, scan.percent ?? 0);
        if (p !== lastPercent) {
          lastPercent = p;
          o.progress(p, `${o.fn} ${p.toFixed(1)}%${eta(scan)}`);
        }
      } else if (ours && scan.state === 'paused') {
        o.progress(scan.percent ?? 0, `${o.fn} paused`);
        return { pool: o.pool, function: o.fn, state: 'paused', percent: scan.percent ?? 0, scan };
      } else if (ours && scan.state === 'finished' && recent && !pending) {
        await command;
        if (commandError) throw commandError;
        o.progress(100, `${o.fn} finished with ${scan.errors ?? 0} errors`);
        return { pool: o.pool, function: o.fn, state: 'finished', errors: scan.errors, percent: 100, scan };
      } else if (ours && scan.state === 'canceled' && recent) {
        throw aborted(`${o.fn} of ${o.pool} was stopped`, { pool: o.pool });
      } else if (pending) {
        idle = 0; // a resilver is yet to start: not done, not idle
      } else if (commandDone && o.idlePollsAfterStart !== undefined && ++idle >= idlePolls) {
        o.progress(100, `no ${o.fn} was needed`);
        return { pool: o.pool, function: o.fn, state: 'none', percent: 100, scan };
      }
      await pause(o.pollMs, o.signal);
    }
  } catch (err) {
    inner.abort();
    if (o.signal.aborted && o.onAbort && !shuttingDown(o.signal.reason)) {
      // stop the scan itself, not just our watching of it; at agent shutdown the scan goes on in ZFS
      await o.driver.run(o.onAbort, { timeoutMs: o.statusTimeoutMs }).catch(() => {});
    }
    if (o.signal.aborted && !(err instanceof RpcError && err.kind === 'aborted')) {
      throw aborted(`${o.fn} of ${o.pool} aborted`);
    }
    throw err;
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    if (!commandDone) inner.abort();
    await command;
  }
}

/** JobManager.shutdown aborts with "the agent is shutting down"; job.abort with "aborted by request". */
function shuttingDown(reason: unknown): boolean {
  return reason instanceof RpcError && /shutting down/.test(reason.message);
}

function eta(scan: ScanStatus): string {
  return scan.remainingSec !== undefined && scan.remainingSec > 0 ? `, ${scan.remainingSec}s to go` : '';
}

/** A monitor's pause: returns early when stopped (agent/util/time.ts). */
