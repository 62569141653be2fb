/**
 * The one command runner (DESIGN.md principle 2; STYLE.md convention 6).
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
  /** Run a command to completion and capture its output. */
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Start a command whose stdout/stdin the caller streams (zfs send | zfs receive, bconsole). */
  spawn(argv: readonly string[], opts?: RunOptions & { captureStdout?: boolean }): SpawnedCommand;
  /** Absolute path of a binary on the runner's PATH, or undefined. Cached. */
  which(name: string): string | undefined;
}

export interface RunnerOptions {
  log?: Logger;
  path?: string;
  /** SIGTERM → SIGKILL grace period. */
  killGraceMs?: number;
}

const DEFAULT_TIMEOUT = 60_000;
const DEFAULT_MAX_OUTPUT = 64 * 1024 * 1024;
const STDERR_TAIL = 2048;

export function createRunner(options: RunnerOptions = {}): Runner {
  const searchPath = options.path ?? SAFE_PATH;
  const grace = options.killGraceMs ?? 2000;
  const cache = new Map<string, string | undefined>();

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
    const target = which(cmd);
    if (!target)
      throw new RpcError('unavailable', `${cmd}: not installed`, {
        reason: `${cmd} not found on ${searchPath}`,
        argv,
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
    const env: Record<string, string> = { PATH: searchPath, LANG: 'C', LC_ALL: 'C', ...opts.env };
    const child = spawn(bin, args, {
      shell: false,
      detached: true, // own process group, so that abort/timeout kills grandchildren too
      env,
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
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
        reject(new RpcError('failed', `${cmd}: ${err.message}`, { argv: [...argv] }));
      });
      child.once('close', (code, sig) => {
        cleanup();
        const durationMs = Math.round(performance.now() - started);
        const result: RunResult = {
          argv: [...argv],
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
    run: (argv, opts = {}) => {
      try {
        return start(argv, opts, true).done;
      } catch (err) {
        return Promise.reject(err);
      }
    },
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
