/**
 * NDJSON over a Unix socket: one JSON text per line each way. The peer's identity comes from
 * SO_PEERCRED. Limits: connections (with slots reserved for admins and a cap per non-admin
 * uid, so that root can always connect: issue #15 item 5), line length (a line longer than
 * the message limit cannot be resynchronised, so the connection is answered once and closed),
 * idle time, and backpressure: while the peer is not reading, we stop reading its requests;
 * an answer that would take its queue past `maxBufferedBytes`, or all connections' queues past
 * `maxQueuedBytesTotal`, disconnects it (checked before the write: the first write used to
 * pass whatever its size). A peer that half-closes still gets its answers (item 10).
 */
import { chmodSync, chownSync, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { closeSession, newSession, type RpcCore, type Session } from './core.js';
import { PROTOCOL_ERRORS } from './errors.js';
import { budgetOf, type OutputBudget } from './output-budget.js';
import type { Identity } from './roles.js';
import { slotRefusal } from './slots.js';

export interface UnixTransportOptions {
  path: string;
  mode: number;
  gid?: number;
  core: RpcCore;
  identify: (socket: net.Socket) => Identity;
  log: Logger;
  maxConnections: number;
  maxMessageBytes: number;
  /** Line length for callers with no role (public methods only). */
  maxPublicMessageBytes?: number;
  maxBufferedBytes: number;
  /** Output queued for all connections together before non-reading peers are dropped. */
  maxQueuedBytesTotal?: number;
  /** Output queued for all connections of one non-admin uid together. */
  maxQueuedBytesPerPeer?: number;
  /** Output budgets shared with the other transport (else its own, from the limits above). */
  budget?: OutputBudget;
  idleTimeoutMs: number;
  /** Calls in flight per connection before reading pauses. */
  maxInflight: number;
  /** Connections per non-admin uid. */
  maxPerUid?: number;
  /** Of maxConnections, slots only admins may take. */
  reservedForAdmin?: number;
  /** Slots before the admins' that only operators and admins may take. */
  reservedForOperator?: number;
  /** Slots before the operators' that only auditors and up may take. */
  reservedForAuditor?: number;
  onSession?: (session: Session) => void;
}

export class UnixTransport {
  private server: net.Server;
  private sockets = new Set<net.Socket>();
  private perUid = new Map<number, number>();
  private budget: OutputBudget;

  constructor(private o: UnixTransportOptions) {
    this.budget = budgetOf(o);
    // allowHalfOpen: a peer that sends its request and shuts down its writing side still
    // reads the answer; we end our side once everything read has been answered
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    // e.g. EMFILE from accept(): without a listener it would crash the agent
    this.server.on('error', (err) => this.o.log.error({ err }, 'socket: server error'));
  }

  async listen(): Promise<void> {
    mkdirSync(path.dirname(this.o.path), { recursive: true });
    rmSync(this.o.path, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.o.path, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    chmodSync(this.o.path, this.o.mode);
    if (this.o.gid !== undefined) {
      try {
        chownSync(this.o.path, -1, this.o.gid);
      } catch (e) {
        this.o.log.warn({ err: e }, `socket: cannot give ${this.o.path} to gid ${this.o.gid}`);
      }
    }
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
    rmSync(this.o.path, { force: true });
  }

  connectionCount(): number {
    return this.sockets.size;
  }

  /** Why a new connection is refused, or undefined to accept it. */
  private refusal(identity: Identity): string | undefined {
    const why = slotRefusal(this.sockets.size, this.o.maxConnections, identity.role, {
      admin: this.o.reservedForAdmin,
      operator: this.o.reservedForOperator,
      auditor: this.o.reservedForAuditor,
    });
    if (why || identity.role === 'admin') return why;
    const perUid = this.o.maxPerUid;
    if (perUid !== undefined && identity.uid !== undefined && (this.perUid.get(identity.uid) ?? 0) >= perUid)
      return `too many connections from uid ${identity.uid} (at most ${perUid})`;
    return undefined;
  }

  private accept(socket: net.Socket) {
    // Before anything is written: a peer that resets the connection must not crash the agent.
    socket.on('error', () => {});
    const identity = this.o.identify(socket);
    const why = this.refusal(identity);
    if (why) {
      endWith(socket, limitLine(why));
      return;
    }
    this.sockets.add(socket);
    const uid = identity.uid;
    if (uid !== undefined) this.perUid.set(uid, (this.perUid.get(uid) ?? 0) + 1);
    const session = newSession(identity, (method, params) => send({ jsonrpc: '2.0', method, params }));
    // flow control for streaming methods (the terminal pauses its pty while the peer lags)
    session.queuedBytes = () => socket.writableLength;
    session.onDrain = (fn) => {
      socket.once('drain', fn);
      return () => socket.off('drain', fn);
    };
    this.o.onSession?.(session);
    let pending = 0;
    // answers of one tick, written together (pipelined clients send many requests per read)
    let outBuf = '';
    let flushQueued = false;
    // Reading stops while the peer does not read our output ('drain') or while it has too many
    // calls in flight ('inflight'), so that one client cannot queue unbounded work.
    const holds = new Set<'drain' | 'inflight'>();
    const hold = (why: 'drain' | 'inflight', on: boolean) => {
      const before = holds.size;
      if (on) holds.add(why);
      else holds.delete(why);
      if (before === 0 && holds.size > 0) socket.pause();
      else if (before > 0 && holds.size === 0 && !socket.destroyed) socket.resume();
    };

    const send = (obj: unknown) => writeLine(JSON.stringify(obj));
    const flush = () => {
      flushQueued = false;
      if (!outBuf) return;
      const text = outBuf;
      outBuf = '';
      if (socket.destroyed || socket.writableEnded) return;
      const ok = socket.write(text);
      if (!ok && !holds.has('drain')) {
        hold('drain', true);
        socket.once('drain', () => hold('drain', false));
      }
    };
    const slot = this.budget.open(
      uid !== undefined ? `uid ${uid}` : undefined,
      identity.role === 'admin',
      () => socket.writableLength + outBuf.length,
    );
    const drop = (why: string) => {
      this.o.log.warn(
        { user: identity.user, queued: slot.queued(), why },
        'socket: slow reader disconnected',
      );
      socket.destroy();
    };
    session.reserveOutput = (bytes) => {
      if (this.budget.reserve(slot, bytes)) return true;
      drop(this.budget.refusal(slot, bytes) ?? 'over its output budget');
      return false;
    };
    const writeLine = (line: string) => {
      if (socket.destroyed || socket.writableEnded) return;
      // Judged before the write, with the line counted, the first answer included: against the
      // connection's, its uid's and everyone's output budgets (a batch reserved its bytes).
      slot.reserved = Math.max(0, slot.reserved - line.length);
      const why = this.budget.refusal(slot, line.length);
      if (why) return drop(why);
      // one string and one write per tick: writev of many small chunks cost more than the
      // answers themselves (a profile at 32 in flight: 10 % of the agent's time in writev)
      outBuf += `${line}\n`;
      if (!flushQueued) {
        flushQueued = true;
        process.nextTick(flush);
      }
    };

    socket.setEncoding('utf8');
    if (this.o.idleTimeoutMs > 0) {
      // Not setTimeout's callback: that is a once-listener, so a connection excused once (a call
      // in flight) would never be closed for idleness afterwards. Activity re-arms the timer.
      socket.setTimeout(this.o.idleTimeoutMs);
      socket.on('timeout', () => {
        if (session.keepAlive > 0 || pending > 0) return;
        flush();
        socket.end();
        // half-open allowed: a peer that never closes its side must not keep the fd
        setTimeout(() => socket.destroy(), 2000).unref();
      });
    }
    // An over-long line is answered once and the connection closed, whether or not its end
    // arrived in the same chunk; later input is ignored so that only one error is sent.
    let tooLong = false;
    // a caller with no role may send only small lines (public methods take no large params):
    // its long line is refused while it arrives, never joined or parsed (issue #28 item 11)
    const maxLine =
      identity.role === 'none'
        ? Math.min(this.o.maxMessageBytes, this.o.maxPublicMessageBytes ?? this.o.maxMessageBytes)
        : this.o.maxMessageBytes;
    const overLimit = (text: string) =>
      text.length > maxLine || (text.length * 3 > maxLine && Buffer.byteLength(text, 'utf8') > maxLine);
    // Complete lines waiting for dispatch (held back by the in-flight cap), and the parts of the
    // line still arriving. A chunk is searched for newlines once and a long line is joined once
    // at its end: re-searching (and so flattening) the whole buffered text per chunk made 20
    // lines of 3 MB cost seconds and hundreds of MB (issue #15 item 7).
    const ready: string[] = [];
    let readyHead = 0;
    let partial: string[] = [];
    let partialBytes = 0;
    const refuseLine = () => {
      tooLong = true;
      ready.length = 0;
      partial = [];
      if (socket.destroyed || socket.writableEnded) return;
      flush();
      endWith(socket, limitLine(`message exceeds ${maxLine} bytes`));
    };
    const take = (chunk: string) => {
      let start = 0;
      let nl = chunk.indexOf('\n');
      while (nl >= 0) {
        const seg = chunk.slice(start, nl);
        let line = seg;
        if (partial.length) {
          partial.push(seg);
          line = partial.join('');
          partial = [];
          partialBytes = 0;
        }
        if (overLimit(line)) return refuseLine();
        ready.push(line);
        start = nl + 1;
        nl = chunk.indexOf('\n', start);
      }
      if (start < chunk.length) {
        const rest = start ? chunk.slice(start) : chunk;
        partial.push(rest);
        partialBytes += Buffer.byteLength(rest, 'utf8');
        if (partialBytes > maxLine) refuseLine();
      }
    };
    const track = (d: number) => {
      pending += d;
      if (pending === 0) slot.reserved = 0;
      if (d < 0 && pending < this.o.maxInflight && holds.has('inflight')) {
        hold('inflight', false);
        pump();
      } else if (d < 0 && peerEnded) {
        finishHalfClosed();
      }
    };
    const pump = () => {
      if (tooLong) return;
      while (readyHead < ready.length) {
        if (pending >= this.o.maxInflight) {
          hold('inflight', true);
          return;
        }
        const line = ready[readyHead++]!;
        if (line.trim()) dispatch(line);
      }
      ready.length = 0;
      readyHead = 0;
      if (peerEnded) finishHalfClosed();
    };
    // The peer half-closed: a last line without its newline is still a request; our side is
    // ended once every call read has been answered.
    let peerEnded = false;
    const finishHalfClosed = () => {
      if (tooLong || socket.destroyed || socket.writableEnded) return;
      if (readyHead < ready.length) return; // lines held back by the in-flight cap: pump runs again
      if (partial.length) {
        const last = partial.join('');
        partial = [];
        if (last.trim()) dispatch(last);
      }
      if (pending === 0) {
        flush();
        socket.end();
      }
    };
    // one pair of callbacks per connection, not per call
    const onResult = (out: string | undefined) => {
      try {
        if (out !== undefined) writeLine(out);
      } catch (err) {
        this.o.log.error({ err }, 'socket: write failed');
      } finally {
        track(-1);
      }
    };
    const onError = (err: unknown) => {
      this.o.log.error({ err }, 'socket: dispatch failed');
      track(-1);
    };
    const dispatch = (line: string) => {
      track(1);
      this.o.core.handleText(line, session).then(onResult, onError);
    };
    socket.on('data', (chunk: string) => {
      if (tooLong) return;
      take(chunk);
      pump();
    });
    socket.on('end', () => {
      peerEnded = true;
      pump();
    });
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.budget.close(slot);
      if (uid !== undefined) {
        const n = (this.perUid.get(uid) ?? 1) - 1;
        if (n > 0) this.perUid.set(uid, n);
        else this.perUid.delete(uid);
      }
      closeSession(session);
    });
  }
}

/**
 * Send a last line, half-close, and drop the connection after a grace period. Until then the
 * peer's further input is read and discarded: closing with unread input would reset the
 * connection, and a peer still writing would lose the line before reading it. The timer also
 * frees the fd of a refused peer that never closes its end.
 */
function endWith(socket: net.Socket, line: string) {
  socket.end(line);
  socket.resume();
  setTimeout(() => socket.destroy(), 2000).unref();
}

function limitLine(reason: string): string {
  const error = { ...PROTOCOL_ERRORS.invalid_request, data: { kind: 'limit', reason } };
  return `${JSON.stringify({ jsonrpc: '2.0', id: null, error })}\n`;
}
