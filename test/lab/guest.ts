/**
 * The kernel lab from a test: boot Debian's kernel under QEMU (scripts/lab/run.sh) with the host's root and this
 * checkout at the same path, run a command there as root, and get its exit status and output back. A missing
 * QEMU or busybox-static fails the test with the package to install (run.sh says which), never a silent skip.
 * The lab is built on first use and cached outside the checkout (see docs/lab.md); .ci/run warms it first.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fromSources, repoRoot } from '../helpers/paths.js';

export interface GuestResult {
  /** the guest command's exit status; 124 timed out, 125 the guest never reported one */
  rc: number;
  /** the command's stdout and stderr, interleaved */
  out: string;
  /** run.sh's own messages: build progress, timings, the guest console when it went wrong */
  log: string;
  ms: number;
}

export interface GuestOptions {
  /** seconds before the guest is killed (rc 124); default 300 */
  timeoutS?: number;
  /** guest memory in MiB; default 2048 */
  memMiB?: number;
  env?: Record<string, string>;
}

/** Boot the lab guest and run `cmd` (a shell command line) in this checkout's root. */
export function runInGuest(cmd: string, opts: GuestOptions = {}): Promise<GuestResult> {
  const t0 = Date.now();
  const timeoutS = opts.timeoutS ?? 300;
  const args = ['-t', String(timeoutS)];
  if (opts.memMiB) args.push('-m', String(opts.memMiB));
  for (const [k, v] of Object.entries(opts.env ?? {})) args.push('-e', `${k}=${v}`);
  args.push('--', cmd);
  return new Promise((resolve, reject) => {
    // run.sh is executable (its own #!/bin/bash); `cmd` is the guest's command line, run there as root
    const child = spawn(path.join(repoRoot(), 'scripts/lab/run.sh'), args, {
      cwd: repoRoot(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let log = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      log += d;
    });
    // run.sh kills QEMU at the timeout; this is the backstop should run.sh itself hang (a build waits longer)
    const guard = setTimeout(() => child.kill('SIGKILL'), (timeoutS + 1800) * 1000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ rc: code ?? (signal ? 128 : 1), out, log, ms: Date.now() - t0 });
    });
  });
}

/** A readable account of a guest run for an assertion message. */
export function describeRun(r: GuestResult): string {
  return `guest exit ${r.rc} after ${(r.ms / 1000).toFixed(1)} s\n--- output ---\n${r.out}\n--- lab ---\n${r.log}`;
}

/**
 * Run node:test files of this checkout in one guest boot (`rels` without extension, e.g.
 * `test/lab/guest/openzfs`): the compiled ones from dist/ (or the .ts through tsx when the host runs from sources).
 */
export function runGuestTests(rels: string[], opts: GuestOptions = {}): Promise<GuestResult> {
  const root = repoRoot();
  const files = rels.map((rel) =>
    fromSources ? path.join(root, `${rel}.ts`) : path.join(root, 'dist', `${rel}.js`),
  );
  const loader = fromSources ? ['--import', 'tsx'] : [];
  const argv = [
    process.execPath,
    ...loader,
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    ...files,
  ];
  return runInGuest(argv.map(shellQuote).join(' '), opts);
}

export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}
