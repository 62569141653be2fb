/**
 * JSON-RPC over WebSocket (fastify + @fastify/websocket): one JSON text per message. Callers
 * authenticate with a bearer API token (`Authorization: Bearer …`, or `?access_token=` for
 * browsers, which cannot set headers on a WebSocket). Loopback by default; TLS from
 * etc/calypso/tls when configured or when bound beyond loopback.
 *
 * Limits (issue #15): TCP connections not yet upgraded with a valid token are capped and closed
 * after a short handshake time, so that raw connections cannot use every file descriptor
 * (item 4); connections per non-admin token are capped and the last slots are reserved for
 * admin tokens (item 5); calls in flight per connection pause reading, as on the Unix socket,
 * and queued answers are bounded per connection and in total (item 1); a browser's `Origin`
 * must be on the allow-list, and failed token attempts are logged and rate-limited per
 * address (item 11). A connection whose token is revoked or expires is closed (item 3).
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { closeSession, newSession, type RpcCore, type Session } from './core.js';
import { budgetOf, type OutputBudget } from './output-budget.js';
import type { Identity } from './roles.js';
import { slotRefusal } from './slots.js';

export interface WsTransportOptions {
  host: string;
  port: number;
  tls: 'auto' | 'on' | 'off';
  tlsDir: string;
  core: RpcCore;
  /** Identity for a bearer token, or undefined when the token is not valid. */
  authenticate: (token: string | undefined) => Identity | undefined;
  log: Logger;
  maxConnections: number;
  maxMessageBytes: number;
  maxBufferedBytes: number;
  /** Output queued for all connections together before non-reading peers are dropped. */
  maxQueuedBytesTotal?: number;
  /** Output queued for all connections of one non-admin token together. */
  maxQueuedBytesPerPeer?: number;
  /** Output budgets shared with the other transport (else its own, from the limits above). */
  budget?: OutputBudget;
  idleTimeoutMs: number;
  /** Calls in flight per connection before reading pauses (as on the Unix socket). */
  maxInflight?: number;
  /** Connections per non-admin token. */
  maxPerToken?: number;
  /** Of maxConnections, slots only admin tokens may take. */
  reservedForAdmin?: number;
  /** Slots before the admins' that only operator and admin tokens may take. */
  reservedForOperator?: number;
  /** Slots before the operators' that only auditor tokens and up may take. */
  reservedForAuditor?: number;
  /** TCP connections not yet upgraded with a valid token. */
  maxUnauthenticated?: number;
  /** A TCP connection not upgraded within this time is closed. */
  handshakeTimeoutMs?: number;
  /** Browser origins allowed; a request without Origin is not a browser's and is not checked. */
  origins?: readonly string[];
  /** Failed token attempts per address per minute before refusing unchecked (HTTP 429). */
  failedAuthPerMinute?: number;
  /** An idle keep-alive HTTP connection is closed after this time (default 5 s). */
  keepAliveTimeoutMs?: number;
  /** Extra routes (the terminal endpoint) registered by services. */
  routes?: ((app: FastifyInstance, authenticate: (req: IncomingMessage) => Identity | undefined) => void)[];
  onSession?: (session: Session) => void;
}

export function bearerOf(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return h.slice(7).trim();
  const url = new URL(req.url ?? '/', 'http://x');
  return url.searchParams.get('access_token') ?? undefined;
}

const isLoopback = (h: string) =>
  h === '127.0.0.1' || h === '::1' || h === 'localhost' || h.startsWith('127.');

/** What a client without a valid token is told (issue #16: say what is needed and how to get it). */
export const TOKEN_HELP =
  'create one as an administrator with `calypsoctl call auth.token.create \'{"name":"NAME","role":"auditor"}\'` ' +
  '(role admin, operator or auditor) and send it as `Authorization: Bearer <token>` (or ?access_token=<token>)';

const FAILED_WINDOW_MS = 60_000;

/** The part of a token that names it (`cal_<id>`), or its first 16 characters when it is malformed. */
function tokenPrefix(token: string): string {
  return /^cal_[0-9a-f]{12}/.exec(token)?.[0] ?? token.slice(0, 16);
}

export class WsTransport {
  private app: FastifyInstance | undefined;
  private count = 0;
  private perToken = new Map<string, number>();
  private live = new Set<{ socket: WebSocket; identity: Identity }>();
  /** TCP connections not (yet) carrying an authenticated upgrade. */
  private unauthenticated = new Set<Socket>();
  /** Authenticated plain-HTTP connections (counted in `count` and `perToken`). */
  private http = new Set<Socket>();
  private failed = new Map<string, { since: number; n: number; logged: number }>();
  private firstLogged = { since: 0, n: 0 };
  address: { host: string; port: number; url: string } | undefined;

