/**
 * A JSON-RPC client for the agent over the Unix socket (NDJSON) or WebSocket, built on
 * json-rpc-2.0's JSONRPCClient. Server notifications (`event`) are delivered to `onEvent`.
 * Used by calypsoctl, the tests and the benchmarks.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import {
  JSONRPCClient,
  JSONRPCErrorException,
  type JSONRPCRequest,
  type JSONRPCResponse,
} from 'json-rpc-2.0';
import WebSocket from 'ws';

/**
 * An NDJSON line splitter that stays linear in the input: a chunk is searched for newlines
 * once, and a line spanning many chunks is joined once at its end (the old reader re-searched
 * the whole buffered text per chunk: 21 minutes for a 400 MB answer).
 */
export function splitLines(onLine: (line: string) => void): (chunk: Buffer) => void {
  let parts: Buffer[] = [];
  return (chunk: Buffer) => {
    let start = 0;
    let nl = chunk.indexOf(10);
    while (nl >= 0) {
      const piece = chunk.subarray(start, nl);
      const line = parts.length ? Buffer.concat([...parts, piece]).toString('utf8') : piece.toString('utf8');
      parts = [];
      if (line) onLine(line);
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    if (start < chunk.length) parts.push(chunk.subarray(start));
  };
}

export class RpcClientError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: { kind?: string; [k: string]: unknown },
  ) {
    super(message);
    this.name = 'RpcClientError';
  }
  get kind(): string | undefined {
    return this.data?.kind;
  }
  toJSON() {
    return { code: this.code, message: this.message, ...(this.data ? { data: this.data } : {}) };
  }
}

export interface AgentEventMessage {
  topic: string;
  data: unknown;
  time: number;
}

export class AgentClient extends EventEmitter {
  private rpc: JSONRPCClient;
  private sendRaw: (text: string) => void;
  private closeRaw: () => void;
  readonly closed: Promise<void>;
  private isClosed = false;

  private constructor(transport: { send: (t: string) => void; close: () => void; closed: Promise<void> }) {
    super();
    this.sendRaw = transport.send;
    this.closeRaw = transport.close;
    this.closed = transport.closed;
    let nextId = 1;
    this.rpc = new JSONRPCClient(
      async (req) => this.sendRaw(JSON.stringify(req)),
      () => nextId++,
    );
    this.closed.then(() => {
      this.isClosed = true;
      this.rpc.rejectAllPendingRequests('connection closed');
    });
  }

  /** Connect over the Unix socket. */
  static connectUnix(path: string): Promise<AgentClient> {
    return new Promise((resolve, reject) => {
      const sock = net.createConnection(path);
      const closed = new Promise<void>((r) => sock.once('close', () => r()));
      const client = new AgentClient({
        send: (t) => sock.write(`${t}\n`),
        close: () => sock.end(),
        closed,
      });
      sock.on(
        'data',
        splitLines((line) => client.receiveText(line)),
      );
      sock.once('connect', () => resolve(client));
      sock.on('error', (e) => {
        reject(e); // no-op once connected; then the close below rejects pending calls
        if (client.listenerCount('error')) client.emit('error', e);
      });
    });
  }

  /** Connect over WebSocket with a bearer token. */
  static connectWs(url: string, token?: string): Promise<AgentClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      const closed = new Promise<void>((r) => ws.once('close', () => r()));
      const client = new AgentClient({ send: (t) => ws.send(t), close: () => ws.close(), closed });
      ws.on('message', (d) => client.receiveText(d.toString()));
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        // the agent says why in the body (a token is required and how to make one; a limit)
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (body.length < 4096) body += d;
        });
        res.on('end', () => {
          let why: { error?: string; kind?: string } = {};
          try {
            why = JSON.parse(body) as typeof why;
          } catch {
            /* not ours */
          }
          const status = res.statusCode ?? 0;
          const kind = why.kind ?? (status === 401 || status === 403 ? 'denied' : 'unavailable');
          const code = kind === 'denied' ? -32001 : kind === 'limit' ? -32015 : -32011;
          reject(
            new RpcClientError(
              code,
              `websocket refused: HTTP ${status}${why.error ? `: ${why.error}` : ''}`,
              {
                kind,
                status,
              },
            ),
          );
          ws.terminate();
        });
      });
      ws.once('error', reject);
    });
  }

  /** Call a method; throws RpcClientError for JSON-RPC errors. */
  async call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    if (this.isClosed) throw new RpcClientError(-32011, 'connection closed', { kind: 'unavailable' });
    try {
      return (await this.rpc.request(method, params)) as T;
    } catch (e) {
      if (e instanceof JSONRPCErrorException) throw new RpcClientError(e.code, e.message, e.data as never);
      throw e;
    }
  }

  notify(method: string, params: Record<string, unknown> = {}): void {
    this.rpc.notify(method, params);
  }

  /** Send a raw batch (array of requests) and get the raw responses. */
  async batch(requests: JSONRPCRequest[]): Promise<JSONRPCResponse[]> {
    return await this.rpc.requestAdvanced(requests);
  }

  /** Send a raw text frame (protocol tests). The next unmatched response is emitted as `raw`. */
  sendText(text: string): void {
    this.sendRaw(text);
  }

  close(): void {
    this.closeRaw();
  }

  private receiveText(text: string) {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.emit('raw', text);
      return;
    }
    if (msg && typeof msg === 'object' && !Array.isArray(msg) && 'method' in msg) {
      const m = msg as { method: string; params?: AgentEventMessage };
      if (m.method === 'event' && m.params) this.emit('event', m.params);
      else this.emit('notification', m);
      return;
    }
    this.emit('raw', msg);
    const responses = Array.isArray(msg) ? msg : [msg];
    for (const r of responses as JSONRPCResponse[]) {
      if (r && typeof r === 'object' && r.id !== null && r.id !== undefined) this.rpc.receive(r);
    }
  }
}
