/**
 * One pseudo-terminal running a login shell (node-pty).
 *
 * The shell is the one place where the agent starts a process outside the Runner: the Runner
 * deals in pipes and argv-to-completion, a terminal needs a controlling tty, window sizes and
 * job control. It still gets a clean environment and a fixed PATH like the Runner's commands.
 *
 * Flow control: output is handed to the transport's sink; whoever cannot keep up (the Unix
 * socket's queue, a WebSocket's buffered bytes, a client that has not acknowledged enough)
 * takes a named hold and the pty is paused until every hold is released. Pausing the pty
 * stops reading its master side, so the kernel's tty buffer fills and the shell's writes
 * block: nothing is dropped, nothing is buffered without bound.
 */
import { randomBytes } from 'node:crypto';
import type * as pty from 'node-pty';
import { SAFE_PATH } from '../runner.js';
import type { LoginUser } from './login-user.js';

export type CloseReason =
  | 'client'
  | 'exit'
  | 'idle'
  | 'disconnect'
  | 'shutdown'
  | 'error'
  | 'token revoked'
  | 'token expired';

export interface PtySessionOptions {
  /** node-pty, loaded on the first session (agent/util/lazy-modules.ts) */
  pty: typeof pty;
  user: LoginUser;
  shell: string;
  cols: number;
  rows: number;
  /** Close after this much time without input; 0 disables. */
  idleTimeoutMs: number;
  /** Run the shell as the user (only when the agent is root and the user differs from the agent's). */
  switchUser: boolean;
  onData(data: string): void;
  onClose(info: ClosedInfo): void;
}

export interface ClosedInfo {
  reason: CloseReason;
  exitCode?: number;
  signal?: number;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
}

export const MIN_COLS = 2;
export const MAX_COLS = 1000;
export const MIN_ROWS = 1;
export const MAX_ROWS = 500;

export class PtySession {
  readonly id = randomBytes(8).toString('hex');
  readonly startedAt = Date.now();
  private proc: pty.IPty;
  private holds = new Set<string>();
  private paused = false;
  private closed = false;
  private closeReason: CloseReason | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  bytesIn = 0;
  bytesOut = 0;
  cols: number;
  rows: number;

  constructor(private opts: PtySessionOptions) {
    this.cols = clamp(opts.cols, MIN_COLS, MAX_COLS);
    this.rows = clamp(opts.rows, MIN_ROWS, MAX_ROWS);
    const u = opts.user;
    this.proc = opts.pty.spawn(opts.shell, ['-l'], {
      name: 'xterm-256color',
      cols: this.cols,
      rows: this.rows,
      cwd: u.home,
      env: {
        PATH: SAFE_PATH,
        TERM: 'xterm-256color',
        HOME: u.home,
        USER: u.name,
        LOGNAME: u.name,
        SHELL: opts.shell,
        LANG: 'C.UTF-8',
      },
      encoding: 'utf8',
      ...(opts.switchUser ? { uid: u.uid, gid: u.gid } : {}),
    });
    this.proc.onData((data) => {
      this.bytesOut += Buffer.byteLength(data, 'utf8');
      opts.onData(data);
    });
    this.proc.onExit(({ exitCode, signal }) => this.finish(this.closeReason ?? 'exit', exitCode, signal));
    this.touch();
  }

  get pid(): number {
    return this.proc.pid;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** True while output is held back. */
  get isPaused(): boolean {
    return this.paused;
  }

  write(data: string): void {
    if (this.closed) return;
    this.bytesIn += Buffer.byteLength(data, 'utf8');
    this.touch();
    this.proc.write(data);
  }

  resize(cols: number, rows: number): void {
    if (this.closed) return;
    this.cols = clamp(cols, MIN_COLS, MAX_COLS);
    this.rows = clamp(rows, MIN_ROWS, MAX_ROWS);
    this.proc.resize(this.cols, this.rows);
  }

  /** Take (`on`) or release a named hold on the output. */
  hold(name: string, on: boolean): void {
    if (on) this.holds.add(name);
    else this.holds.delete(name);
    const shouldPause = this.holds.size > 0;
    if (shouldPause === this.paused || this.closed) return;
    this.paused = shouldPause;
    if (shouldPause) this.proc.pause();
    else this.proc.resume();
  }

  /** Hang up: SIGHUP to the shell (as a closing terminal does), SIGKILL if it lingers. */
  close(reason: CloseReason): void {
    if (this.closed || this.closeReason) return;
    this.closeReason = reason;
    if (this.paused) this.proc.resume(); // a paused master would keep the shell blocked on write
    try {
      this.proc.kill('SIGHUP');
    } catch {
      /* already gone */
    }
    const pid = this.proc.pid;
    const t = setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL'); // the shell leads its own session and process group
      } catch {
        /* gone */
      }
      // node-pty reports the exit once the child is reaped; if that never comes, finish anyway
      setTimeout(() => this.finish(reason), 1000).unref();
    }, 2000);
    t.unref();
  }

  private touch(): void {
    if (!this.opts.idleTimeoutMs) return;
    if (this.idleTimer) this.idleTimer.refresh();
    else {
      this.idleTimer = setTimeout(() => this.close('idle'), this.opts.idleTimeoutMs);
      this.idleTimer.unref();
    }
  }

  private finish(reason: CloseReason, exitCode?: number, signal?: number): void {
    if (this.closed) return;
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.opts.onClose({
      reason,
      exitCode,
      signal: signal || undefined,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      durationMs: Date.now() - this.startedAt,
    });
  }
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.floor(n)));
}
