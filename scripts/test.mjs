#!/usr/bin/env node
// npm test: everything CI checks, in order. Works on a fresh clone: installs npm dependencies
// when node_modules is missing and, as root, the Debian packages the real-component tests drive.
// Extra arguments select test files by substring: `npm test -- zfs roles`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { whyFailed } from './tap-why.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const filters = process.argv.slice(2);
/** The line by which a test file asks to run with nothing beside it (see runTests). */
const ALONE = /^\/\/ test-runner: alone\b/m;

/**
 * Whether a compiled test file uses the host's one zfs-fuse daemon: it imports, directly or
 * through other test modules, test/zfs/helpers.js (useZfsFuse and the pool helpers). Two such
 * files at once make each other's destroys "dataset is busy" (zfs-fuse's pool-wide reads), so
 * the lanes never run two of them together.
 */
const ZFS_HELPERS = path.join(root, 'dist', 'test', 'zfs', 'helpers.js');
const importsOf = new Map();
function usesZfsFuse(file, seen = new Set()) {
  if (file === ZFS_HELPERS) return true;
  if (seen.has(file) || !file.startsWith(path.join(root, 'dist', 'test'))) return false;
  seen.add(file);
  let deps = importsOf.get(file);
  if (!deps) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {}
    deps = [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+\.js)['"]/g)].map((m) =>
      path.resolve(path.dirname(file), m[1]),
    );
    importsOf.set(file, deps);
  }
  return deps.some((d) => usesZfsFuse(d, seen));
}

/**
 * The files being run (their process groups' killers). Ctrl-C or a SIGTERM to the runner ends
 * every one of them with it (each has its own group), then the runner.
 */
const running = new Set();
for (const sig of ['SIGINT', 'SIGTERM'])
  process.once(sig, () => {
    for (const kill of running) kill(sig);
    process.exit(130);
  });

