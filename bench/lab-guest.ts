/**
 * The kernel lab's in-guest benchmark (bench/lab.ts boots the guest and runs this as root): single OpenZFS and LIO
 * operations through the agent against the same tools run directly (bench/lab-ops.ts); on OpenZFS, a
 * snapshot.list of 10,000 snapshots (a pool built once on the host, scripts/lab/snapshot-pool.sh, imported read-only
 * from CALYPSO_LAB_BENCH_POOL) through the agent against `zfs list -Hp -t snapshot` run directly (goal ≤ 1.05×);
 * on tgt's library through the kernel initiator, changer.status through the agent against `mtx status` (≤ 1.1×,
 * CALYPSO_LAB_BENCH_ROUNDS interleaved rounds, default 31, the median of the per-round ratios).
 * CALYPSO_LAB_BENCH_PHASES picks phases (comma-separated, default all): ops, lio, snapshots, changer.
 * Prints one JSON line.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createRunner, type Runner } from '../agent/runner.js';
import { mtxStatus } from '../agent/tape/commands.js';
import { parseMtxStatus } from '../agent/tape/parse-mtx-status.js';
import { tapeSubsystem } from '../agent/tape/service.js';
import { statusView } from '../agent/tape/view.js';
import { zfsListSnapshots } from '../agent/zfs/commands.js';
import { OPENZFS } from '../agent/zfs/dialect.js';
import { parseSnapshotList } from '../agent/zfs/parse-zfs-list.js';
import { createZfsService } from '../agent/zfs/service.js';
import { sortRows } from '../agent/zfs/snapshot-cache.js';
import { startTapeLab } from '../sandbox/tape.js';
import { startTestAgent } from '../test/helpers/agent.js';
import { waitLuns } from '../test/lab/guest/scsi-sysfs.js';
import { labLib } from '../test/lab/guest/sh.js';
import { benchLioLun, benchZfsOps } from './lab-ops.js';

const exec = promisify(execFile);
const run = (argv: string[]) =>
  execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 256 << 20 });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function time(n: number, fn: () => unknown): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/**
 * The agent's own runner, which also notes how long each command it ran took (its `durationMs`: spawn to exit):
 * a call through the agent is then compared with the tool's run inside that same call (paired), so the tool's own
 * spread between runs (13.6 % between two 10,000-snapshot listings, ±30 % for one `mtx` start under TCG) cancels
 */
function timedRunner(): { runner: Runner; took: (argv0: string) => number[] } {
  const real = createRunner();
  const runs: { argv0: string; ms: number }[] = [];
  const runner: Runner = {
    run: async (argv, opts) => {
      const r = await real.run(argv, opts);
      runs.push({ argv0: argv[0]!, ms: r.durationMs });
      return r;
    },
    spawn: (argv, opts) => real.spawn(argv, opts),
    which: (name) => real.which(name),
  };
  /** the durations of the runs of argv0 since the last call, and forgets them all */
  const took = (argv0: string) =>
    runs
      .splice(0)
      .filter((r) => r.argv0 === argv0)
      .map((r) => r.ms);
  return { runner, took };
}

const res: Record<string, unknown> = {};
const T0 = performance.now();
const PHASES = (process.env.CALYPSO_LAB_BENCH_PHASES ?? 'ops,lio,snapshots,changer').split(',');
/** progress on stdout as it goes: a guest killed at its timeout still shows how far it got (bench/lab.ts prints it) */
const phase = (name: string) =>
  process.stdout.write(
    `LAB-PHASE ${name} ${((performance.now() - T0) / 1000).toFixed(1)} s ${JSON.stringify(res)}\n`,
  );
const ROUNDS = Number(process.env.CALYPSO_LAB_BENCH_ROUNDS ?? 31);
const BATCH = 3;
/**
 * n interleaved rounds of fns[0] (the baseline) and the others, after one call of the last on its own (its first:
 * reported apart): the medians of each, and the median of each one's per-round ratio to the baseline
 */
async function rounds(n: number, ...fns: (() => unknown)[]) {
  const first = (await time(1, fns[fns.length - 1]!))[0]!;
  const ms: number[][] = fns.map(() => []);
  // the order turns each round (a, b, c; b, c, a; ...): no one of them always follows the same one; each takes
  // BATCH calls in a row per round and their sum is its time (a single process start under TCG on a loaded host
  // varies by ±30 %: per-round ratios of single calls had quartiles 0.78-1.38, too wide for a 10 % goal)
  for (let i = 0; i < n; i++)
    for (let j = 0; j < fns.length; j++) {
      const k = (i + j) % fns.length;
      ms[k]!.push((await time(BATCH, fns[k]!)).reduce((a, b) => a + b, 0) / BATCH);
    }
  const per = ms.map((xs) => xs.map((x, i) => x / ms[0]![i]!));
  const q = (xs: number[], f: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * f)]!;
  const last = per[per.length - 1]!;
  return {
    first,
    medians: ms.map(median),
    ratios: per.map(median),
    spread: `${q(last, 0.25).toFixed(2)}-${q(last, 0.75).toFixed(2)} (quartiles)`,
  };
}

