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
      let buffered = '';
      const closed = new Promise<void>((r) => sock.once('close', () => r()));
      const client = new AgentClient({
        send: (t) => sock.write(`${t}\n`),
        close: () => sock.end(),
        closed,
      });
      sock.setEncoding('utf8');
      sock.on('data', (chunk: string) => {
        buffered += chunk;
        let nl = buffered.indexOf('\n');
        while (nl >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line) client.receiveText(line);
          nl = buffered.indexOf('\n');
        }
      });
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
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`websocket refused: HTTP ${res.statusCode}`)),
      );
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
