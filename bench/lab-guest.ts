/**
 * The kernel lab's in-guest benchmark (bench/lab.ts boots the guest and runs this as root): single OpenZFS and LIO
 * operations through the agent against the same tools run directly (bench/lab-ops.ts); on OpenZFS, a
 * snapshot.list of ~10,000 snapshots through the agent against `zfs list -Hp -t snapshot` run directly (goal ≤ 1.05×);
 * on tgt's library through the kernel initiator, changer.status through the agent against `mtx status` (≤ 1.1×).
 * Prints one JSON line.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { createZfsService } from '../agent/zfs/service.js';
import { startTapeLab } from '../sandbox/tape.js';
import { startTestAgent } from '../test/helpers/agent.js';
import { waitLuns } from '../test/lab/guest/scsi-sysfs.js';
import { labLib } from '../test/lab/guest/sh.js';
import { benchLioLun, benchZfsOps } from './lab-ops.js';

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
/** progress on stdout as it goes: a guest killed at its timeout still shows how far it got (bench/lab.ts prints it) */
const phase = (name: string) =>
  process.stdout.write(
    `LAB-PHASE ${name} ${((performance.now() - T0) / 1000).toFixed(1)} s ${JSON.stringify(res)}\n`,
  );
// --- single operations ---
await benchZfsOps(res);
phase('zfs operations measured');
await benchLioLun(res);
phase('LIO LUN create measured');
// --- snapshots: DATASETS × SNAPS (CALYPSO_LAB_BENCH_SNAPSHOTS, default 10,000, in 100 datasets) ---
const DATASETS = 100;
const SNAPS = Math.max(1, Math.round(Number(process.env.CALYPSO_LAB_BENCH_SNAPSHOTS ?? 10_000) / DATASETS));
run(['modprobe', 'zfs']);
const fd = openSync('/tmp/bench.vdev', 'w');
ftruncateSync(fd, 1 << 30);
closeSync(fd);
run(['zpool', 'create', '-f', 'benchz', '/tmp/bench.vdev']);
phase('pool created');
for (let i = 0; i < DATASETS - 1; i++) run(['zfs', 'create', `benchz/d${i}`]);
phase('datasets created');
const t0 = performance.now();
// one recursive snapshot per command: OpenZFS refuses two snapshots of one file system in one command
for (let s = 0; s < SNAPS; s++) run(['zfs', 'snapshot', '-r', `benchz@s${s}`]);
res.snapshotsCreatedS = ((performance.now() - t0) / 1000).toFixed(1);
phase('snapshots created');
const raw = await time(5, () =>
  run(['zfs', 'list', '-Hp', '-t', 'snapshot', '-r', '-o', 'name,used,refer,creation', 'benchz']),
);
res.snapshots =
  run(['zfs', 'list', '-H', '-t', 'snapshot', '-r', '-o', 'name', 'benchz']).split('\n').length - 1;
const z = await startTestAgent({ services: [createZfsService({ healthIntervalMs: 0, schedulerTickMs: 0 })] });
const list = () => z.call('snapshot.list', { dataset: 'benchz', recursive: true, limit: 100 });
const first = await time(1, list);
const viaAgent = await time(5, list);
await z.stop();
run(['zpool', 'destroy', 'benchz']);
res.zfsListMs = median(raw).toFixed(1);
res.snapshotListFirstMs = first[0]!.toFixed(1);
res.snapshotListMs = median(viaAgent).toFixed(1);
res.snapshotListRatioFirst = (first[0]! / median(raw)).toFixed(3);
res.snapshotListRatio = (median(viaAgent) / median(raw)).toFixed(3);
phase('snapshot.list measured');
// --- changer ---
const lab = await startTapeLab({ slots: 40, mailslots: 2, tapes: 20, preload: false });
try {
  await labLib('lab_iscsid');
  for (const m of ['st', 'sg', 'ch']) run(['modprobe', m]);
  run(['iscsiadm', '-m', 'discovery', '-t', 'st', '-p', lab.portal]);
  run(['iscsiadm', '-m', 'node', '-T', lab.iqn, '-p', lab.portal, '--login']);
  const luns = await waitLuns(lab.iqn, (l) => l.some((x) => x.type === 8 && x.sg));
  const sg = luns.find((l) => l.type === 8)!.sg!;
  const t = await startTestAgent({ config: { tape: { changers: [{ id: 'b', device: sg, drives: [] }] } } });
  const mtx = await time(7, () => run(['mtx', '-f', sg, 'status']));
  const agent = await time(7, () => t.call('changer.status', { changer: 'b' }));
  await t.stop();
  run(['iscsiadm', '-m', 'node', '-T', lab.iqn, '-p', lab.portal, '--logout']);
  res.mtxStatusMs = median(mtx).toFixed(1);
  res.changerStatusMs = median(agent).toFixed(1);
  res.changerStatusRatio = (median(agent) / median(mtx)).toFixed(3);
} finally {
  await lab.stop();
}
process.stdout.write(`LAB-BENCH ${JSON.stringify(res)}\n`);
