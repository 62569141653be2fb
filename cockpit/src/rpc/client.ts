/**
 * The page's JSON-RPC 2.0 client: NDJSON over a line transport (a Cockpit stream channel to the
 * agent's Unix socket). It reconnects with backoff when the agent restarts, re-subscribes to
 * event topics after a reconnect, and turns wire errors into AgentError (errors.ts says what to
 * tell a person).
 */
import { AgentError } from './errors.js';
import { LineSplitter } from './ndjson.js';
import type { LineConnection, LineTransport } from './transport.js';

export type ConnectionState = 'connecting' | 'connected' | 'disconnected';

export interface AgentEvent {
  topic: string;
  data: unknown;
  time: number;
}

export type EventFn = (ev: AgentEvent) => void;

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  method: string;
}

export interface ClientOptions {
  /** First reconnect delay; doubles up to `maxDelayMs`. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** How long a call waits for a connection before failing. */
  connectWaitMs?: number;
}

/** Same matching as the agent's event bus: exact topic, `prefix.*`, or `*`. */
export function topicMatches(pattern: string, topic: string): boolean {
  return (
    pattern === '*' || pattern === topic || (pattern.endsWith('.*') && topic.startsWith(pattern.slice(0, -1)))
  );
}

export class AgentClient extends EventTarget {
  state: ConnectionState = 'connecting';
  /** Why the last connection ended, in the transport's words. */
  problem: string | undefined;
  private conn: LineConnection | undefined;
  private splitter = new LineSplitter();
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private listeners = new Map<string, Set<EventFn>>();
  /** patterns the agent must send us (events.subscribe); local-only ones (terminal output) are not in here */
  private remote = new Map<string, number>();
  private delay: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private transport: LineTransport,
    private opts: ClientOptions = {},
  ) {
    super();
    this.delay = opts.minDelayMs ?? 500;
    this.connect();
  }

  get socket(): string {
    return this.transport.describe();
  }

  /**
   * Call a method. While a channel is opening the request is sent at once (the channel queues
   * it, and the page's first loads do not wait for the ping's round trip); between a lost
   * connection and the next attempt it waits for the reconnection.
   */
  async call<T>(
    method: string,
    params: Record<string, unknown> = {},
    opts: { signal?: AbortSignal } = {},
  ): Promise<T> {
    if (this.state === 'disconnected' || !this.conn) await this.waitConnected(opts.signal);
    return this.rawCall<T>(method, params, opts.signal);
  }

  /** Call a list method (every one answers `{ items, total }`) for its items. */
  async items<T>(
    method: string,
    params: Record<string, unknown> = {},
    opts: { signal?: AbortSignal } = {},
  ): Promise<T[]> {
    return (await this.call<{ items: T[]; total: number }>(method, params, opts)).items;
  }

  /**
   * Listen for events. `remote` (default) also asks the agent for them with events.subscribe;
   * `remote: false` only listens for notifications the agent sends anyway (terminal output).
   * Returns the function that stops listening.
   */
  on(patterns: string[], fn: EventFn, { remote = true } = {}): () => void {
    for (const p of patterns) {
      let set = this.listeners.get(p);
      if (!set) {
        set = new Set();
        this.listeners.set(p, set);
      }
      set.add(fn);
      if (remote) {
        const n = this.remote.get(p) ?? 0;
        this.remote.set(p, n + 1);
        if (n === 0 && this.state === 'connected')
          void this.rawCall('events.subscribe', { topics: [p] }).catch(() => {});
      }
    }
    return () => {
      for (const p of patterns) {
        this.listeners.get(p)?.delete(fn);
        if (!remote) continue;
        const n = (this.remote.get(p) ?? 1) - 1;
        if (n > 0) this.remote.set(p, n);
        else {
          this.remote.delete(p);
          if (this.state === 'connected')
            void this.rawCall('events.unsubscribe', { topics: [p] }).catch(() => {});
        }
      }
    };
  }

  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.conn?.close();
    this.fail(new AgentError('the page closed the connection', 'disconnected', 0));
  }

  private connect(): void {
    this.setState('connecting');
    this.splitter.reset();
    const conn = this.transport.open(
      (chunk) => {
        for (const line of this.splitter.push(chunk)) this.receive(line);
      },
      (problem) => {
        if (this.conn !== conn) return;
        this.conn = undefined;
        this.problem = problem ?? 'the agent closed the connection';
        this.fail(new AgentError(this.describeProblem(), 'disconnected', 0));
        this.setState('disconnected');
        if (!this.stopped) this.scheduleReconnect();
      },
    );
    this.conn = conn;
    // The channel opening does not prove an agent is answering: a ping does.
    this.rawCall('system.ping', {})
      .then(async () => {
        if (this.conn !== conn) return;
        this.delay = this.opts.minDelayMs ?? 500;
        this.problem = undefined;
        const topics = [...this.remote.keys()];
        if (topics.length) await this.rawCall('events.subscribe', { topics }).catch(() => {});
        performance.mark?.('calypso:connected'); // User Timing, for profiling the page's start
        this.setState('connected');
      })
      .catch(() => {
        /* the close handler reports it */
      });
  }

  private scheduleReconnect(): void {
    const d = this.delay;
    this.delay = Math.min(this.delay * 2, this.opts.maxDelayMs ?? 10_000);
    this.timer = setTimeout(() => this.connect(), d);
  }

  private describeProblem(): string {
    const p = this.problem ?? '';
    const where = this.transport.describe();
    if (/not-found|No such file/i.test(p)) return `the agent is not running: no socket at ${where}`;
    if (/access-denied|Permission denied/i.test(p))
      return `your account may not connect to ${where} (it must be in the calypso group)`;
    return `connection to ${where} lost${p ? ` (${p})` : ''}`;
  }

  private waitConnected(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(t);
        this.removeEventListener('state', onState);
        signal?.removeEventListener('abort', onAbort);
      };
      const onState = () => {
        if (this.state === 'connected') {
          done();
          resolve();
        }
      };
      const onAbort = () => {
        done();
        reject(signal?.reason ?? new AgentError('aborted', 'aborted', 0));
      };
      const t = setTimeout(() => {
        done();
        reject(
          new AgentError(
            this.problem ? this.describeProblem() : 'no answer from the agent',
            'disconnected',
            0,
          ),
        );
      }, this.opts.connectWaitMs ?? 10_000);
      this.addEventListener('state', onState);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private rawCall<T>(method: string, params: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
    const conn = this.conn;
    if (!conn) return Promise.reject(new AgentError(this.describeProblem(), 'disconnected', 0));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, method });
      // An aborted load only stops waiting: the agent finishes the call (reads are cheap, and
      // mutations must not be cut off half-way by a page navigation).
      signal?.addEventListener(
        'abort',
        () => {
          if (this.pending.delete(id)) reject(signal.reason);
        },
        { once: true },
      );
      conn.send(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  private receive(line: string): void {
    let msg: {
      id?: number;
      method?: string;
      params?: AgentEvent;
      result?: unknown;
      error?: { code: number; message: string; data?: unknown };
    };
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (msg.method === 'event' && msg.params) {
      this.dispatch(msg.params);
      return;
    }
    if (typeof msg.id !== 'number') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error) p.reject(AgentError.fromWire(msg.error));
    else p.resolve(msg.result);
  }

  private dispatch(ev: AgentEvent): void {
    for (const [pattern, fns] of this.listeners) {
      if (!topicMatches(pattern, ev.topic)) continue;
      for (const fn of fns) {
        try {
          fn(ev);
        } catch (e) {
          console.error('calypso: event listener failed', e);
        }
      }
    }
  }

  private fail(err: AgentError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }

  private setState(s: ConnectionState): void {
    if (this.state === s) return;
    this.state = s;
    this.dispatchEvent(new Event('state'));
  }
}
