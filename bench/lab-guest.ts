/**
 * The kernel lab's in-guest benchmark (bench/lab.ts boots the guest and runs this as root): single OpenZFS and LIO
 * operations through the agent against the same tools run directly (bench/lab-ops.ts); on OpenZFS, a
 * snapshot.list of ~10,000 snapshots through the agent against `zfs list -Hp -t snapshot` run directly (goal ≤ 1.05×);
 * on tgt's library through the kernel initiator, changer.status through the agent against `mtx status` (≤ 1.1×).
 * CALYPSO_LAB_BENCH_PHASES picks phases (comma-separated, default all): ops, lio, snapshots, changer.
 * Prints one JSON line.
 */
import { execFile, execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { promisify } from 'node:util';
import { tapeSubsystem } from '../agent/tape/service.js';
import { zfsListSnapshots } from '../agent/zfs/commands.js';
import { OPENZFS } from '../agent/zfs/dialect.js';
import { createZfsService } from '../agent/zfs/service.js';
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

const res: Record<string, unknown> = {};
const T0 = performance.now();
const PHASES = (process.env.CALYPSO_LAB_BENCH_PHASES ?? 'ops,lio,snapshots,changer').split(',');
/** progress on stdout as it goes: a guest killed at its timeout still shows how far it got (bench/lab.ts prints it) */
const phase = (name: string) =>
  process.stdout.write(
    `LAB-PHASE ${name} ${((performance.now() - T0) / 1000).toFixed(1)} s ${JSON.stringify(res)}\n`,
  );
/** n interleaved rounds of (direct, agent) after one agent call on its own (its first: reported apart) */
async function interleaved(n: number, direct: () => unknown, agent: () => unknown) {
  const first = (await time(1, agent))[0]!;
  const d: number[] = [];
  const a: number[] = [];
  for (let i = 0; i < n; i++) {
    d.push(...(await time(1, direct)));
    a.push(...(await time(1, agent)));
  }
  return { first, direct: median(d), agent: median(a) };
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
// --- snapshots: DATASETS × SNAPS (CALYPSO_LAB_BENCH_SNAPSHOTS, default 10,000, in 100 datasets) ---
if (PHASES.includes('snapshots')) {
  const DATASETS = 100;
  const SNAPS = Math.max(1, Math.round(Number(process.env.CALYPSO_LAB_BENCH_SNAPSHOTS ?? 10_000) / DATASETS));
  run(['modprobe', 'zfs']);
  const fd = openSync('/tmp/bench.vdev', 'w');
  ftruncateSync(fd, 1 << 30);
  closeSync(fd);
  // nothing mounted (listing snapshots needs no mounted file system); this did not make the creates cheaper
  // under TCG: each `zfs create` and `zfs snapshot -r` waits for its transaction group, ~4 s and ~11 s at a load of 18
  run(['zpool', 'create', '-f', '-O', 'mountpoint=none', 'benchz', '/tmp/bench.vdev']);
  phase('pool created');
  for (let i = 0; i < DATASETS - 1; i++) run(['zfs', 'create', `benchz/d${i}`]);
  phase('datasets created');
  const t0 = performance.now();
  // one recursive snapshot per command: OpenZFS takes one snapshot of a file system per transaction group (two in
  // one command or one channel program are refused), so 10,000 snapshots need SNAPS commands of DATASETS each
  for (let s = 0; s < SNAPS; s++) run(['zfs', 'snapshot', '-r', `benchz@s${s}`]);
  res.snapshotsCreatedS = ((performance.now() - t0) / 1000).toFixed(1);
  phase('snapshots created');
  // the baseline is the agent's own argv (same columns, no sort), run directly: `zfs list -H -p -t snapshot -o
  // name,used,referenced,creation,userrefs`; the agent's first call lists, parses and caches the same rows
  const argv = zfsListSnapshots(OPENZFS);
  res.zfsListArgv = argv.join(' ');
  let rows = 0;
  const raw = () => {
    rows = run(argv).split('\n').length - 1;
  };
  const z = await startTestAgent({
    services: [createZfsService({ healthIntervalMs: 0, schedulerTickMs: 0 })],
    checkResults: false,
  });
  await z.deps.capabilities.all(); // the agent settled: its start-up probes done
  const list = () => z.call('snapshot.list', { dataset: 'benchz', recursive: true, limit: 100 });
  // raw, first agent call, raw: the agent's first listing between the tool's two (the mean of those is the baseline)
  const r0 = await time(1, raw);
  const first = await time(1, list);
  const r1 = await time(1, raw);
  const viaAgent = await time(5, list);
  await z.stop();
  run(['zpool', 'destroy', 'benchz']);
  const rawMs = (r0[0]! + r1[0]!) / 2;
  res.snapshots = rows;
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
    const t = await startTestAgent({
      config: { tape: { changers: [{ id: 'b', device: sg, drives: [] }] } },
      services: [tapeSubsystem],
      checkResults: false,
    });
    await t.deps.capabilities.all();
    const m = await interleaved(
      9,
      () => exec('mtx', ['-f', sg, 'status']),
      () => t.call('changer.status', { changer: 'b' }),
    );
    await t.stop();
    run(['iscsiadm', '-m', 'node', '-T', lab.iqn, '-p', lab.portal, '--logout']);
    res.mtxStatusMs = m.direct.toFixed(1);
    res.changerStatusFirstMs = m.first.toFixed(1);
    res.changerStatusMs = m.agent.toFixed(1);
    res.changerStatusRatio = (m.agent / m.direct).toFixed(3);
  } finally {
    await lab.stop();
  }
  phase('changer measured');
}
process.stdout.write(`LAB-BENCH ${JSON.stringify(res)}\n`);
