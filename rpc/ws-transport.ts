/**
 * JSON-RPC over WebSocket (fastify + @fastify/websocket): one JSON text per message. Callers
 * authenticate with a bearer API token (`Authorization: Bearer …`, or `?access_token=` for
 * browsers, which cannot set headers on a WebSocket). Loopback by default; TLS from
 * etc/calypso/tls when configured or when bound beyond loopback.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { closeSession, newSession, type RpcCore, type Session } from './core.js';
import { PROTOCOL_ERRORS } from './errors.js';
import type { Identity } from './roles.js';

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
  idleTimeoutMs: number;
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

export class WsTransport {
  private app: FastifyInstance | undefined;
  private count = 0;
  address: { host: string; port: number; url: string } | undefined;

  constructor(private o: WsTransportOptions) {}

  async listen(): Promise<void> {
    const useTls = this.o.tls === 'on' || (this.o.tls === 'auto' && !isLoopback(this.o.host));
    const https = useTls
      ? {
          key: readFileSync(path.join(this.o.tlsDir, 'key.pem')),
          cert: readFileSync(path.join(this.o.tlsDir, 'cert.pem')),
        }
      : null;
    const app = Fastify({ logger: false, ...(https ? { https } : {}) }) as unknown as FastifyInstance;
    this.app = app;
    await app.register(websocket, { options: { maxPayload: this.o.maxMessageBytes * 2 } });
    const authenticate = (req: IncomingMessage) => this.o.authenticate(bearerOf(req));
    app.get('/healthz', async () => ({ ok: true }));
    await app.register(async (scoped) => {
      scoped.addHook('preValidation', async (req, reply) => {
        if (!authenticate(req.raw)) {
          await reply.code(401).send({ error: 'a valid bearer token is required (auth.token.create)' });
        } else if (this.count >= this.o.maxConnections) {
          await reply.code(503).send({ error: 'too many connections' });
        }
      });
      scoped.get('/rpc', { websocket: true }, (socket, req) => this.accept(socket, authenticate(req.raw)!));
      for (const r of this.o.routes ?? []) r(scoped, authenticate);
    });
    await app.listen({ host: this.o.host, port: this.o.port });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : this.o.port;
    this.address = { host: this.o.host, port, url: `${https ? 'wss' : 'ws'}://${this.o.host}:${port}/rpc` };
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
    await this.app?.close();
  }

  private accept(socket: WebSocket, identity: Identity) {
    this.count++;
    const session = newSession(identity, (method, params) =>
      send(JSON.stringify({ jsonrpc: '2.0', method, params })),
    );
    this.o.onSession?.(session);
    let idle: NodeJS.Timeout | undefined;
    let pending = 0;
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
    const send = (text: string) => {
      if (socket.readyState !== socket.OPEN) return;
      if (socket.bufferedAmount > this.o.maxBufferedBytes) {
        socket.close(1008, 'slow reader');
        return;
      }
      socket.send(text);
    };
    touch();
    socket.on('message', (data, isBinary) => {
      touch();
      pending++;
      const text = isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString();
      this.o.core
        .handleText(text, session)
        .then((out) => {
          if (out !== undefined) send(out);
        })
        .catch((err) => this.o.log.error({ err }, 'websocket: dispatch failed'))
        .finally(() => {
          pending--;
          if (socket.readyState === socket.OPEN) touch(); // an answer is activity, as on the Unix socket
        });
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.count--;
      if (idle) clearTimeout(idle);
      closeSession(session);
    });
    void PROTOCOL_ERRORS;
  }
}
