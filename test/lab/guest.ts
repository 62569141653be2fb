/**
 * The kernel lab from a test: boot Debian's kernel under QEMU (scripts/lab/run.sh) with the host's root and this
 * checkout at the same path, run a command there as root, and get its exit status and output back. A missing
 * QEMU or busybox-static fails the test with the package to install (run.sh says which), never a silent skip.
 * The lab is built on first use and cached outside the checkout (see docs/lab.md); .ci/run warms it first.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { it, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
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

/**
 * Boot the lab guest and run `cmd` (a shell command line) in this checkout's root. When the guest's kernel crashed
 * (run.sh says "the guest kernel crashed": an oops in Debian's kernel, not in what the command tests — CI run 20 met
 * one in iscsi_tcp after a refused CHAP login), the guest is booted once more and the first boot's crash is kept at
 * the head of the log; a second crash is the answer.
 */
export async function runInGuest(cmd: string, opts: GuestOptions = {}): Promise<GuestResult> {
  const first = await bootOnce(cmd, opts);
  const crash = /calypso-lab: the guest kernel crashed: .*/.exec(first.log)?.[0];
  if (first.rc !== 125 || !crash) return first;
  process.stderr.write(`# ${crash}; booting the guest again\n`);
  const again = await bootOnce(cmd, opts);
  return {
    ...again,
    log: `the first boot ended when the guest kernel crashed (booted again):\n${first.log}\n--- the second boot ---\n${again.log}`,
    ms: first.ms + again.ms,
  };
}

