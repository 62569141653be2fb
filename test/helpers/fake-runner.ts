/**
 * The one fake Runner of the suite: it records every argv and answers from a function the test
 * gives (a string is stdout with exit 0; an object sets stdout, stderr and the exit code; a
 * throw is the command failing to start). Exit codes outside `okCodes` fail the way the real
 * runner does (`failed` with argv, exit code and stderr), so code under test sees the same
 * errors. Subsystem fakes (ZFS fixtures, smartctl, a tape library) are answer functions over it.
 */
import { PassThrough } from 'node:stream';
import type { Runner, RunOptions, RunResult } from '../../agent/runner.js';
import { RpcError } from '../../rpc/errors.js';

export type Reply = string | { stdout?: string; stderr?: string; code?: number } | undefined;

export interface FakeRunner extends Runner {
  /** every argv run or spawned, in order */
  calls: string[][];
  clear(): void;
}

export interface FakeRunnerOptions {
  /** which tools exist (default: every one, under /usr/sbin) */
  which?: (name: string) => string | undefined;
  /** stdout of spawned processes (default: empty) */
  spawnOutput?: (argv: readonly string[]) => string;
}

export function fakeRunner(
  answer: (argv: readonly string[], opts: RunOptions) => Reply | Promise<Reply> = () => '',
  o: FakeRunnerOptions = {},
): FakeRunner {
  const calls: string[][] = [];
  const result = (argv: readonly string[], code: number, stdout: string, stderr: string): RunResult => ({
    argv: [...argv],
    code,
    stdout,
    stderr,
    durationMs: 0,
    truncated: false,
  });
  return {
    calls,
    clear: () => {
      calls.length = 0;
    },
    which: o.which ?? ((n) => `/usr/sbin/${n}`),
    async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
      calls.push([...argv]);
      const r = await answer(argv, opts);
      const {
        stdout = '',
        stderr = '',
        code = 0,
      } = typeof r === 'string' || r === undefined ? { stdout: r } : r;
      if (!(opts.okCodes ?? [0]).includes(code))
        throw new RpcError('failed', `${argv[0]}: ${stderr.trim() || `exit ${code}`}`, {
          argv: [...argv],
          exitCode: code,
          stderr,
        });
      return result(argv, code, stdout, stderr);
    },
    spawn(argv: readonly string[]) {
      calls.push([...argv]);
      const stdout = new PassThrough();
      const stdin = new PassThrough();
      const text = o.spawnOutput?.(argv) ?? '';
      stdout.end(text);
      stdin.resume();
      const child = { stdout, stdin, stderr: new PassThrough() } as unknown as ReturnType<
        Runner['spawn']
      >['child'];
      return { child, done: Promise.resolve(result(argv, 0, text, '')) };
    },
  };
}

/** The real runner (or any), recording every argv it is given. */
export function recording(inner: Runner): FakeRunner {
  const calls: string[][] = [];
  return {
    calls,
    clear: () => {
      calls.length = 0;
    },
    which: (n) => inner.which(n),
    run: (argv, opts) => {
      calls.push([...argv]);
      return inner.run(argv, opts);
    },
    spawn: (argv, opts) => {
      calls.push([...argv]);
      return inner.spawn(argv, opts);
    },
  };
}
