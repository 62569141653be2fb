/**
 * The one command runner (docs/design.md principle 2; STYLE.md convention 6).
 *
 * Every external command of the agent goes through here: argv arrays only (never a shell),
 * binaries resolved once against a fixed PATH, a timeout, an AbortSignal that kills the whole
 * process group (SIGTERM, then SIGKILL after a grace period), caps on captured output, a clean
 * environment and one debug log line with the duration. Errors carry argv, exit code and the
 * tail of stderr, and are already the catalogue's `failed` / `timeout` / `aborted` / `unavailable`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { RpcError } from '../rpc/errors.js';
import { type Caller, callerOf } from '../rpc/session.js';

export const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface RunOptions {
  /** Milliseconds before the process group is terminated; default 60 s. 0 disables. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Written to stdin, which is then closed. */
  input?: string | Buffer;
  /** Bytes of stdout (and separately stderr) kept; default 64 MiB. More is discarded and `truncated` set. */
  maxOutput?: number;
  /** Added to the clean environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** Exit codes that are not failures; default [0]. */
  okCodes?: number[];
  /**
   * Kill the process when the agent dies, even by SIGKILL (long-lived children such as
   * `udevadm monitor`): started through `setpriv --pdeathsig KILL` when setpriv is installed.
   * Without it the child would outlive a killed agent in its own process group.
   */
  dieWithParent?: boolean;
  /** What logs and errors show instead of the argv (an argv holding a secret, redacted). */
  shownArgv?: readonly string[];
  /**
   * Whose command this is, for the queue's lanes; by default the caller whose `ctx.signal` is
   * passed as `signal` (commands of neither share one lane).
   */
  caller?: Caller;
  /**
   * `run()` only: stdout goes to /dev/null and `stdout` is empty — for a check that reads only
   * stderr and the status (`testparm -s` prints the whole configuration it checked: 200 KB for
   * 1,000 shares, read through a pipe by the event loop while the tool waits on it).
   */
  discardStdout?: boolean;
  /** Run as this uid/gid (tests, dropping privileges). */
  uid?: number;
  gid?: number;
}

export interface RunResult {
  argv: string[];
  code: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  truncated: boolean;
}

export interface SpawnedCommand {
  child: ChildProcess;
  /** Settles like `run()` once the process exits (stdout is not captured: the caller reads the stream). */
  done: Promise<RunResult>;
}

export interface Runner {
  /** Run a command to completion and capture its output (waits for a free slot first). */
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Start a command whose stdout/stdin the caller streams (zfs send | zfs receive, bconsole). */
  spawn(argv: readonly string[], opts?: RunOptions & { captureStdout?: boolean }): SpawnedCommand;
  /** Absolute path of a binary on the runner's PATH, or undefined. Cached. */
  which(name: string): string | undefined;
  /** `run()` commands running and waiting for a slot. */
  queueStats?(): { running: number; waiting: number };
}

export interface RunnerOptions {
  log?: Logger;
  path?: string;
  /** SIGTERM → SIGKILL grace period. */
  killGraceMs?: number;
  /**
   * `run()` commands running at once; more wait in per-caller lanes (issue #15 item 6: batched
   * reads made about 1,000 concurrent children and the agent answered nothing for 54 s).
   * `spawn()` commands are not counted: they are long-lived (udevadm monitor, zfs send,
   * bconsole sessions) and would hold a slot for their whole life.
   */
  maxConcurrent?: number;
  /** Per-tool limits for expensive tools, by command name (`{ smartctl: 2 }`). */
  perTool?: Record<string, number>;
}

export const DEFAULT_MAX_CONCURRENT = 16;

/** Commands waiting per caller, and in all, before more are refused `busy`. */
export const MAX_WAITING_PER_CALLER = 256;
export const MAX_WAITING = 4096;

interface Waiter {
  tool: string;
  go: () => void;
}

/**
 * Waiting commands in one lane per caller (issue #28 item 4: one auditor's pipelined
 * iscsi.status made admin's own wait over 300 s). A free slot goes to the admins' lane first,
 * then round robin across the other callers' lanes, FIFO within a lane; a tool at its own limit
 * does not block other tools. Lanes and the whole queue are bounded.
 */
class CommandQueue {
  private running = 0;
  private perTool = new Map<string, number>();
  private lanes = new Map<string, Waiter[]>();
  /** round-robin order of the non-admin lanes */
  private order: string[] = [];
  private waitingCount = 0;
  constructor(
    private max: number,
    private toolMax: Record<string, number>,
  ) {}

  private fits(tool: string): boolean {
    const limit = this.toolMax[tool];
    return this.running < this.max && (limit === undefined || (this.perTool.get(tool) ?? 0) < limit);
  }

  private take(tool: string) {
    this.running++;
    this.perTool.set(tool, (this.perTool.get(tool) ?? 0) + 1);
  }