function bootOnce(cmd: string, opts: GuestOptions): Promise<GuestResult> {
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
export async function runGuestTests(rels: string[], opts: GuestOptions = {}): Promise<GuestResult> {
  const { files, done } = await guestEntryFiles(rels);
  const loader = fromSources ? ['--import', 'tsx'] : [];
  const argv = [
    process.execPath,
    ...loader,
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    ...rels.map((rel) => files.get(rel)!),
  ];
  try {
    return await runInGuest(`${COMPILE_CACHE}; ${argv.map(shellQuote).join(' ')}`, opts);
  } finally {
    done();
  }
}

/**
 * Node's compile cache for every `node` of one boot, on the guest's tmpfs: the bundles' shared chunks and the agent's
 * bundle are compiled once per boot, not once per process (Node 22.1 and later; older ones ignore the variable).
 */
const COMPILE_CACHE = 'export NODE_COMPILE_CACHE=/tmp/calypso-node-compile-cache';

/**
 * What the guest runs for each in-guest file: from dist/, one bundle per file with shared chunks (scripts/bundle.mjs
 * `bundleGuestFiles`: under TCG Node's loader spent 20-40 s per process on ~1,100 module files), in a directory of
 * the checkout that `done` removes; from sources, the .ts itself through tsx.
 */
export async function guestEntryFiles(
  rels: string[],
): Promise<{ files: Map<string, string>; done: () => void }> {
  const root = repoRoot();
  if (fromSources)
    return { files: new Map(rels.map((rel) => [rel, path.join(root, `${rel}.ts`)])), done: () => {} };
  const base = path.join(root, 'dist', 'lab-guest');
  mkdirSync(base, { recursive: true });
  const out = mkdtempSync(path.join(base, 'run-'));
  const names = new Map(rels.map((rel) => [rel, rel.replaceAll('/', '--')]));
  const bundler = (await import(pathToFileURL(path.join(root, 'scripts/bundle.mjs')).href)) as {
    bundleGuestFiles(entries: Record<string, string>, out: string): Promise<Record<string, string>>;
  };
  const built = await bundler.bundleGuestFiles(
    Object.fromEntries(rels.map((rel) => [names.get(rel)!, `${rel}.ts`])),
    out,
  );
  return {
    files: new Map(rels.map((rel) => [rel, built[names.get(rel)!]!])),
    done: () => rmSync(out, { recursive: true, force: true }),
  };
}

/** One in-guest test file's part of a shared boot: its `node --test` exit status (undefined: it never ended) and output. */
export interface GuestFile {
  rc: number | undefined;
  out: string;
}

const BEGIN = '@@calypso-lab-file ';
const END = '@@calypso-lab-file-end ';

/**
 * Run node:test files of this checkout in one guest boot, each in its own `node --test` (spec reporter), so that
 * every file keeps its own output and verdict: `files` maps each rel to its part. The boot's exit status is
 * non-zero when a file failed.
 */
export async function runGuestFiles(
  rels: string[],
  opts: GuestOptions & { plain?: string[] } = {},
): Promise<{ run: GuestResult; files: Map<string, GuestFile> }> {
  const { files: entry, done } = await guestEntryFiles(rels);
  const loader = fromSources ? ['--import', 'tsx'] : [];
  const lines = [COMPILE_CACHE, 'f=0'];
  for (const rel of rels) {
    const file = entry.get(rel)!;
    // a plain script (opts.plain: not node:test, it prints its own checks) runs as it is
    const test = opts.plain?.includes(rel) ? [] : ['--test', '--test-reporter=spec'];
    const argv = [process.execPath, ...loader, ...test, file];
    lines.push(
      `echo ${shellQuote(BEGIN + rel)}`,
      `${argv.map(shellQuote).join(' ')} 2>&1; r=$?`,
      `echo ${shellQuote(END + rel)} "$r"; [ "$r" = 0 ] || f=1`,
    );
  }
  lines.push('exit $f');
  const run = await runInGuest(lines.join('\n'), opts).finally(done);
  const files = new Map<string, GuestFile>();
  let cur: GuestFile | undefined;
  for (const line of run.out.split('\n')) {
    if (line.startsWith(BEGIN)) {
      cur = { rc: undefined, out: '' };
      files.set(line.slice(BEGIN.length), cur);
    } else if (line.startsWith(END) && cur) {
      cur.rc = Number(line.slice(line.lastIndexOf(' ') + 1));
      cur = undefined;
    } else if (cur) cur.out += `${line}\n`;
  }
  return { run, files };
}

/**
 * One in-guest file of a shared boot. `check` (for a plain script that is not node:test: it runs as `node FILE`)
 * asserts on its part instead of the node:test verdict.
 */
export interface GuestFileSpec {
  rel: string;
  name: string;
  check?: (part: GuestFile, t: TestContext, run: GuestResult) => Promise<void>;
}

/**
 * One `it` per in-guest file, all run in one boot (started by the first of them): each passes when its file
 * exited 0 with `ℹ fail 0`, its own output the assertion message, and its verdict lines (✔/✖/ℹ) as diagnostics.
 */
export function guestFileTests(
  files: GuestFileSpec[],
  opts: GuestOptions & { itTimeoutMs?: number } = {},
): void {
  let boot: ReturnType<typeof runGuestFiles> | undefined;
  for (const { rel, name, check } of files) {
    it(name, { timeout: opts.itTimeoutMs ?? 3_000_000 }, async (t) => {
      boot ??= runGuestFiles(
        files.map((f) => f.rel),
        { ...opts, plain: files.filter((f) => f.check).map((f) => f.rel) },
      );
      const { run, files: parts } = await boot;
      const part = parts.get(rel);
      const boots = run.log.split('\n').find((l) => /calypso-lab: wall /.test(l));
      const msg = () =>
        `${rel} in the guest: ${part ? (part.rc === undefined ? 'did not end' : `exit ${part.rc}`) : 'never started'}; ` +
        `guest exit ${run.rc} after ${(run.ms / 1000).toFixed(1)} s\n--- output of ${rel} ---\n${part?.out ?? ''}\n` +
        `--- lab ---\n${run.log}${part ? '' : `\n--- the boot's whole output ---\n${run.out}`}`;
      for (const l of (part?.out ?? '')
        .split('\n')
        .filter((x) => /^\s*(✔|✖|ℹ (pass|fail|duration_ms))/.test(x)))
        t.diagnostic(l.trim());
      if (boots) t.diagnostic(boots.trim());
      assert.ok(part, msg());
      if (check) return check(part, t, run);
      assert.equal(part.rc, 0, msg());
      assert.match(part.out, /ℹ fail 0/, msg());
    });
  }
}

export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}
