/**
 * A connection's session (identity, notifications, close hooks) and the context a direct call
 * gets. Split from the core so that each file keeps to one concern.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { RpcError } from './errors.js';
import type { CallContext, SessionHandle } from './registry.js';
import type { Identity } from './roles.js';

export interface Session extends SessionHandle {
  identity: Identity;
  /** sessions with live subscriptions or terminals are not closed for idleness */
  keepAlive: number;
  /**
   * Admit `bytes` of answers about to be built (a batch's, before they are joined): false when
   * they do not fit the connection's output budgets, and the transport then closes it.
   */
  reserveOutput?(bytes: number): boolean;
}

/**
 * The context handed to a direct (non-job) call. The abort signal and the child logger are
 * created on first use: most calls look at neither, and an AbortSignal or a pino child per
 * call was the largest single cost of a cheap call.
 */
export class Ctx implements CallContext {
  private controller?: AbortController;
  private unlisten?: () => void;
  private childLog?: Logger;
  private observe?: (method: string, seconds: number, ok: boolean) => void;
  private t0 = 0;
  constructor(
    readonly identity: Identity,
    readonly session: Session,
    private baseLog: Logger,
    private method: string,
    readonly dryRun: boolean,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      const c = new AbortController();
      this.controller = c;
      // the command runner queues a call's commands in its caller's lane (issue #28 item 4)
      const id = this.identity;
      SIGNAL_CALLERS.set(c.signal, {
        key: id.tokenId ? `token ${id.tokenId}` : id.uid !== undefined ? `uid ${id.uid}` : `user ${id.user}`,
        admin: id.role === 'admin',
      });
      this.unlisten = this.session.onClose(() => c.abort(new RpcError('aborted', 'the connection closed')));
    }
    return this.controller.signal;
  }

  get log(): Logger {
    this.childLog ??= this.baseLog.child({ method: this.method, user: this.identity.user });
    return this.childLog;
  }

  progress(): void {}

  /** Facts the handler added for the audit record (CallContext.auditDetail). */
  detail?: Record<string, unknown>;
  auditDetail(detail: Record<string, unknown>): void {
    this.detail = { ...this.detail, ...detail };
  }

  /** Set by the core for a real mutation (CallContext.commitAudit). */
  commitAudit?: () => void;

  /** Report this call's duration and outcome when it settles (metrics). */
  timed(observe: (method: string, seconds: number, ok: boolean) => void, started: number): void {
    this.observe = observe;
    this.t0 = started;
  }

  /** The handler's promise, with the close listener (if a signal was taken) removed when it settles. */
  settle<T>(p: Promise<T>): Promise<T> {
    // looked up when the call settles: the signal may be taken after the handler's first await
    return p.then(
      (r) => {
        this.unlisten?.();
        this.observe?.(this.method, (performance.now() - this.t0) / 1000, true);
        return r;
      },
      (e) => {
        this.unlisten?.();
        this.observe?.(this.method, (performance.now() - this.t0) / 1000, false);
        throw e;
      },
    );
  }
}

/** Who a call's abort signal belongs to (set when a handler takes `ctx.signal`). */
export interface Caller {
  key: string;
  admin: boolean;
}
const SIGNAL_CALLERS = new WeakMap<AbortSignal, Caller>();
export function callerOf(signal: AbortSignal | undefined): Caller | undefined {
  return signal ? SIGNAL_CALLERS.get(signal) : undefined;
}

export function newSession(identity: Identity, notify: (method: string, params: unknown) => void): Session {
  const closers = new Set<() => void>();
  const s: Session = {
    id: randomUUID(),
    identity,
    keepAlive: 0,
    closed: false,
    notify: (method, params) => {
      if (!s.closed) notify(method, params);
    },
    onClose: (fn) => {
      if (s.closed) {
        fn();
        return () => {};
      }
      closers.add(fn);
      return () => closers.delete(fn);
    },
  };
  (s as { close?: () => void }).close = () => {
    if (s.closed) return;
    (s as { closed: boolean }).closed = true;
    const fns = [...closers];
    closers.clear();
    for (const fn of fns) {
      try {
        fn();
      } catch {
        /* ignore */
      }
    }
  };
  return s;
}

export function closeSession(s: Session): void {
  (s as { close?: () => void }).close?.();
}