  /** Resolves with the release function once a slot is free; rejects if the signal aborts first. */
  acquire(tool: string, signal?: AbortSignal, caller?: Caller): Promise<() => void> {
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.running--;
      const n = (this.perTool.get(tool) ?? 1) - 1;
      if (n > 0) this.perTool.set(tool, n);
      else this.perTool.delete(tool);
      this.next();
    };
    if (this.waitingCount === 0 && this.fits(tool)) {
      this.take(tool);
      return Promise.resolve(release);
    }
    const laneKey = caller?.admin ? ADMIN_LANE : (caller?.key ?? 'unattributed');
    let lane = this.lanes.get(laneKey);
    if ((lane?.length ?? 0) >= MAX_WAITING_PER_CALLER || this.waitingCount >= MAX_WAITING)
      return Promise.reject(
        new RpcError(
          'busy',
          `${tool}: ${lane && lane.length >= MAX_WAITING_PER_CALLER ? `${MAX_WAITING_PER_CALLER} commands of this caller` : `${MAX_WAITING} commands`} are already waiting for a slot; try again later`,
          { waiting: this.waitingCount },
        ),
      );
    if (!lane) {
      lane = [];
      this.lanes.set(laneKey, lane);
      if (laneKey !== ADMIN_LANE) this.order.push(laneKey);
    }
    const theLane = lane;
    return new Promise((resolve, reject) => {
      const entry: Waiter = {
        tool,
        go: () => {
          signal?.removeEventListener('abort', onAbort);
          this.take(tool);
          resolve(release);
        },
      };
      const onAbort = () => {
        const i = theLane.indexOf(entry);
        if (i >= 0) {
          theLane.splice(i, 1);
          this.waitingCount--;
          this.dropIfEmpty(laneKey);
        }
        reject(new RpcError('aborted', `${tool}: aborted while waiting for a free command slot`));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      theLane.push(entry);
      this.waitingCount++;
    });
  }

  private dropIfEmpty(key: string) {
    if (this.lanes.get(key)?.length) return;
    this.lanes.delete(key);
    const i = this.order.indexOf(key);
    if (i >= 0) this.order.splice(i, 1);
  }

  /** The first waiter of a lane whose tool fits, taken out of the lane. */
  private pick(key: string): Waiter | undefined {
    const lane = this.lanes.get(key);
    if (!lane) return undefined;
    const i = lane.findIndex((w) => this.fits(w.tool));
    if (i < 0) return undefined;
    const [w] = lane.splice(i, 1);
    this.waitingCount--;
    this.dropIfEmpty(key);
    return w;
  }

  /** Fill free slots: the admins' lane first, then one command per lane in turn. */
  private next() {
    while (this.running < this.max && this.waitingCount > 0) {
      let w = this.pick(ADMIN_LANE);
      if (!w) {
        for (let n = this.order.length; n > 0 && !w; n--) {
          const key = this.order.shift()!;
          this.order.push(key); // the lane goes to the back whether or not it had a command that fits
          w = this.pick(key);
        }
      }
      if (!w) return; // every waiting tool is at its own limit
      w.go();
    }
  }

  stats() {
    return { running: this.running, waiting: this.waitingCount };
  }
}

const ADMIN_LANE = '\0admin';

const DEFAULT_TIMEOUT = 60_000;
const DEFAULT_MAX_OUTPUT = 64 * 1024 * 1024;
const STDERR_TAIL = 2048;

/**
 * The test suite's run tag (scripts/test.mjs sets CALYPSO_SUITE_RUN) goes on to every command, so
 * that the suite's leftovers check can tell the daemons it started (tgtd, cockpit-ws, Bacula…)
 * from any others on the machine. Empty outside the suite: commands get the clean environment.
 */
const SUITE_TAG: Record<string, string> = process.env.CALYPSO_SUITE_RUN
  ? { CALYPSO_SUITE_RUN: process.env.CALYPSO_SUITE_RUN }
  : {};

