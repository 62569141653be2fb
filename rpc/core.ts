/**
 * The transport-agnostic JSON-RPC core.
 *
 * Transports hand it one message text and a session; it returns the response text (or nothing
 * for notifications). Framing checks, batches and request-shape validation are done here;
 * single requests are dispatched through json-rpc-2.0's JSONRPCServer. We do not hand whole
 * batches to the library: it answers a one-element batch with a bare object instead of an
 * array and throws on `null` batch members, both of which the spec forbids.
 *
 * For each call: role check (denials audited) → params validation against the method's schema
 * → dry run / job / direct call → audit of mutations → the one error mapping point.
 */
import { randomUUID } from 'node:crypto';
import { type JSONRPCRequest, type JSONRPCResponse, JSONRPCServer } from 'json-rpc-2.0';
import type { Logger } from 'pino';
import type { AuditLog } from '../agent/audit.js';
import type { JobManager } from '../agent/jobs.js';
import { redactParams } from '../agent/log.js';
import {
  denied,
  InvalidParamsError,
  PROTOCOL_ERRORS,
  RpcError,
  toWireError,
  type WireError,
} from './errors.js';
import {
  type AnyMethodDef,
  type CallContext,
  callHandler,
  isDryRunPlan,
  type RegisteredMethod,
  type Registry,
  type SessionHandle,
} from './registry.js';
import { type Identity, roleAllows } from './roles.js';

export interface Limits {
  maxMessageBytes: number;
  maxBatch: number;
  maxDepth: number;
}

export interface Session extends SessionHandle {
  identity: Identity;
  /** sessions with live subscriptions or terminals are not closed for idleness */
  keepAlive: number;
}

export interface CoreOptions {
  registry: Registry;
  limits: Limits;
  audit: AuditLog;
  jobs: JobManager;
  log: Logger;
  /** Validate handler results against their schemas (tests turn this on). */
  checkResults?: boolean;
  /**
   * Re-check an identity before each call (a revoked or expired API token stops working on
   * connections that are already open). Returns false to deny.
   */
  revalidate?: (identity: Identity) => boolean;
  /**
   * Check a method's declared needs (`requires: ['zfs']`): resolves when all are present,
   * rejects with `unavailable` and the reason otherwise. The agent provides it from its
   * capability detection; the core knows nothing of tools.
   */
  requirements?: (names: readonly string[]) => Promise<void>;
}