  private budget: OutputBudget;

  constructor(private o: WsTransportOptions) {
    this.budget = budgetOf(o);
  }

  async listen(): Promise<void> {
    const useTls = this.o.tls === 'on' || (this.o.tls === 'auto' && !isLoopback(this.o.host));
    const https = useTls
      ? {
          key: readFileSync(path.join(this.o.tlsDir, 'key.pem')),
          cert: readFileSync(path.join(this.o.tlsDir, 'cert.pem')),
        }
      : null;
    // an idle keep-alive connection closes soon (fastify's default keeps it 72 s)
    const keepAliveTimeout = this.o.keepAliveTimeoutMs ?? 5000;
    const app = Fastify({
      logger: false,
      keepAliveTimeout,
      ...(https ? { https } : {}),
    }) as unknown as FastifyInstance;
    this.app = app;
    app.server.on(https ? 'secureConnection' : 'connection', (sock: Socket) => this.admitTcp(sock));
    await app.register(websocket, { options: { maxPayload: this.o.maxMessageBytes * 2 } });
    const authenticate = (req: IncomingMessage) => {
      const identity = this.o.authenticate(bearerOf(req));
      // a valid token lifts the connection out of the unauthenticated cap and handshake timer
      if (identity) this.unauthenticated.delete(req.socket);
      return identity;
    };
    app.get('/healthz', async () => ({ ok: true }));
    await app.register(async (scoped) => {
      scoped.addHook('preValidation', async (req, reply) => {
        const refusal = this.refusal(req.raw);
        if (refusal)
          await reply
            .code(refusal.status)
            .headers(refusal.headers ?? {})
            .send(refusal.body);
      });
      scoped.get('/rpc', { websocket: true }, (socket, req) => this.accept(socket, authenticate(req.raw)!));
      for (const r of this.o.routes ?? []) r(scoped, authenticate);
    });
    await app.listen({ host: this.o.host, port: this.o.port });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : this.o.port;
    this.address = { host: this.o.host, port, url: `${https ? 'wss' : 'ws'}://${this.o.host}:${port}/rpc` };
  }

  /** A new TCP connection: capped while unauthenticated, and closed if it does not upgrade in time. */
  private admitTcp(sock: Socket) {
    sock.on('error', () => {});
    const max = this.o.maxUnauthenticated ?? Number.POSITIVE_INFINITY;
    if (this.unauthenticated.size >= max) {
      sock.destroy();
      return;
    }
    this.unauthenticated.add(sock);
    const timer = setTimeout(() => {
      if (this.unauthenticated.has(sock)) sock.destroy();
    }, this.o.handshakeTimeoutMs ?? 10_000);
    timer.unref();
    sock.once('close', () => {
      clearTimeout(timer);
      this.unauthenticated.delete(sock);
    });
  }

  /** Why an upgrade is refused (HTTP status and body), or undefined to accept it. */
  private refusal(
    req: IncomingMessage,
  ): { status: number; body: Record<string, unknown>; headers?: Record<string, string> } | undefined {
    const origin = req.headers.origin;
    if (origin !== undefined && this.o.origins && !this.o.origins.includes(origin)) {
      return {
        status: 403,
        body: {
          error: `origin ${origin} is not allowed (calypso.yaml agent.websocket.origins)`,
          kind: 'denied',
        },
      };
    }
    // A valid token is checked first (the store compares hashes in constant time) and is never
    // limited: 30 bad requests from 127.0.0.1 used to lock every token client on that address
    // out for a minute (issue #28 item 9). Only failures are counted, per address and per token
    // prefix (`cal_<id>`), so that rotating 127.x addresses does not escape the limit.
    const token = bearerOf(req);
    const identity = this.o.authenticate(token);
    if (!identity) {
      const addr = req.socket.remoteAddress ?? 'unknown';
      const keys = [`address ${addr}`, ...(token ? [`token ${tokenPrefix(token)}`] : [])];
      const now = Date.now();
      const limited = keys.map((k) => this.failedWindow(k, now)).find((f) => f.n >= this.failedLimit());
      if (limited) {
        return {
          status: 429,
          body: {
            error:
              'too many failed token attempts from this address or with this token; try again in a minute',
            kind: 'limit',
          },
          headers: { 'retry-after': String(Math.ceil((limited.since + FAILED_WINDOW_MS - now) / 1000)) },
        };
      }
      for (const k of keys) this.failedAttempt(k, now, token !== undefined);
      return {
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="calypso"' },
        body: {
          error: token
            ? `the bearer token is not valid (unknown, revoked or expired): ${TOKEN_HELP}`
            : `a bearer token is required: ${TOKEN_HELP}`,
          kind: 'denied',
        },
      };
    }
    // A plain HTTP request (/metrics, a keep-alive scraper) holds a connection like a WebSocket
    // does: it counts against the per-token and total limits for as long as it is open (issue
    // #28 item 3: 13,913 keep-alive scrapers escaped every cap). An upgrade is counted by accept().
    const upgrade = req.headers.upgrade?.toLowerCase() === 'websocket';
    if (!upgrade && this.http.has(req.socket)) return undefined;
    const why = this.slotRefusal(identity);
    if (why) return { status: 503, body: { error: why, kind: 'limit' }, headers: { connection: 'close' } };
    if (!upgrade) this.countHttp(req.socket, identity);
    return undefined;
  }