function step(name, cmd, args, opts = {}) {
  const t0 = Date.now();
  process.stdout.write(`\n== ${name}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    process.stdout.write(`== ${name} FAILED (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status || 1);
  }
  process.stdout.write(`== ${name}: ok (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
}

if (process.getuid?.() === 0 && !process.env.CALYPSO_SKIP_APT) {
  step('debian packages', 'bash', [path.join(root, 'scripts/install-test-deps.sh')]);
}
if (!existsSync(path.join(root, 'node_modules/.package-lock.json'))) step('npm ci', 'npm', ['ci']);
if (
  !existsSync(path.join(root, 'rpc/peercred/build/Release/peercred.node')) ||
  !existsSync(path.join(root, 'probes/native/build/Release/sysread.node'))
) {
  step('native addon', 'npm', ['run', 'install']);
}
step('type check + build (tsc, agent bundle)', 'node', ['scripts/build.mjs']);
step('lint + format (biome)', 'npx', ['biome', 'check', '.']);
if (existsSync(path.join(root, 'cockpit/build.mjs')))
  step('cockpit plugin build', 'node', ['cockpit/build.mjs']);

function find(dir) {
  const out = [];
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (e.endsWith('.test.js')) out.push(p);
  }
  return out;
}
let files = find(path.join(root, 'dist/test')).sort();
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
await runTests(files);

/**
 * Each file in its own `node --test` run (aa-baseline first, zz-leftovers last, the others in
 * lanes: see below and docs/testing.md), with a time limit: CALYPSO_TEST_FILE_TIMEOUT seconds (default 600). node's --test-timeout
 * applies to the file as a whole (node 20 runs each file as one subtest): when it expires node
 * fails the file by name ("test timed out"), and ends its process — a file whose `before` failed
 * and whose event loop something keeps alive no longer hangs the run. A watchdog kills the run's
 * process group a minute later should node itself not end (its own process group: daemons a test
 * left in it go too). Files that failed or timed out are listed again at the end.
 *
 * For the whole run this process holds 127.0.0.1:8787 (the agent's default WebSocket port) when
 * it is free: no test may depend on it, as on a machine where a demo or an agent runs.
 * CALYPSO_SUITE_RUN tags the run: test/leftovers.ts counts the processes that carry it (the
 * runner and the test helpers pass it on) as the suite's, and nothing else that started meanwhile.
 */
async function runTests(list) {
  const fileTimeoutS = Number(process.env.CALYPSO_TEST_FILE_TIMEOUT ?? 600);
  // the kernel lab's files boot QEMU guests under TCG: minutes, not seconds (docs/lab.md)
  // (a lab file runs several in-guest files in one boot: test/lab/guest.ts guestFileTests)
  const labTimeoutS = Number(process.env.CALYPSO_LAB_FILE_TIMEOUT ?? 3000);
  const isLab = (rel) => /(^|\/)test\/lab\//.test(rel);
  const totals = { pass: 0, fail: 0 };
  const hold = await holdPort(8787);
  const run = `${process.pid}-${Date.now().toString(36)}`;
  const env = { ...process.env, CALYPSO_CHECK_RESULTS: '1', CALYPSO_SUITE_RUN: run };
  const t0 = Date.now();
  process.stdout.write(
    `\n== tests (${list.length} files, each within ${fileTimeoutS} s; ` +
      `port 8787 ${hold ? 'held by the runner' : 'already in use by another process'})\n`,
  );
  const failed = [];
  const hung = [];
  /** [file, its `not ok` blocks] of each file that failed */
  const whys = [];
  // Host lanes beside the lab's lane: two by default. Host files share one zfs-fuse daemon, and
  // another file's pool-wide reads (zpool list/iostat) make a destroy answer "pool is busy"
  // (seen in CI runs with two lanes), so files that use it (usesZfsFuse) never run together.
  // 0: every file one at a time, the lab's included.
  const lanes = Math.max(0, Number(process.env.CALYPSO_TEST_LANES ?? 2));
  const parallel = lanes > 0;
  let done = 0;
  /** per file: its lane and its start and end (ms since t0), for the timeline at the end */
  const timeline = [];
  const runOne = async (file, lane = 'main') => {
    const rel = path.relative(path.join(root, 'dist'), file);
    const started = Date.now();
    const entry = { rel, lane, start: started - t0, end: 0 };
    timeline.push(entry);
    const limit = isLab(rel) ? labTimeoutS : fileTimeoutS;
    const r = await runFile(file, env, limit, parallel);
    if (r.why) whys.push([rel, r.why]);
    totals.pass += r.pass;
    totals.fail += r.fail;
    let verdict = 'ok';
    if (r.hung || (r.code !== 0 && Date.now() - started >= limit * 1000)) {
      hung.push(rel);
      verdict = 'TIMED OUT';
      if (r.fail === 0) totals.fail++;
      process.stdout.write(
        `\n== TIMED OUT: ${rel} did not finish within ${limit} s (a hung test, or a handle that kept it alive); ended\n`,
      );
    } else if (r.code !== 0) {
      failed.push(rel);
      verdict = 'FAILED';
      if (r.fail === 0) totals.fail++; // a file that failed outside any test (an import, a before hook)
    }
    done++;
    entry.end = Date.now() - t0;
    if (parallel)
      process.stdout.write(
        `== [${done}/${list.length}] ${rel}: ${verdict} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
      );
  };
  // aa-* first and zz-* last, alone (the leftovers baseline and check); between them the kernel
  // lab's files one after the other in their own lane (each boots a QEMU guest: one at a time),
  // beside `lanes` lanes taking the other files in order. Every file is its own process under
  // its own temporary prefix, on free ports; zfs-fuse is shared and counted (test/zfs/helpers.ts).
  const base = (f) => path.basename(f);
  const first = list.filter((f) => base(f).startsWith('aa-'));
  const last = list.filter((f) => base(f).startsWith('zz-'));
  // A file whose assertions are about time under its own load (idle limits, a browser rendering
  // 1,024 rows) says so with a line `// test-runner: alone (why)`: with lanes it runs after the
  // other lanes, with no other host test beside it (the lab's guest may still run).
  const alone = parallel ? list.filter((f) => ALONE.test(readFileSync(f, 'utf8'))) : [];
  const middle = list.filter((f) => !first.includes(f) && !last.includes(f) && !alone.includes(f));
  for (const f of first) await runOne(f);
  if (!parallel) {
    for (const f of middle) await runOne(f);
  } else {
    // longest first (the figures of a CI run, scripts/test-durations.json): no lane is left with a long file
    // when the others have ended
    const labFiles = byDuration(middle.filter((f) => isLab(path.relative(path.join(root, 'dist'), f))));
    const queue = byDuration(middle.filter((f) => !labFiles.includes(f)));
    const zfsFiles = new Set(queue.filter((f) => usesZfsFuse(f)));
    let zfsBusy = false;
    const wake = [];
    // the next file this lane may start: in order, skipping zfs-fuse files while another lane runs one
    const take = () => {
      const i = queue.findIndex((f) => !zfsBusy || !zfsFiles.has(f));
      return i < 0 ? undefined : queue.splice(i, 1)[0];
    };
    const lane = async (_, n) => {
      while (queue.length) {
        const f = take();
        if (!f) {
          await new Promise((r) => wake.push(r)); // only zfs-fuse files left, and one is running
          continue;
        }
        const zfs = zfsFiles.has(f);
        if (zfs) zfsBusy = true;
        try {
          await runOne(f, `host${n + 1}`);
        } finally {
          if (zfs) zfsBusy = false;
          for (const r of wake.splice(0)) r();
        }
      }
    };
    // CALYPSO_LAB_LANES (default 1): guests booted at once, each lane taking the next lab file (longest first)
    const labLanes = Math.max(1, Number(process.env.CALYPSO_LAB_LANES ?? 1));
    const labLane = async () => {
      await Promise.all(
        Array.from({ length: labLanes }, async (_, n) => {
          for (let f = labFiles.shift(); f; f = labFiles.shift())
            await runOne(f, labLanes > 1 ? `lab${n + 1}` : 'lab');
        }),
      );
    };
    // the files that run alone follow once every other lane has emptied its queue: only the lab's
    // guest may still be running then, in a VM of its own
    const others = Promise.all(Array.from({ length: lanes }, lane)).then(async () => {
      for (const f of alone) await runOne(f, 'alone');
    });
    await Promise.all([labLane(), others]);
  }
  for (const f of last) await runOne(f);
  if (parallel) reportTimeline(timeline);
  // one closing line for the whole run, over every file's own summary
  const closing = `tests: ${totals.pass} passed, ${totals.fail} failed`;
  if (hold) await new Promise((r) => hold.close(r));
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (!failed.length && !hung.length) {
    process.stdout.write(`== tests (${list.length} files): ok (${secs} s)\n${closing}\n`);
    return;
  }
  process.stdout.write(`\n== tests FAILED (${secs} s)\n`);
  for (const f of hung) process.stdout.write(`   timed out: ${f}\n`);
  for (const f of failed) process.stdout.write(`   failed: ${f}\n`);
  // the failures' own words once more, here at the end: a CI log is often read from its tail
  for (const [f, why] of whys) if (why) process.stdout.write(`\n== why ${f} failed\n${why}\n`);
  process.stdout.write(`${closing}\n`);
  process.exit(1);
}