type ServerParams = { session: Session };
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export class RpcCore {
  private server = new JSONRPCServer<ServerParams>({ errorListener: () => {} });

  constructor(private opts: CoreOptions) {
    this.server.mapErrorToJSONRPCErrorResponse = (id, error) => ({
      jsonrpc: '2.0',
      id,
      error: toWireError(error, (e) => this.opts.log.error({ err: e }, 'rpc: unexpected error')),
    });
    for (const m of opts.registry.list()) {
      this.server.addMethodAdvanced(m.def.name, (req, sp) =>
        this.invoke(m, req.params, sp.session).then((result) =>
          req.id === undefined ? null : { jsonrpc: '2.0', id: req.id, result: result ?? null },
        ),
      );
    }
  }

  /**
   * Handle one framed message. Returns the response text, or undefined when nothing is to be sent.
   * Not an async function: a single request goes straight to json-rpc-2.0 and back with one
   * `then`, which keeps a cheap call's allocations (and so the young-generation collections
   * that set the tail latency under load) down.
   */
  handleText(text: string, session: Session): Promise<string | undefined> {
    try {
      const parsed = this.frame(text);
      if (parsed instanceof Refused) return Promise.resolve(parsed.text);
      if (!Array.isArray(parsed)) {
        if (!isRequestShape(parsed)) return Promise.resolve(JSON.stringify(this.invalid(parsed)));
        const res = this.server.receive(parsed as unknown as JSONRPCRequest, serverParams(session));
        return (res as Promise<JSONRPCResponse | null>).then(toText);
      }
      return this.handleParsed(parsed, session).then(toText);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Size, syntax and depth checks: the parsed message, or the error response to send instead. */
  private frame(text: string): Json | Refused {
    if (Buffer.byteLength(text, 'utf8') > this.opts.limits.maxMessageBytes) {
      return refused(
        errorResponse(null, {
          ...PROTOCOL_ERRORS.invalid_request,
          data: { kind: 'limit', reason: `message exceeds ${this.opts.limits.maxMessageBytes} bytes` },
        }),
      );
    }
    let parsed: Json;
    try {
      parsed = JSON.parse(text);
    } catch {
      return refused(errorResponse(null, PROTOCOL_ERRORS.parse_error));
    }
    // a text shorter than twice the depth limit cannot nest deeper than it
    if (
      text.length > 2 * this.opts.limits.maxDepth &&
      depthOf(parsed, this.opts.limits.maxDepth + 1) > this.opts.limits.maxDepth
    ) {
      return refused(
        errorResponse(null, {
          ...PROTOCOL_ERRORS.invalid_request,
          data: { kind: 'limit', reason: `nesting deeper than ${this.opts.limits.maxDepth}` },
        }),
      );
    }
    return parsed;
  }

  private invalid(msg: Json): JSONRPCResponse {
    const id = msg && typeof msg === 'object' && !Array.isArray(msg) && isId(msg.id) ? msg.id : null;
    return errorResponse(id, PROTOCOL_ERRORS.invalid_request);
  }

  async handleParsed(
    parsed: Json,
    session: Session,
  ): Promise<JSONRPCResponse | JSONRPCResponse[] | undefined> {
    if (Array.isArray(parsed)) {
      if (parsed.length === 0) return errorResponse(null, PROTOCOL_ERRORS.invalid_request);
      if (parsed.length > this.opts.limits.maxBatch) {
        return errorResponse(null, {
          ...PROTOCOL_ERRORS.invalid_request,
          data: { kind: 'limit', reason: `batch longer than ${this.opts.limits.maxBatch}` },
        });
      }
      const responses = await Promise.all(parsed.map((p) => this.handleSingle(p, session)));
      const present = responses.filter((r): r is JSONRPCResponse => r !== undefined);
      return present.length ? present : undefined;
    }
    return this.handleSingle(parsed, session);
  }

  private async handleSingle(msg: Json, session: Session): Promise<JSONRPCResponse | undefined> {
    if (!isRequestShape(msg)) return this.invalid(msg);
    const res = await this.server.receive(msg as unknown as JSONRPCRequest, serverParams(session));
    return (res as JSONRPCResponse | null) ?? undefined;
  }

  /** In-process call (tests, internal tools): same checks as the wire, throws RpcError. */
  async call(method: string, params: unknown, session: Session): Promise<unknown> {
    const m = this.opts.registry.get(method);
    if (!m) throw new RpcError('not_found', `method ${method} does not exist`);
    return this.invoke(m, params, session);
  }

  private invoke(m: RegisteredMethod, rawParams: unknown, session: Session): Promise<unknown> {
    const def = m.def;
    const identity = session.identity;
    const started = performance.now();
    const stale = identity.tokenId !== undefined && this.opts.revalidate && !this.opts.revalidate(identity);
    if (stale || !roleAllows(identity.role, def.role))
      return Promise.reject(this.deny(def, rawParams, identity, stale));
    if (Array.isArray(rawParams)) {
      return Promise.reject(
        new InvalidParamsError('params must be an object: methods take their parameters by name', [
          { path: '', message: 'by-position params are not supported' },
        ]),
      );
    }
    const params = (rawParams ?? {}) as Record<string, unknown>;
    const check = m.check;
    if (!check.Check(params)) {
      const errors = [...check.Errors(params)]
        .slice(0, 10)
        .map((e) => ({ path: e.path || '/', message: e.message }));
      const first = errors[0];
      return Promise.reject(
        new InvalidParamsError(
          `invalid params for ${def.name}: ${first ? `${first.path} ${first.message}` : 'schema mismatch'}`,
          errors,
        ),
      );
    }
    if (def.requires?.length && this.opts.requirements) {
      return this.opts.requirements(def.requires).then(() => this.dispatch(m, params, session, started));
    }
    return this.dispatch(m, params, session, started);
  }

  private dispatch(
    m: RegisteredMethod,
    params: Record<string, unknown>,
    session: Session,
    started: number,
  ): Promise<unknown> {
    const def = m.def;
    const identity = session.identity;
    // The hot path (reads): no audit record, no copy of the params, no closures. A read's
    // per-call garbage lived long enough under load to be promoted and cost old-space GCs.
    if (!def.mutating && !def.job) {
      const ctx = new Ctx(identity, session, this.opts.log, def.name, false);
      const p = callHandler(def, params, ctx);
      if (!this.opts.checkResults) return ctx.settle(p);
      return ctx.settle(p).then((result) => {
        this.checkResult(m, result);
        return result;
      });
    }
    return this.invokeMutating(m, params, session, started);
  }

  private deny(
    def: AnyMethodDef,
    rawParams: unknown,
    identity: Identity,
    stale: boolean | undefined,
  ): RpcError {
    this.opts.audit.append({
      user: identity.user,
      uid: identity.uid,
      transport: identity.transport,
      method: def.name,
      params: redactParams(rawParams, def.secretParams),
      outcome: 'denied',
      error: {
        kind: 'denied',
        message: stale ? 'token revoked or expired' : `role ${identity.role} may not call ${def.name}`,
      },
    });
    if (stale) return denied('the API token was revoked or has expired', { method: def.name });
    return denied(`${def.name} needs the ${def.role} role; ${identity.user} has ${identity.role}`, {
      method: def.name,
      need: def.role,
      have: identity.role,
    });
  }

  private async invokeMutating(
    m: RegisteredMethod,
    params: Record<string, unknown>,
    session: Session,
    started: number,
  ): Promise<unknown> {
    const { def } = m;
    const identity = session.identity;
    const auditBase = {
      user: identity.user,
      uid: identity.uid,
      transport: identity.transport,
      method: def.name,
    };
    const dryRun = def.mutating && params.dryRun === true;
    const handlerParams = { ...params };
    delete handlerParams.dryRun;
    const redacted = def.mutating ? redactParams(handlerParams, def.secretParams) : undefined;
    const ctx = new Ctx(identity, session, this.opts.log, def.name, dryRun);

    if (def.job && !dryRun) {
      // a job outlives the connection that started it: it gets the job's own signal
      const spec = def.job;
      const jobId = this.opts.jobs.start(
        {
          method: def.name,
          user: identity.user,
          lock: (spec.lock as ((p: unknown) => string) | undefined)?.(handlerParams),
          title: (spec.title as ((p: unknown) => string) | undefined)?.(handlerParams),
        },
        async (j) => {
          const jobStarted = performance.now();
          try {
            const r = await callHandler(def, handlerParams, {
              identity,
              log: ctx.log,
              dryRun: false,
              session,
              signal: j.signal,
              progress: j.progress,
              jobId: j.id,
            });
            if (def.mutating) this.auditDone(auditBase, redacted, 'ok', jobStarted, undefined, j.id);
            return r;
          } catch (err) {
            if (def.mutating) this.auditDone(auditBase, redacted, 'error', jobStarted, err, j.id);
            throw err;
          }
        },
      );
      if (def.mutating) this.auditDone(auditBase, redacted, 'accepted', started, undefined, jobId);
      return { job: jobId };
    }

    try {
      const result = await ctx.settle(callHandler(def, handlerParams, ctx));
      if (this.opts.checkResults && !dryRun && !isDryRunPlan(result)) this.checkResult(m, result);
      if (def.mutating) this.auditDone(auditBase, redacted, dryRun ? 'dry-run' : 'ok', started);
      return result;
    } catch (err) {
      if (def.mutating) this.auditDone(auditBase, redacted, 'error', started, err);
      throw err;
    }
  }

  private auditDone(
    base: { user: string; uid?: number; transport: string; method: string },
    params: unknown,
    outcome: 'ok' | 'error' | 'accepted' | 'dry-run',
    started: number,
    err?: unknown,
    job?: string,
  ) {
    const wire: WireError | undefined = err === undefined ? undefined : toWireError(err);
    this.opts.audit.append({
      ...base,
      params,
      outcome,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      job,
      error: wire
        ? { kind: (wire.data as { kind?: string } | undefined)?.kind, message: wire.message }
        : undefined,
    });
  }

  private resultCheckers = new Map<string, import('@sinclair/typebox/compiler').TypeCheck<never>>();
  private checkResult(m: RegisteredMethod, result: unknown) {
    // Lazily compiled: only tests pay for it.
    let c = this.resultCheckers.get(m.def.name);
    if (!c) {
      const { TypeCompiler } = compilerModule;
      c = TypeCompiler.Compile(m.def.result) as never;
      this.resultCheckers.set(m.def.name, c);
    }
    if (!c.Check(result as never)) {
      const e = [...c.Errors(result as never)][0];
      throw new Error(`result of ${m.def.name} does not match its schema: ${e?.path} ${e?.message}`);
    }
  }
}

import * as compilerModule from '@sinclair/typebox/compiler';

/**
 * The context handed to a direct (non-job) call. The abort signal and the child logger are
 * created on first use: most calls look at neither, and an AbortSignal or a pino child per
 * call was the largest single cost of a cheap call.
 */
class Ctx implements CallContext {
  private controller?: AbortController;
  private unlisten?: () => void;
  private childLog?: Logger;
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
      this.unlisten = this.session.onClose(() => c.abort(new RpcError('aborted', 'the connection closed')));
    }
    return this.controller.signal;
  }

  get log(): Logger {
    this.childLog ??= this.baseLog.child({ method: this.method, user: this.identity.user });
    return this.childLog;
  }

  progress(): void {}

  /** The handler's promise, with the close listener (if a signal was taken) removed when it settles. */
  settle<T>(p: Promise<T>): Promise<T> {
    // looked up when the call settles: the signal may be taken after the handler's first await
    return p.then(
      (r) => {
        this.unlisten?.();
        return r;
      },
      (e) => {
        this.unlisten?.();
        throw e;
      },
    );
  }
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

/** A message answered before dispatch (too large, not JSON, too deep). */
class Refused {
  constructor(readonly text: string) {}
}
const refused = (r: JSONRPCResponse) => new Refused(JSON.stringify(r));

/** json-rpc-2.0's per-call server params, made once per session. */
const SERVER_PARAMS = new WeakMap<Session, ServerParams>();
function serverParams(session: Session): ServerParams {
  let sp = SERVER_PARAMS.get(session);
  if (!sp) {
    sp = { session };
    SERVER_PARAMS.set(session, sp);
  }
  return sp;
}

function toText(out: JSONRPCResponse | JSONRPCResponse[] | null | undefined): string | undefined {
  return out === undefined || out === null ? undefined : JSON.stringify(out);
}

function errorResponse(id: string | number | null, e: WireError): JSONRPCResponse {
  return {
    jsonrpc: '2.0',
    id,
    error: { code: e.code, message: e.message, ...(e.data ? { data: e.data } : {}) },
  };
}

function isId(v: unknown): v is string | number | null {
  return v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

function isRequestShape(m: Json): boolean {
  if (!m || typeof m !== 'object' || Array.isArray(m)) return false;
  if (m.jsonrpc !== '2.0' || typeof m.method !== 'string') return false;
  if ('id' in m && !isId(m.id)) return false;
  if ('params' in m && (m.params === null || typeof m.params !== 'object')) return false;
  if ('result' in m || 'error' in m) return false;
  return true;
}

/** Depth of a parsed JSON value, stopping early once `cap` is exceeded. Iterative: no stack overflow. */
export function depthOf(v: Json, cap: number): number {
  let max = 0;
  const stack: [Json, number][] = [[v, 1]];
  while (stack.length) {
    const [node, d] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (d > max) max = d;
    if (max > cap) return max;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, d + 1]);
    }
  }
  return max;
}