  /** An authenticated plain-HTTP connection: counted until it closes. */
  private countHttp(sock: Socket, identity: Identity) {
    const tokenId = identity.tokenId;
    this.unauthenticated.delete(sock);
    this.http.add(sock);
    this.count++;
    if (tokenId) this.perToken.set(tokenId, (this.perToken.get(tokenId) ?? 0) + 1);
    sock.once('close', () => {
      this.http.delete(sock);
      this.count--;
      if (tokenId) {
        const n = (this.perToken.get(tokenId) ?? 1) - 1;
        if (n > 0) this.perToken.set(tokenId, n);
        else this.perToken.delete(tokenId);
      }
    });
  }

  private failedLimit(): number {
    return this.o.failedAuthPerMinute ?? Number.POSITIVE_INFINITY;
  }

  /** The current window of failures for a key (an address or a token prefix). */
  private failedWindow(key: string, now: number): { since: number; n: number; logged: number } {
    let f = this.failed.get(key);
    if (f && now - f.since >= FAILED_WINDOW_MS) {
      this.failed.delete(key);
      f = undefined;
    }
    return f ?? { since: now, n: 0, logged: 0 };
  }

  private failedAttempt(key: string, now: number, hadToken: boolean) {
    let f = this.failed.get(key);
    if (!f) {
      f = this.failedWindow(key, now);
      this.failed.set(key, f);
      if (this.failed.size > 10_000) this.failed.delete(this.failed.keys().next().value!);
    }
    f.n++;
    // one line per key per window, and one when it reaches the limit: a flood of bad
    // tokens must not become a flood of log lines
    const limit = this.failedLimit();
    // the first failure of an address is logged (at most 10 addresses a minute: rotating
    // addresses must not flood the log either), and every key reaching the limit
    if (now - this.firstLogged.since >= FAILED_WINDOW_MS) this.firstLogged = { since: now, n: 0 };
    const first = f.logged === 0 && key.startsWith('address ') && this.firstLogged.n < 10;
    if (first || f.n === limit) {
      if (first) this.firstLogged.n++;
      f.logged++;
      this.o.log.warn(
        { key, attempts: f.n, hadToken },
        f.n >= limit
          ? `websocket: ${f.n} failed token attempts from ${key} in a minute; refusing it unchecked for the rest of the minute`
          : `websocket: failed token attempt from ${key}`,
      );
    }
  }

  private slotRefusal(identity: Identity): string | undefined {
    const why = slotRefusal(
      this.count,
      this.o.maxConnections,
      identity.role,
      {
        admin: this.o.reservedForAdmin,
        operator: this.o.reservedForOperator,
        auditor: this.o.reservedForAuditor,
      },
      'token',
    );
    if (why || identity.role === 'admin') return why;
    const per = this.o.maxPerToken;
    if (per !== undefined && identity.tokenId && (this.perToken.get(identity.tokenId) ?? 0) >= per)
      return `too many connections with this token (at most ${per})`;
    return undefined;
  }

  /** Close every connection made with this token (revoked or expired); returns how many. */
  closeToken(tokenId: string, reason: string): number {
    let n = 0;
    for (const c of this.live) {
      if (c.identity.tokenId !== tokenId) continue;
      c.socket.close(1008, reason.slice(0, 120));
      // a peer that does not answer the close handshake is cut
      setTimeout(() => c.socket.terminate(), 1000).unref();
      n++;
    }
    return n;
  }

  connectionCount(): number {
    return this.count;
  }

