/**
 * Coalesces a pty's output into messages and applies flow control.
 *
 * node-pty hands out small chunks (often a few KiB); sending each as its own JSON-RPC
 * notification would cost more in framing than in data, so chunks produced in the same turn
 * of the event loop are joined up to `maxChunk` characters. Two holds pause the pty:
 * - `queue`: the transport's own send queue is above the high-water mark (until it drains);
 * - `ack`: the client acknowledges what it has processed (`terminal.ack`) and more than
 *   `window` characters are unacknowledged. This covers buffers the agent cannot see, such as
 *   Cockpit's bridge and the browser's terminal renderer.
 */
import type { PtySession } from './pty-session.js';

export interface Backpressure {
  /** Bytes queued on the connection and not yet written to the peer. */
  queuedBytes(): number;
  /** Call fn once the queue has drained; returns a disposer. */
  onDrain(fn: () => void): () => void;
}

export interface PumpOptions {
  /** Deliver one message; `seq` counts messages from 0, `offset` is the character offset of `data`. */
  send(data: string, seq: number, offset: number): void;
  backpressure?: Backpressure;
  /** Enable the acknowledgement window (characters). */
  ackWindow?: number;
  maxChunk?: number;
  highWater?: number;
}

export const DEFAULT_ACK_WINDOW = 2 * 1024 * 1024;
const DEFAULT_MAX_CHUNK = 64 * 1024;
const DEFAULT_HIGH_WATER = 1024 * 1024;

export class OutputPump {
  private pending: string[] = [];
  private pendingLen = 0;
  private scheduled = false;
  private seq = 0;
  /** characters sent so far */
  sent = 0;
  private acked = 0;
  private drainOff: (() => void) | undefined;
  private session: PtySession | undefined;

  constructor(private o: PumpOptions) {}

  attach(session: PtySession): void {
    this.session = session;
  }

  push(data: string): void {
    this.pending.push(data);
    this.pendingLen += data.length;
    if (this.pendingLen >= (this.o.maxChunk ?? DEFAULT_MAX_CHUNK)) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Send what is buffered now (also called before a close notice, so that no output trails it). */
  flush(): void {
    this.scheduled = false;
    if (this.pendingLen === 0) return;
    const data = this.pending.join('');
    this.pending = [];
    this.pendingLen = 0;
    const max = this.o.maxChunk ?? DEFAULT_MAX_CHUNK;
    for (let i = 0; i < data.length; i += max) {
      const part = data.slice(i, i + max);
      this.o.send(part, this.seq++, this.sent);
      this.sent += part.length;
    }
    this.checkQueue();
    this.checkAck();
  }

  /** The client has processed `received` characters in total. */
  ack(received: number): void {
    if (received > this.acked) this.acked = Math.min(received, this.sent);
    this.checkAck();
  }

  dispose(): void {
    this.drainOff?.();
    this.drainOff = undefined;
  }

  private checkQueue(): void {
    const bp = this.o.backpressure;
    if (!bp || !this.session || this.drainOff) return;
    if (bp.queuedBytes() <= (this.o.highWater ?? DEFAULT_HIGH_WATER)) return;
    this.session.hold('queue', true);
    this.drainOff = bp.onDrain(() => {
      this.drainOff = undefined;
      this.session?.hold('queue', false);
    });
  }

  private checkAck(): void {
    const win = this.o.ackWindow;
    if (!win || !this.session) return;
    const unacked = this.sent - this.acked;
    // hysteresis: pause above the window, resume below a quarter of it
    if (unacked > win) this.session.hold('ack', true);
    else if (unacked < win / 4) this.session.hold('ack', false);
  }
}
