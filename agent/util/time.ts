/**
 * The agent's one abortable sleep (`sleep` rejects with an `aborted` error on abort, `pause`
 * returns early) and one wait-until helper: polling loops in services and tests use these, not
 * their own setTimeout promises.
 */
import { aborted, RpcError } from '../../rpc/errors.js';

/** Why a sleep was cut short: the signal's reason when it is an RPC error (a job's), else `aborted`. */
const abortError = (signal: AbortSignal | undefined): RpcError =>
  signal?.reason instanceof RpcError ? signal.reason : aborted('aborted');

/** Resolve after `ms`; reject with an `aborted` error as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Resolve after `ms`, or at once when the signal aborts (never rejects): for loops that look at
 * the signal themselves after each pause (monitors that stop quietly).
 */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return sleep(ms, signal).catch(() => {});
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  signal?: AbortSignal;
  /** named in the timeout error */
  what?: string;
}

/**
 * Poll `test` until it returns a truthy value (returned) or the time runs out (throws, naming
 * `what`). Errors thrown by `test` end the wait at once.
 */
export async function waitUntil<T>(
  test: () => T | Promise<T>,
  opts: WaitOptions = {},
): Promise<NonNullable<T>> {
  const until = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    const v = await test();
    if (v) return v as NonNullable<T>;
    if (Date.now() >= until)
      throw new Error(
        `timed out after ${opts.timeoutMs ?? 10_000} ms waiting for ${opts.what ?? 'a condition'}`,
      );
    await sleep(opts.intervalMs ?? 25, opts.signal);
  }
}