/**
 * `files` ordered by their duration in scripts/test-durations.json, longest first (a file not listed there counts
 * 30 s; equal ones keep their sorted order). CALYPSO_TEST_DURATIONS_OUT=FILE writes this run's figures in that form.
 */
function byDuration(files) {
  let known = {};
  try {
    known = JSON.parse(readFileSync(path.join(root, 'scripts/test-durations.json'), 'utf8'));
  } catch {}
  const s = (f) => known[path.relative(path.join(root, 'dist'), f)] ?? 30;
  return files
    .map((f, i) => ({ f, i }))
    .sort((a, b) => s(b.f) - s(a.f) || a.i - b.i)
    .map((x) => x.f);
}

/**
 * The run's timeline: per lane its files' summed time and its first start and last end, then every file of
 * 20 s or more with its lane, start and end (seconds since the tests began).
 */
function reportTimeline(timeline) {
  const s = (ms) => (ms / 1000).toFixed(0);
  const lanes = [...new Set(timeline.map((e) => e.lane))];
  process.stdout.write('\n== timeline (s since the tests began)\n');
  for (const lane of lanes) {
    const es = timeline.filter((e) => e.lane === lane);
    const sum = es.reduce((a, e) => a + e.end - e.start, 0);
    const first = Math.min(...es.map((e) => e.start));
    const last = Math.max(...es.map((e) => e.end));
    process.stdout.write(
      `   lane ${lane}: ${es.length} files, sum ${s(sum)} s, from ${s(first)} to ${s(last)}\n`,
    );
  }
  for (const e of timeline.filter((x) => x.end - x.start >= 20_000))
    process.stdout.write(
      `   ${lane6(e.lane)} ${s(e.start).padStart(5)} → ${s(e.end).padStart(5)} (${s(e.end - e.start).padStart(4)} s) ${e.rel}\n`,
    );
  const out = process.env.CALYPSO_TEST_DURATIONS_OUT;
  if (out) {
    const d = Object.fromEntries(
      timeline
        .map((e) => [e.rel, Math.round((e.end - e.start) / 1000)])
        .sort((a, b) => a[0].localeCompare(b[0])),
    );
    writeFileSync(out, `${JSON.stringify(d, null, 1)}\n`);
  }
}
function lane6(l) {
  return l.padEnd(6);
}

