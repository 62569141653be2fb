/**
 * The standing health check's second duty (issue #26): a member's winbindd that died is started
 * again — under the lock the join and leave jobs take (`shares.directory.ad`), so a restart never
 * races a join that restarts winbindd itself; bounded (a backoff after a failed restart, at most
 * MAX_RESTARTS_PER_HOUR restarts in any hour, then only the alert); audited as the agent's own
 * action; and said in the alert **shares.ad.winbind**, cleared by the next check that finds it running.
 */
import type { AlertPort } from '../alert-engine.js';
import type { AgentDeps } from '../deps.js';

export const WINBIND_ALERT = 'shares.ad.winbind';
/** The lock of shares.directory.ad.join and .leave (directory-ad.ts). */
export const AD_LOCK = 'shares.directory.ad';
/** What the restart's job and audit record are called (not an RPC method: the agent's own action). */
export const REVIVE_ACTION = 'shares.directory.ad.health';
export const MAX_RESTARTS_PER_HOUR = 3;
/** After a failed restart, the next try waits 30 s, then 60 s, 120 s, … up to 15 minutes. */
export const BACKOFF_MS = { first: 30_000, max: 15 * 60_000 };
const HOUR = 3_600_000;

export interface WinbindLike {
  running(): boolean;
  start(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export type Revived =
  | { state: 'running' }
  | { state: 'restarted'; n: number }
  | { state: 'busy'; detail: string }
  | { state: 'waiting'; until: number }
  | { state: 'limited'; n: number }
  | { state: 'failed'; detail: string };

export class WinbindReviver {
  private restarts: number[] = [];
  private failures = 0;
  private nextTry = 0;

  constructor(
    private readonly o: {
      deps: Pick<AgentDeps, 'jobs' | 'audit' | 'clock' | 'log'>;
      alerts: AlertPort;
      winbindd: WinbindLike;
      realm: () => string | undefined;
      /** after a restart: what a join does once winbindd answers (the role mapping reads its groups) */
      after?: () => Promise<void>;
    },
  ) {}

  /** One look at winbindd: running (its alert cleared), or started again within the bounds. */
  async check(): Promise<Revived> {
    const realm = this.o.realm();
    if (!realm) return { state: 'running' };
    if (this.o.winbindd.running()) {
      await this.o.alerts.clear(WINBIND_ALERT);
      return { state: 'running' };
    }
    const now = this.o.deps.clock.now();
    this.restarts = this.restarts.filter((t) => now - t < HOUR);
    if (now < this.nextTry) return { state: 'waiting', until: this.nextTry };
    if (this.restarts.length >= MAX_RESTARTS_PER_HOUR) {
      await this.raise(
        'critical',
        `Active Directory: the member’s winbindd is not running and was not restarted`,
        `It was restarted ${this.restarts.length} times in the last hour (at most ${MAX_RESTARTS_PER_HOUR}); domain users cannot reach the shares. Read its log (log.winbindd in the shares’ log directory), fix the cause, then join again (shares.directory.ad.join).`,
        realm,
      );
      return { state: 'limited', n: this.restarts.length };
    }
    return this.restart(realm, now);
  }

  private async restart(realm: string, now: number): Promise<Revived> {
    let outcome!: Promise<void>;
    try {
      // the join and leave jobs' lock, taken at once or not at all: a join running restarts winbindd itself
      this.o.deps.jobs.start(
        { method: REVIVE_ACTION, user: 'agent', lock: AD_LOCK, title: 'restart the member’s winbindd' },
        (ctx) => {
          outcome = (async () => {
            ctx.progress(10, 'winbindd was not running: starting it');
            await this.o.winbindd.stop();
            await this.o.winbindd.start();
            await this.o.after?.().catch(() => {});
          })();
          return outcome;
        },
      );
    } catch (err) {
      return { state: 'busy', detail: (err as Error).message };
    }
    const t0 = Date.now();
    this.restarts.push(now);
    const n = this.restarts.length;
    const audit = { user: 'agent', transport: 'internal', method: REVIVE_ACTION } as const;
    try {
      await outcome;
    } catch (err) {
      const msg = (err as Error).message;
      this.failures++;
      const wait = Math.min(BACKOFF_MS.first * 2 ** (this.failures - 1), BACKOFF_MS.max);
      this.nextTry = now + wait;
      this.o.deps.audit.append({
        ...audit,
        outcome: 'error',
        durationMs: Date.now() - t0,
        error: { message: msg },
        detail: { action: 'restart winbindd', realm, restartsThisHour: n },
      });
      await this.raise(
        'critical',
        `Active Directory: the member’s winbindd stopped and could not be restarted`,
        `${msg}. Domain users cannot reach the shares; the next try is in ${Math.round(wait / 1000)} s (restart ${n} of at most ${MAX_RESTARTS_PER_HOUR} an hour).`,
        realm,
      );
      return { state: 'failed', detail: msg };
    }
    this.failures = 0;
    this.nextTry = 0;
    this.o.deps.audit.append({
      ...audit,
      outcome: 'ok',
      durationMs: Date.now() - t0,
      detail: { action: 'restart winbindd', realm, restartsThisHour: n },
    });
    this.o.deps.log.warn(
      { area: 'shares', realm, n },
      'shares: the member’s winbindd had stopped; restarted',
    );
    await this.raise(
      'warning',
      `Active Directory: the member’s winbindd had stopped and was restarted`,
      `The health check found it not running and started it again (restart ${n} of at most ${MAX_RESTARTS_PER_HOUR} an hour); it answers now. This alert clears at the next check that finds it running; read log.winbindd if it happens again.`,
      realm,
    );
    return { state: 'restarted', n };
  }

  private raise(level: 'warning' | 'critical', title: string, detail: string, realm: string) {
    return this.o.alerts.raise({
      key: WINBIND_ALERT,
      level,
      source: 'shares',
      title,
      detail,
      data: { realm },
    });
  }
}