  async close(): Promise<void> {
    // A close handshake needs the peer to read: a client that does not (a hung tab) would hold
    // the shutdown for ws's 30 s close timeout. Say goodbye, give a second, then cut.
    const clients = [...(this.app?.websocketServer?.clients ?? [])];
    for (const c of clients) c.close(1001, 'agent stopping');
    const closed = Promise.all(
      clients.map((c) => (c.readyState === c.CLOSED ? undefined : once(c, 'close'))),
    );
    await Promise.race([closed, new Promise((r) => setTimeout(r, 1000).unref())]);
    for (const c of clients) c.terminate();
    for (const s of this.unauthenticated) s.destroy();
    await this.app?.close();
  }

  private accept(socket: WebSocket, identity: Identity) {
    // checked again here: upgrades accepted together all passed the check before any counted
    const late = this.slotRefusal(identity);
    if (late) {
      socket.close(1013, late.slice(0, 120));
      return;
    }
    this.count++;
    const tokenId = identity.tokenId;
    if (tokenId) this.perToken.set(tokenId, (this.perToken.get(tokenId) ?? 0) + 1);
    const entry = { socket, identity };
    this.live.add(entry);
    const session = newSession(identity, (method, params) =>
      send(JSON.stringify({ jsonrpc: '2.0', method, params })),
    );
    this.o.onSession?.(session);
    let idle: NodeJS.Timeout | undefined;
    let pending = 0;
    let paused = false;
    const maxInflight = this.o.maxInflight ?? Number.POSITIVE_INFINITY;
    const touch = () => {
      if (!this.o.idleTimeoutMs) return;
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => {
        // as on the Unix socket: a client waiting for a long call is not idle
        if (session.keepAlive > 0 || pending > 0) touch();
        else socket.close(1000, 'idle');
      }, this.o.idleTimeoutMs);
      idle.unref();
    };
    const slot = this.budget.open(
      tokenId ? `token ${tokenId}` : undefined,
      identity.role === 'admin',
      () => socket.bufferedAmount,
    );
    const drop = (why: string) => {
      this.o.log.warn(
        { user: identity.user, queued: socket.bufferedAmount, why },
        'websocket: slow reader disconnected',
      );
      socket.close(1008, 'slow reader');
      setTimeout(() => socket.terminate(), 1000).unref();
    };
    session.reserveOutput = (bytes) => {
      if (this.budget.reserve(slot, bytes)) return true;
      drop(this.budget.refusal(slot, bytes) ?? 'over its output budget');
      return false;
    };
    const send = (text: string) => {
      if (socket.readyState !== socket.OPEN) return;
      // judged before the send with the message counted, the first one included, against the
      // connection's, its token's and everyone's output budgets (as on the Unix socket)
      slot.reserved = Math.max(0, slot.reserved - text.length);
      const why = this.budget.refusal(slot, text.length);
      if (why) return drop(why);
      socket.send(text);
    };
    touch();
    // Messages beyond the in-flight cap wait here while the socket is paused: ws parses every
    // frame of a chunk already read, so pausing the socket alone does not stop dispatch.
    const waiting: string[] = [];
    const dispatch = (text: string) => {
      pending++;
      this.o.core
        .handleText(text, session)
        .then((out) => {
          if (out !== undefined) send(out);
        })
        .catch((err) => this.o.log.error({ err }, 'websocket: dispatch failed'))
        .finally(() => {
          pending--;
          if (pending === 0) slot.reserved = 0;
          while (pending < maxInflight && waiting.length && socket.readyState === socket.OPEN)
            dispatch(waiting.shift()!);
          if (paused && pending < maxInflight && !waiting.length && socket.readyState === socket.OPEN) {
            paused = false;
            socket.resume();
          }
          if (socket.readyState === socket.OPEN) touch(); // an answer is activity, as on the Unix socket
        });
    };
    socket.on('message', (data, isBinary) => {
      touch();
      const text = isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString();
      if (pending < maxInflight && !waiting.length) return dispatch(text);
      // the same in-flight cap as the Unix socket: stop reading while it is reached
      waiting.push(text);
      if (!paused) {
        paused = true;
        socket.pause();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.count--;
      this.live.delete(entry);
      this.budget.close(slot);
      if (tokenId) {
        const n = (this.perToken.get(tokenId) ?? 1) - 1;
        if (n > 0) this.perToken.set(tokenId, n);
        else this.perToken.delete(tokenId);
      }
      if (idle) clearTimeout(idle);
      closeSession(session);
    });
  }
}