// --- single operations ---
if (PHASES.includes('ops')) {
  await benchZfsOps(res);
  phase('zfs operations measured');
}
if (PHASES.includes('lio')) {
  await benchLioLun(res);
  phase('LIO LUN create measured');
}
// --- snapshots: the pool scripts/lab/snapshot-pool.sh built once on the host (CALYPSO_LAB_BENCH_POOL: its directory),
// imported read-only: making 10,000 snapshots here costs an hour under TCG (each `zfs snapshot -r` waits for a txg)
if (PHASES.includes('snapshots')) {
  const dir = process.env.CALYPSO_LAB_BENCH_POOL;
  if (!dir)
    throw new Error('phase snapshots: CALYPSO_LAB_BENCH_POOL (scripts/lab/snapshot-pool.sh) is not set');
  run(['modprobe', 'zfs']);
  const t0 = performance.now();
  run(['zpool', 'import', '-d', dir, '-o', 'readonly=on', '-N', 'benchsnap']);
  res.poolImportS = ((performance.now() - t0) / 1000).toFixed(1);
  phase('pool imported');
  // the baseline is the agent's own argv (same columns, no sort), run directly: `zfs list -H -p -t snapshot -o
  // name,used,referenced,creation,userrefs`; the agent's first call lists, parses, sorts and caches the same rows
  const argv = zfsListSnapshots(OPENZFS);
  res.zfsListArgv = argv.join(' ');
  let out = '';
  const raw = async () => {
    out = (await exec(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 256 << 20 })).stdout;
  };
  // the first listing after the import reads the pool's metadata from the file (cold): reported, not compared
  const cold = await time(1, raw);
  res.zfsListColdMs = cold[0]!.toFixed(0);
  phase('cold listing done');
  // what the agent adds in its own process: parsing the tool's output and sorting it by name (the cache's first
  // page), measured on the same output apart from the tool (median of 5)
  const work = await time(5, () => sortRows(parseSnapshotList(out), 'name', 'asc'));
  res.agentParseSortMs = median(work).toFixed(1);
  // the tool's deadline in the agent is for real hardware (120 s); the emulated kernel lists 10,000 in ~5 min
  const timed = timedRunner();
  const z = await startTestAgent({
    services: [createZfsService({ healthIntervalMs: 0, schedulerTickMs: 0, commandTimeoutMs: 3_600_000 })],
    checkResults: false,
    runner: timed.runner,
  });
  await z.deps.capabilities.all(); // the agent settled: its start-up probes done
  const list = (refresh = false) =>
    z.call('snapshot.list', {
      dataset: 'benchsnap',
      recursive: true,
      limit: 100,
      ...(refresh ? { refresh } : {}),
    });
  let total = 0;
  // raw, first agent call, raw: the agent's first listing between the tool's two (the mean of those is the baseline)
  const r0 = await time(1, raw);
  const rows = out.split('\n').length - 1;
  timed.took('zfs');
  const first = await time(1, async () => {
    total = ((await list()) as { total: number }).total;
  });
  // paired: the agent's call / the one `zfs list` it ran inside that call (the same argv, the same moment)
  const inFirst = timed.took('zfs');
  const r1 = await time(1, raw);
  const viaAgent = await time(5, list);
  // more paired uncached calls (`refresh: true` lists again): CALYPSO_LAB_BENCH_SNAPSHOT_REFRESHES, default 1
  const paired = [first[0]! / inFirst.reduce((a, b) => a + b, 0)];
  const pairedRuns = [`${first[0]!.toFixed(0)}/${inFirst.join('+')}`];
  for (let i = 0; i < Number(process.env.CALYPSO_LAB_BENCH_SNAPSHOT_REFRESHES ?? 1); i++) {
    timed.took('zfs');
    const [ms] = await time(1, () => list(true));
    const inCall = timed.took('zfs');
    paired.push(ms! / inCall.reduce((a, b) => a + b, 0));
    pairedRuns.push(`${ms!.toFixed(0)}/${inCall.join('+')}`);
  }
  res.snapshotListPairedRuns = `${pairedRuns.join(', ')} ms (the call / its zfs run${inFirst.length === 1 ? '' : 's'})`;
  res.snapshotListRatioPaired = Math.max(...paired).toFixed(4);
  await z.stop();
  run(['zpool', 'export', 'benchsnap']);
  const rawMs = (r0[0]! + r1[0]!) / 2;
  res.snapshots = rows;
  res.snapshotListTotal = total;
  res.zfsListMs = rawMs.toFixed(1);
  res.zfsListRuns = [...r0, ...r1].map((x) => x.toFixed(0)).join(' ');
  res.snapshotListFirstMs = first[0]!.toFixed(1);
  res.snapshotListMs = median(viaAgent).toFixed(1);
  res.snapshotListRatioFirst = (first[0]! / rawMs).toFixed(3);
  res.snapshotListRatio = (median(viaAgent) / rawMs).toFixed(3);
  phase('snapshot.list measured');
}
// --- changer ---
if (PHASES.includes('changer')) {
  const lab = await startTapeLab({ slots: 40, mailslots: 2, tapes: 20, preload: false });
  try {
    await labLib('lab_iscsid');
    for (const m of ['st', 'sg', 'ch']) run(['modprobe', m]);
    run(['iscsiadm', '-m', 'discovery', '-t', 'st', '-p', lab.portal]);
    run(['iscsiadm', '-m', 'node', '-T', lab.iqn, '-p', lab.portal, '--login']);
    const luns = await waitLuns(lab.iqn, (l) => l.some((x) => x.type === 8 && x.sg));
    const sg = luns.find((l) => l.type === 8)!.sg!;
    // the tape subsystem alone (as the snapshot phase runs the zfs one), once its version probes are done, and mtx
    // run asynchronously: a synchronous mtx froze the agent's event loop, so its timers' work (and, with every
    // subsystem loaded, ~17 start-up version probes at 0.5-1 s each under TCG) landed in the agent's calls: 2.96x
    const timed = timedRunner();
    const t = await startTestAgent({
      config: { tape: { changers: [{ id: 'b', device: sg, drives: [] }] } },
      services: [tapeSubsystem],
      checkResults: false,
      runner: timed.runner,
    });
    await t.deps.capabilities.all();
    const argv = mtxStatus(sg);
    // ROUNDS interleaved rounds of three: mtx run directly, the same argv through the agent's runner (its spawn:
    // own process group, fixed PATH and environment, deadline), changer.status through the RPC; the verdict is the
    // median of the per-round ratios (one process start under TCG varies by more than the goal's 10 %)
    // paired, per changer.status call: the call's time / the `mtx` run inside it (the verdict: their median)
    const pairedChanger: number[] = [];
    let unpaired = 0;
    const m = await rounds(
      ROUNDS,
      () => exec(argv[0]!, argv.slice(1)),
      () => t.deps.runner.run(argv),
      async () => {
        timed.took('mtx');
        const t0 = performance.now();
        await t.call('changer.status', { changer: 'b' });
        const ms = performance.now() - t0;
        const inCall = timed.took('mtx');
        // a background mtx of the agent's own (none is scheduled here) would make the pair ambiguous: not paired
        if (inCall.length === 1) pairedChanger.push(ms / inCall[0]!);
        else unpaired++;
      },
    );
    // what the agent does in its own process besides running mtx: parse its output and build the answer (the RPC
    // core's dispatch around it: ~0.3 ms a call natively), on one real output, median of ROUNDS
    const text = (await t.deps.runner.run(argv)).stdout;
    const own = await time(ROUNDS, () => statusView('b', parseMtxStatus(text), new Date().toISOString()));
    res.changerParseViewMs = median(own).toFixed(2);
    await t.stop();
    run(['iscsiadm', '-m', 'node', '-T', lab.iqn, '-p', lab.portal, '--logout']);
    res.changerRounds = `${ROUNDS} × ${BATCH} calls each`;
    res.mtxStatusMs = m.medians[0]!.toFixed(1);
    res.mtxViaRunnerMs = m.medians[1]!.toFixed(1);
    res.changerStatusMs = m.medians[2]!.toFixed(1);
    res.changerStatusFirstMs = m.first.toFixed(1);
    res.runnerRatio = m.ratios[1]!.toFixed(3);
    res.changerStatusRatioOfMedians = (m.medians[2]! / m.medians[0]!).toFixed(3);
    res.changerStatusRatio = m.ratios[2]!.toFixed(3);
    res.changerStatusRatioSpread = m.spread;
    const q = (f: number) =>
      [...pairedChanger].sort((a, b) => a - b)[Math.floor((pairedChanger.length - 1) * f)]!;
    res.changerStatusRatioPaired = median(pairedChanger).toFixed(4);
    res.changerStatusRatioPairedSpread = `${q(0.25).toFixed(3)}-${q(0.75).toFixed(3)} (quartiles of ${pairedChanger.length} calls; ${unpaired} not paired)`;
  } finally {
    await lab.stop();
  }
  phase('changer measured');
}
process.stdout.write(`LAB-BENCH ${JSON.stringify(res)}\n`);
