/**
 * Named locks for work that must not overlap on one device: two moves on one robot, or a Bacula
 * `label barcodes` and a move on the same changer. Keys are built from stable identities
 * (`changer:<by-id name or WWN>`), never from kernel names (`sg3` changes across boots), so the
 * same robot gets the same key whichever path reached it.
 *
 * `run` queues: the second caller waits its turn (bounded by `timeoutMs`, then `busy`), so a
 * move issued while an inventory runs happens after it rather than failing.
 */
import { busy } from '../rpc/errors.js';

export type LockKind = 'changer' | 'drive' | 'pool' | 'target';

/** `changer:<id>` from a stable identity; refuses kernel names that do not survive a reboot. */
export function lockKey(kind: LockKind, stableId: string): string {
  if (!stableId || /^\/dev\/(sg|st|nst|sd)[a-z]*\d*$/.test(stableId) || /^(sg|nst|st)\d+$/.test(stableId))
    throw new Error(
      `lock key for ${kind}: "${stableId}" is not a stable identity (use by-id, WWN or serial)`,
    );
  return `${kind}:${stableId}`;
}

export class Locks {
  private tails = new Map<string, Promise<void>>();
  private holders = new Map<string, string>();

  /** Who holds `key` now (a description), if anyone. */
  holder(key: string): string | undefined {
    return this.holders.get(key);
  }

  /** Run `fn` holding `key`; waits for earlier holders up to `timeoutMs` (default 10 min). */
  async run<T>(key: string, what: string, fn: () => Promise<T>, timeoutMs = 600_000): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        prev,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                busy(`${key}: still held by ${this.holders.get(key) ?? 'another operation'}`, { lock: key }),
              ),
            timeoutMs,
          );
          timer.unref();
        }),
      ]);
    } catch (err) {
      // give up our place: release at once so that later waiters are not held up by us
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    this.holders.set(key, what);
    try {
      return await fn();
    } finally {
      this.holders.delete(key);
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