/**
 * One test file; resolves with its exit code, its counts of passed and failed tests (from the
 * reporter's closing `# pass N` / `# fail N`, its output passed through as it comes), and `hung`
 * when the watchdog had to kill it.
 */
function runFile(file, env, timeoutS, buffered) {
  return new Promise((resolve) => {
    // TAP on every Node: its closing `# pass N` / `# fail N` lines are what is counted below
    // (Node 24's default reporter off a terminal is no longer TAP)
    const child = spawn(
      process.execPath,
      ['--test', '--test-reporter=tap', '--test-concurrency=1', `--test-timeout=${timeoutS * 1000}`, file],
      { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'], detached: true },
    );
    const counts = { pass: 0, fail: 0 };
    let tail = '';
    const held = [];
    // every chunk, also when not buffered: a failed file's `not ok` blocks are said again at the end
    const all = [];
    child.stdout.on('data', (b) => {
      all.push(b);
      if (buffered) held.push(b);
      else process.stdout.write(b);
      const text = tail + b.toString('utf8');
      const lines = text.split('\n');
      tail = lines.pop() ?? '';
      for (const l of lines) {
        const m = /^# (pass|fail) (\d+)$/.exec(l);
        if (m) counts[m[1]] = Number(m[2]);
      }
    });
    let hung = false;
    const killGroup = (sig) => {
      try {
        process.kill(-child.pid, sig);
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(
      () => {
        hung = true;
        killGroup('SIGTERM');
        setTimeout(() => killGroup('SIGKILL'), 5000).unref();
      },
      (timeoutS + 60) * 1000,
    );
    running.add(killGroup);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      running.delete(killGroup);
      const m = /^# (pass|fail) (\d+)$/.exec(tail);
      if (m) counts[m[1]] = Number(m[2]);
      if (held.length) process.stdout.write(Buffer.concat(held));
      const failed = code !== 0 || signal !== null;
      resolve({
        code: code ?? (signal ? 1 : 0),
        hung,
        ...counts,
        why: failed ? whyFailed(Buffer.concat(all).toString('utf8')) : '',
      });
    });
  });
}

/** Listen on 127.0.0.1:`port` for the run; undefined when something else already does. */
function holdPort(port) {
  return new Promise((resolve) => {
    const s = net.createServer((c) => c.destroy());
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}
