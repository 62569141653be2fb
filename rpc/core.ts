/**
 * The transport-agnostic JSON-RPC core.
 *
 * Transports hand it one message text and a session; it returns the response text (or nothing
 * for notifications). Framing checks, batches and request-shape validation are done here;
 * a request then goes straight to its method's record in the registry. json-rpc-2.0's
 * JSONRPCServer did that dispatch until 2026-12-06, as a pass-through (every check it made was
 * made here first): its ES5 async wrappers were a third of what a call allocated (5.3 → 3.6 KB
 * a ping, counted in young-generation collections under load), and those collections set the
 * tail latency (docs/benchmarks.md). json-rpc-2.0 stays the message types here and the client
 * (rpc/client.ts). Batches were never handed to the library: it answered a one-element batch
 * with a bare object and threw on `null` members, both of which the spec forbids.
 *
 * For each call: role check → params validation against the method's schema → dry run / job /
 * direct call → the one error mapping point. Every mutation, and every refusal of one (role,
 * params, a missing capability), is audited, and its record is committed before the answer is
 * sent: a kill -9 at any moment never leaves an acknowledged mutation unaudited (issue #15).
 *
 * The core knows nothing of the agent (issue #11): it writes to an `AuditSink` and starts work
 * through a `JobHost`, both interfaces declared here and provided by the agent.
 */
import type { JSONRPCRequest, JSONRPCResponse } from 'json-rpc-2.0';
import type { Logger } from 'pino';
import { AuditedCalls } from './audited-calls.js';
import { InvalidParamsError, PROTOCOL_ERRORS, RpcError, toWireError, type WireError } from './errors.js';
import { withDefaults } from './params-defaults.js';
import { closestName, paramProblems } from './params-errors.js';
import { type AnyMethodDef, callHandler, RawJson, type RegisteredMethod, type Registry } from './registry.js';
import { type Identity, roleAllows } from './roles.js';
import { deeperThan } from './scan-depth.js';
import { Ctx, type Session } from './session.js';

export { closeSession, newSession, type Session } from './session.js';

export interface Limits {
  maxMessageBytes: number;
  maxBatch: number;
  maxDepth: number;
  /**
   * Bytes of answers one batch may produce; a batch whose answers would exceed it gets one
   * limit error instead (100 × rpc.discover made 88 MB lines). Default 8 MiB.
   */
  maxResponseBytes?: number;
  /**
   * Message size for callers with no role (they may call only public methods, which take no
   * large params): a 4 MB denied line from one cost hundreds of MB (issue #28 item 11). Default 64 KiB.
   */
  maxPublicMessageBytes?: number;
  /**
   * Calls of batches in flight per connection (a batch's members counted one by one): a batch
   * that would pass it is answered with one limit error. 32 connections × 64 batches × 100
   * calls held 204,800 calls and ~1 GB (issue #28 item 4). Default 512.
   */
  maxBatchCallsInFlight?: number;
}

/** Longest method name looked up, suggested for or echoed (issue #28 item 6). */
export const MAX_METHOD_CHARS = 128;

/** What the core writes to the audit log (the agent's AuditLog implements the sink). */
export interface AuditEntry {
  user: string;
  uid?: number;
  transport: string;
  method: string;
  params?: unknown;
  outcome: 'ok' | 'error' | 'denied' | 'invalid' | 'accepted' | 'dry-run';
  error?: { kind?: string; message: string };
  durationMs?: number;
  job?: string;
  /** the caller asked for a dry run: the record is not a real attempt */
  dryRun?: boolean;
  detail?: Record<string, unknown>;
}

export interface AuditSink {
  append(entry: AuditEntry): unknown;
  /** Resolves once everything appended so far is committed (answers wait for it). */
  committed(): Promise<unknown>;
}

/** Work started as a job: the agent's JobManager. */
export interface JobHost {
  start(
    spec: { method: string; user: string; lock?: string; title?: string },
    run: (ctx: {
      id: string;
      signal: AbortSignal;
      progress(percent: number, description?: string): void;
    }) => Promise<unknown>,
  ): string;
  /** Resolves once the jobs started so far are persisted (a `{job}` answer waits for it). */
  committed?(): Promise<unknown>;
}