export function createRunner(options: RunnerOptions = {}): Runner {
  const searchPath = options.path ?? SAFE_PATH;
  const grace = options.killGraceMs ?? 2000;
  const cache = new Map<string, string | undefined>();
  const queue = new CommandQueue(options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT, options.perTool ?? {});

  function which(name: string): string | undefined {
    if (name.includes('/')) return isExecutable(name) ? name : undefined;
    if (cache.has(name)) return cache.get(name);
    let found: string | undefined;
    for (const dir of searchPath.split(':')) {
      const candidate = path.join(dir, name);
      if (isExecutable(candidate)) {
        found = candidate;
        break;
      }
    }
    cache.set(name, found);
    return found;
  }

  function start(argv: readonly string[], opts: RunOptions, captureStdout: boolean) {
    if (argv.length === 0 || typeof argv[0] !== 'string') throw new TypeError('runner: empty argv');
    const [cmd, ...rest] = argv as [string, ...string[]];
    const shown = [...(opts.shownArgv ?? argv)];
    const target = which(cmd);
    if (!target)
      throw new RpcError('unavailable', `${cmd}: not installed`, {
        reason: `${cmd} not found on ${searchPath}`,
        argv: shown,
      });
    let bin = target;
    let args = rest;
    const setpriv = opts.dieWithParent ? which('setpriv') : undefined;
    if (setpriv) {
      // setpriv sets PR_SET_PDEATHSIG and execs the command: same pid, same process group
      bin = setpriv;
      args = ['--pdeathsig', 'KILL', '--', target, ...rest];
    }
    const started = performance.now();
    const env: Record<string, string> = {
      PATH: searchPath,
      LANG: 'C',
      LC_ALL: 'C',
      ...SUITE_TAG,
      ...opts.env,
    };
    const child = spawn(bin, args, {
      shell: false,
      detached: true, // own process group, so that abort/timeout kills grandchildren too
      env,
      cwd: opts.cwd,
      stdio: ['pipe', opts.discardStdout ? 'ignore' : 'pipe', 'pipe'],
      uid: opts.uid,
      gid: opts.gid,
    });
    const max = opts.maxOutput ?? DEFAULT_MAX_OUTPUT;
    let truncated = false;
    const outChunks: Buffer[] = [];
    let outBytes = 0;
    const errChunks: Buffer[] = [];
    let errBytes = 0;
    if (captureStdout) {
      child.stdout?.on('data', (b: Buffer) => {
        if (outBytes + b.length > max) {
          truncated = true;
          const room = max - outBytes;
          if (room > 0) outChunks.push(b.subarray(0, room));
          outBytes = max;
        } else {
          outChunks.push(b);
          outBytes += b.length;
        }
      });
    }
    child.stderr?.on('data', (b: Buffer) => {
      if (errBytes + b.length > max) {
        truncated = true;
        return;
      }
      errChunks.push(b);
      errBytes += b.length;
    });
    child.stdin?.on('error', () => {}); // EPIPE when the tool exits without reading: the exit code tells
    if (opts.input !== undefined) child.stdin?.end(opts.input);

    let why: 'timeout' | 'aborted' | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (reason: 'timeout' | 'aborted') => {
      if (why || child.exitCode !== null) return;
      why = reason;
      signalGroup(child, 'SIGTERM');
      killTimer = setTimeout(() => signalGroup(child, 'SIGKILL'), grace);
      killTimer.unref();
    };
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT;
    const timer = timeoutMs > 0 ? setTimeout(() => killGroup('timeout'), timeoutMs) : undefined;
    const onAbort = () => killGroup('aborted');
    if (opts.signal?.aborted) queueMicrotask(onAbort);
    else opts.signal?.addEventListener('abort', onAbort, { once: true });

    const done = new Promise<RunResult>((resolve, reject) => {
      child.once('error', (err) => {
        cleanup();
        reject(new RpcError('failed', `${cmd}: ${err.message}`, { argv: shown }));
      });
      child.once('close', (code, sig) => {
        cleanup();
        const durationMs = Math.round(performance.now() - started);
        const result: RunResult = {
          argv: shown,
          code: code ?? -1,
          stdout: Buffer.concat(outChunks).toString('utf8'),
          stderr: Buffer.concat(errChunks).toString('utf8'),
          durationMs,
          truncated,
        };
        options.log?.debug({ argv: result.argv, code: result.code, signal: sig, durationMs }, 'exec');
        const tail = result.stderr.slice(-STDERR_TAIL).trim();
        if (why === 'timeout') {
          reject(
            new RpcError('timeout', `${cmd}: timed out after ${timeoutMs} ms`, {
              argv: result.argv,
              stderr: tail,
            }),
          );
        } else if (why === 'aborted') {
          reject(new RpcError('aborted', `${cmd}: aborted`, { argv: result.argv }));
        } else if (!(opts.okCodes ?? [0]).includes(result.code)) {
          const first = tail.split('\n').filter(Boolean).pop() ?? `exit code ${result.code}`;
          reject(
            new RpcError('failed', `${cmd}: ${first}`, {
              argv: result.argv,
              exitCode: result.code,
              stderr: tail,
            }),
          );
        } else {
          resolve(result);
        }
      });
    });
    function cleanup() {
      if (timer) clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
    return { child, done };
  }

  return {
    which,
    run: async (argv, opts = {}) => {
      const tool = path.basename(String(argv[0] ?? ''));
      if (argv.length === 0 || !which(String(argv[0]))) return start(argv, opts, true).done; // the error, at once
      const release = await queue.acquire(tool, opts.signal, opts.caller ?? callerOf(opts.signal));
      try {
        return await start(argv, opts, true).done;
      } finally {
        release();
      }
    },
    queueStats: () => queue.stats(),
    spawn: (argv, opts = {}) => start(argv, opts, opts.captureStdout ?? false),
  };
}

function signalGroup(child: ChildProcess, sig: NodeJS.Signals) {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    try {
      child.kill(sig);
    } catch {
      /* already gone */
    }
  }
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
