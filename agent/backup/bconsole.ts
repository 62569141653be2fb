/**
 * The bconsole client: one short bconsole session per call, spawned through the runner with the
 * commands on stdin (no shell, no tty).
 *
 * Field findings (Bacula 9.6.7):
 * - Several commands in one session can interleave: the director may still be sending the
 *   output of `label` when bconsole sends the next line, and at end of input bconsole exits
 *   without waiting for late output. So commands with side effects run one per session; only
 *   `.api 2` is sent ahead of a read-only dot-command.
 * - Prompts read the next stdin line as their answer (see exec).
 * - With the director down, bconsole retries the connection for ~15 s and prints nothing.
 *   A TCP probe of the director port first gives `unavailable` at once, with the reason.
 */
import net from 'node:net';
import type { Logger } from 'pino';
import { RpcError, unavailable } from '../../rpc/errors.js';
import type { Runner } from '../runner.js';
import { splitCommands, stripSession } from './parse-bconsole.js';

export interface BconsoleOptions {
  runner: Runner;
  configFile: string;
  address: string;
  port: number;
  log?: Logger;
}

export interface ExecOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export type Probe = { ok: true } | { ok: false; reason: string };

export function probeTcp(host: string, port: number, timeoutMs = 2000): Promise<Probe> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (p: Probe) => {
      sock.destroy();
      resolve(p);
    };
    sock.setTimeout(timeoutMs, () =>
      done({ ok: false, reason: `no answer from ${host}:${port} within ${timeoutMs} ms` }),
    );
    sock.once('connect', () => done({ ok: true }));
    sock.once('error', (e: NodeJS.ErrnoException) =>
      done({
        ok: false,
        reason: `${host}:${port}: ${e.code === 'ECONNREFUSED' ? 'connection refused' : e.message}`,
      }),
    );
  });
}

/** The argv of a console session (pure: dry-run plans show exactly this). */
export function bconsoleArgv(configFile: string, timeoutMs = 60_000): string[] {
  return ['bconsole', '-n', '-s', '-u', String(Math.max(1, Math.ceil(timeoutMs / 1000))), '-c', configFile];
}

export class Bconsole {
  constructor(private opts: BconsoleOptions) {}

  /** The argv every session of this console runs. */
  argv(timeoutMs = 60_000): string[] {
    return bconsoleArgv(this.opts.configFile, timeoutMs);
  }

  /** Is the director accepting connections? */
  async probe(timeoutMs = 2000): Promise<Probe> {
    const p = await probeTcp(this.opts.address, this.opts.port, timeoutMs);
    return p.ok ? p : { ok: false, reason: `bacula director is not running or not reachable (${p.reason})` };
  }

  /** Throw `unavailable` with the reason unless the director answers. */
  async requireUp(): Promise<void> {
    const p = await this.probe();
    if (!p.ok) throw unavailable(p.reason, { daemon: 'bacula-dir' });
  }

  /**
   * Run the commands in one session and return the output of each (echoes and session noise
   * removed). Commands are single lines built by this module's callers from validated values.
   */
  async exec(commands: string[], opts: ExecOptions & { answers?: string[] } = {}): Promise<string[]> {
    for (const c of [...commands, ...(opts.answers ?? [])])
      if (/[\r\n\u0000]/.test(c)) throw new Error('bconsole: command with a line break');
    if (opts.answers && commands.length !== 1) throw new Error('bconsole: answers follow one command');
    await this.requireUp();
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const argv = bconsoleArgv(this.opts.configFile, timeoutMs);
    const { child, done } = this.opts.runner.spawn(argv, {
      timeoutMs: timeoutMs + 5000,
      signal: opts.signal,
      captureStdout: true,
      okCodes: [0, 1],
    });
    // A "." after each command answers any prompt the command unexpectedly raises with
    // "cancel" (at the top level it is a no-op). Without it the next line would be taken as
    // the answer: after "Media record for new Volume already exists", `quit` became the name
    // of a new volume.
    const answers = (opts.answers ?? []).map((a) => `${a}\n`).join('');
    child.stdin?.end(`${commands.map((c) => `${c}\n${answers}.`).join('\n')}\nquit\n`);
    const r = await done;
    const s = stripSession(r.stdout);
    if (s.authFailed) {
      throw unavailable('bacula director refused the console password (authorization problem)', {
        daemon: 'bacula-dir',
      });
    }
    if (!s.connected) {
      const why = (r.stderr.trim().split('\n').pop() ?? '') || `bconsole exit code ${r.code}`;
      throw unavailable(`bacula director did not answer: ${why}`, { daemon: 'bacula-dir' });
    }
    return splitCommands(s.body, [...commands, 'quit'])
      .slice(0, commands.length)
      .map((o) =>
        o
          .split('\n')
          .filter((l) => l !== '.')
          .join('\n')
          .trim(),
      );
  }

  /** One command; its output. `answers` answer the prompt it raises (then the usual "."). */
  async one(command: string, opts?: ExecOptions & { answers?: string[] }): Promise<string> {
    return (await this.exec([command], opts))[0] ?? '';
  }

  /** A read-only dot-command in `.api 2` mode (key=value output). */
  async api(command: string, opts?: ExecOptions): Promise<string> {
    return (await this.exec(['.api 2', command], opts))[1] ?? '';
  }
}

/** Map a parser outcome to the error catalogue. */
export function outcomeError(o: { reason: 'not_found' | 'conflict' | 'failed'; message: string }): RpcError {
  return new RpcError(o.reason, o.message);
}