export interface CoreOptions {
  registry: Registry;
  limits: Limits;
  audit: AuditSink;
  jobs: JobHost;
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
  /** Told each call's method, duration (s) and outcome (metrics); unset, nothing is timed. */
  observe?: (method: string, seconds: number, ok: boolean) => void;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export class RpcCore {
  private readonly maxResponseBytes: number;
  private readonly audited: AuditedCalls;

  constructor(private opts: CoreOptions) {
    this.maxResponseBytes = opts.limits.maxResponseBytes ?? 8 * 1024 * 1024;
    this.audited = new AuditedCalls(opts, (m, r) => this.checkResult(m, r));
  }

  /**
   * One request whose shape and method were checked (isRequestShape, unknownMethod): its answer,
   * or null for a notification (whose errors are not answered). The one error mapping point.
   */
  private answer(req: JSONRPCRequest, session: Session): Promise<JSONRPCResponse | null> {
    const m = this.opts.registry.methods.get(req.method) as RegisteredMethod;
    const id = req.id;
    const p = this.invoke(m, req.params, session);
    if (id === undefined) return p.then(NO_ANSWER, NO_ANSWER);
    return p.then(
      (result) => ({ jsonrpc: '2.0', id, result: result ?? null }),
      (err) => ({ jsonrpc: '2.0', id, error: toWireError(err, this.logUnexpected) }),
    );
  }

  private logUnexpected = (err: unknown) => this.opts.log.error({ err }, 'rpc: unexpected error');

  /**
   * Handle one framed message. Returns the response text, or undefined when nothing is to be sent.
   * Not an async function: a single request goes to its method and back with one `then`, which
   * keeps a cheap call's allocations (and so the young-generation collections that set the tail
   * latency under load) down.
   */
  handleText(text: string, session: Session): Promise<string | undefined> {
    try {
      const parsed = this.frame(text, session);
      if (parsed instanceof Refused) return Promise.resolve(parsed.text);
      if (!Array.isArray(parsed)) {
        if (!isRequestShape(parsed)) return Promise.resolve(JSON.stringify(this.invalid(parsed)));
        const unknown = this.unknownMethod(parsed);
        if (unknown) return Promise.resolve(this.singleText(unknown));
        return this.answer(parsed as unknown as JSONRPCRequest, session).then(this.singleText);
      }
      return this.handleBatch(parsed, session);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Size, depth and syntax checks: the parsed message, or the error response to send instead. */
  private frame(text: string, session: Session): Json | Refused {
    const { maxDepth } = this.opts.limits;
    const maxMessageBytes = messageLimit(this.opts.limits, session.identity.role);
    if (
      text.length > maxMessageBytes ||
      (text.length * 3 > maxMessageBytes && Buffer.byteLength(text, 'utf8') > maxMessageBytes)
    ) {
      return refused(
        errorResponse(null, {
          ...PROTOCOL_ERRORS.invalid_request,
          data: { kind: 'limit', reason: `message exceeds ${maxMessageBytes} bytes` },
        }),
      );
    }
    // Depth is judged on the text before parsing: parsing first cost a second per deep 3 MB line.
    // A text shorter than twice the depth limit cannot nest deeper than it.
    if (text.length > 2 * maxDepth && deeperThan(text, maxDepth)) {
      return refused(
        errorResponse(null, {
          ...PROTOCOL_ERRORS.invalid_request,
          data: { kind: 'limit', reason: `nesting deeper than ${maxDepth}` },
        }),
      );
    }
    try {
      return JSON.parse(text) as Json;
    } catch {
      return refused(errorResponse(null, PROTOCOL_ERRORS.parse_error));
    }
  }

  private invalid(msg: Json): JSONRPCResponse {
    const id = msg && typeof msg === 'object' && !Array.isArray(msg) && isId(msg.id) ? msg.id : null;
    return errorResponse(id, PROTOCOL_ERRORS.invalid_request);
  }

  /**
   * A batch: every member answered, then serialised one by one, so that the total size is known
   * before anything is queued; a batch whose answers exceed maxResponseBytes gets one limit error.
   */
  private async handleBatch(batch: Json[], session: Session): Promise<string | undefined> {
    if (batch.length === 0) return JSON.stringify(errorResponse(null, PROTOCOL_ERRORS.invalid_request));
    if (batch.length > this.opts.limits.maxBatch) {
      return JSON.stringify(
        errorResponse(null, {
          ...PROTOCOL_ERRORS.invalid_request,
          data: { kind: 'limit', reason: `batch longer than ${this.opts.limits.maxBatch}` },
        }),
      );
    }
    const maxCalls = this.opts.limits.maxBatchCallsInFlight ?? 512;
    const inFlight = BATCH_CALLS.get(session) ?? 0;
    if (inFlight + batch.length > maxCalls) {
      return JSON.stringify(
        errorResponse(null, {
          ...PROTOCOL_ERRORS.invalid_request,
          data: {
            kind: 'limit',
            reason: `more than ${maxCalls} calls of batches in flight on this connection; wait for answers before sending more`,
          },
        }),
      );
    }
    BATCH_CALLS.set(session, inFlight + batch.length);
    let responses: (JSONRPCResponse | undefined)[];
    try {
      responses = await Promise.all(batch.map((p) => this.handleSingle(p, session)));
    } finally {
      BATCH_CALLS.set(session, (BATCH_CALLS.get(session) ?? batch.length) - batch.length);
    }
    const texts: string[] = [];
    let bytes = 2;
    for (const r of responses) {
      if (r === undefined) continue;
      const t = this.singleText(r)!;
      bytes += t.length + 1;
      if (bytes > this.maxResponseBytes) {
        return JSON.stringify(
          errorResponse(null, {
            ...PROTOCOL_ERRORS.invalid_request,
            data: {
              kind: 'limit',
              reason: `the answers to this batch exceed ${this.maxResponseBytes} bytes; send fewer calls per batch`,
            },
          }),
        );
      }
      texts.push(t);
    }
    // judged against the connection's output budgets before the answers are joined into one
    // text: a peer over budget has its connection closed instead (issue #28 item 2)
    if (session.reserveOutput && !session.reserveOutput(bytes)) return undefined;
    return texts.length ? `[${texts.join(',')}]` : undefined;
  }

  private async handleSingle(msg: Json, session: Session): Promise<JSONRPCResponse | undefined> {
    if (!isRequestShape(msg)) return this.invalid(msg);
    const unknown = this.unknownMethod(msg);
    if (unknown) return unknown === NOTIFICATION_DROPPED ? undefined : unknown;
    return (await this.answer(msg as unknown as JSONRPCRequest, session)) ?? undefined;
  }

  /**
   * One response as text. A RawJson result (rpc.discover's cached document) is spliced in as
   * it is, never re-serialised; an unknown method gets the closest name as a suggestion.
   */
  private singleText = (out: JSONRPCResponse | null | undefined): string | undefined => {
    if (out === undefined || out === null || out === NOTIFICATION_DROPPED) return undefined;
    if ('result' in out && out.result instanceof RawJson) {
      return `{"jsonrpc":"2.0","id":${JSON.stringify(out.id)},"result":${out.result.text}}`;
    }
    return JSON.stringify(out);
  };

  /** An unknown method: answered here, with the closest name as a suggestion (issue #16). */
  private unknownMethod(msg: Json): JSONRPCResponse | undefined {
    const m = msg as { method: string; id?: string | number | null };
    if (m.method.length <= MAX_METHOD_CHARS && this.opts.registry.methods.has(m.method)) return undefined;
    if (m.id === undefined) return NOTIFICATION_DROPPED;
    if (m.method.length > MAX_METHOD_CHARS)
      return errorResponse(m.id, { ...PROTOCOL_ERRORS.method_not_found, data: longNameData(m.method) });
    const data = notFoundData(m.method, this.opts.registry);
    return errorResponse(m.id, { ...PROTOCOL_ERRORS.method_not_found, data });
  }

  /** In-process call (tests, internal tools): same checks as the wire, throws RpcError. */
  async call(method: string, params: unknown, session: Session): Promise<unknown> {
    if (method.length > MAX_METHOD_CHARS)
      throw new RpcError('not_found', longNameData(method).reason as string, longNameData(method));
    const m = this.opts.registry.get(method);
    if (!m) {
      const data = notFoundData(method, this.opts.registry);
      throw new RpcError('not_found', notFoundMessage(method, data.suggestion as string | undefined), data);
    }
    const r = await this.invoke(m, params, session);
    return r instanceof RawJson ? r.value : r;
  }

  private invoke(m: RegisteredMethod, rawParams: unknown, session: Session): Promise<unknown> {
    const observe = this.opts.observe;
    // reads are timed by their Ctx (its settle callbacks exist anyway): no extra promise per call
    if (!observe || (!m.def.mutating && !m.def.job)) return this.invokeChecked(m, rawParams, session);
    const t0 = performance.now();
    const name = m.def.name;
    return this.invokeChecked(m, rawParams, session).then(
      (r) => {
        observe(name, (performance.now() - t0) / 1000, true);
        return r;
      },
      (err) => {
        observe(name, (performance.now() - t0) / 1000, false);
        throw err;
      },
    );
  }

  private invokeChecked(m: RegisteredMethod, rawParams: unknown, session: Session): Promise<unknown> {
    const def = m.def;
    const identity = session.identity;
    const started = performance.now();
    const stale = identity.tokenId !== undefined && this.opts.revalidate && !this.opts.revalidate(identity);
    if (stale || !roleAllows(identity.role, def.role))
      return this.refusedRead(def, this.audited.deny(def, rawParams, identity, stale));
    if (Array.isArray(rawParams)) {
      return this.refusedRead(
        def,
        this.audited.refuseParams(
          def,
          rawParams,
          identity,
          new InvalidParamsError('params must be an object: methods take their parameters by name', [
            { path: '', message: 'by-position params are not supported' },
          ]),
        ),
      );
    }
    const given = (rawParams ?? {}) as Record<string, unknown>;
    const params = m.fillsDefaults ? (withDefaults(m.params, given) as Record<string, unknown>) : given;
    const check = m.check;
    if (!check.Check(params)) {
      const errors = paramProblems(check.Errors(params));
      const first = errors[0];
      return this.refusedRead(
        def,
        this.audited.refuseParams(
          def,
          params,
          identity,
          new InvalidParamsError(
            `invalid params for ${def.name}: ${first ? `${first.path} ${first.message}` : 'schema mismatch'}`,
            errors,
          ),
        ),
      );
    }
    if (def.requires?.length && this.opts.requirements) {
      return this.opts.requirements(def.requires).then(
        () => this.dispatch(m, params, session, started),
        (err) =>
          def.mutating
            ? this.audited.refuseParams(def, params, identity, err)
            : this.refusedRead(def, Promise.reject(err)),
      );
    }
    return this.dispatch(m, params, session, started);
  }

  /** A read refused before its handler: observed as an error (mutations are observed by invoke). */
  private refusedRead(def: AnyMethodDef, p: Promise<never>): Promise<never> {
    const observe = this.opts.observe;
    if (!observe || def.mutating || def.job) return p;
    return p.catch((err) => {
      observe(def.name, 0, false);
      throw err;
    });
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
      if (this.opts.observe) ctx.timed(this.opts.observe, started);
      const p = callHandler(def, params, ctx);
      if (!this.opts.checkResults) return ctx.settle(p);
      return ctx.settle(p).then((result) => {
        this.checkResult(m, result instanceof RawJson ? result.value : result);
        return result;
      });
    }
    return this.audited.invokeMutating(m, params, session, started);
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

function notFoundData(method: string | undefined, registry: Registry): Record<string, unknown> {
  const suggestion = method ? closestName(method, registry.methods.keys()) : undefined;
  return { kind: 'not_found', ...(method ? { method } : {}), ...(suggestion ? { suggestion } : {}) };
}

/** An over-long name: neither looked up, nor compared for a suggestion, nor echoed. */
function longNameData(method: string): Record<string, unknown> {
  return {
    kind: 'not_found',
    reason: `method names are at most ${MAX_METHOD_CHARS} characters; this one has ${method.length}`,
  };
}

/** The message size a caller's role may send (a role-less caller gets the small public limit). */
export function messageLimit(limits: Limits, role: string): number {
  if (role !== 'none') return limits.maxMessageBytes;
  return Math.min(limits.maxMessageBytes, limits.maxPublicMessageBytes ?? 64 * 1024);
}

function notFoundMessage(method: string, suggestion: string | undefined): string {
  return `method ${method} does not exist${suggestion ? `; did you mean ${suggestion}?` : ''}`;
}

import * as compilerModule from '@sinclair/typebox/compiler';

/** A message answered before dispatch (too large, not JSON, too deep). */
class Refused {
  constructor(readonly text: string) {}
}
const refused = (r: JSONRPCResponse) => new Refused(JSON.stringify(r));

/** An unknown method called as a notification: nothing is answered. */
const NOTIFICATION_DROPPED = { jsonrpc: '2.0', id: null, result: null } as JSONRPCResponse;

/** Calls of batches in flight per session. */
const BATCH_CALLS = new WeakMap<Session, number>();

const NO_ANSWER = (): null => null;

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
