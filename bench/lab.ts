/**
 * Kernel lab benchmarks (`npm run bench -- lab`), every figure against a baseline measured in the same guest run:
 * bench/lab-guest.ts in one guest (single OpenZFS and LIO operations through the agent / the tools directly,
 * snapshot.list vs zfs list on OpenZFS, changer.status vs mtx status), its boot-to-command time, then
 * bench/iscsi-lio.ts in a second guest (sequential I/O through the kernel initiator on LIO and tgt / the backing
 * device read directly). CALYPSO_LAB_BENCH_SNAPSHOTS sets the snapshot count (default 10,000: the pool is built once
 * on the host by scripts/lab/snapshot-pool.sh and kept in the lab's cache); CALYPSO_LAB_BENCH_ROUNDS the changer's rounds;
 * CALYPSO_LAB_BENCH_PHASES picks phases (default `ops,lio,snapshots,changer,iscsi`).
 */

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../test/helpers/paths.js';
import { runInGuest } from '../test/lab/guest.js';
import { benchIscsiLio } from './iscsi-lio.js';

const verdict = (ratio: unknown, goal: number) =>
  `${String(ratio)} (goal ≤ ${goal}) ${Number(ratio) <= goal ? 'met' : 'NOT met'}`;

export async function benchLab(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const snapshots = process.env.CALYPSO_LAB_BENCH_SNAPSHOTS ?? '10000';
  const phases = process.env.CALYPSO_LAB_BENCH_PHASES ?? 'ops,lio,snapshots,changer,iscsi';
  const env: Record<string, string> = {
    CALYPSO_LAB_BENCH_SNAPSHOTS: snapshots,
    CALYPSO_LAB_BENCH_PHASES: phases,
  };
  if (process.env.CALYPSO_LAB_BENCH_ROUNDS)
    env.CALYPSO_LAB_BENCH_ROUNDS = process.env.CALYPSO_LAB_BENCH_ROUNDS;
  if (phases.split(',').includes('snapshots')) {
    // the snapshot pool: built once on the host by zfs-fuse (seconds), kept in the lab's cache, imported in the guest
    const t0 = performance.now();
    const script = path.join(repoRoot(), 'scripts/lab/snapshot-pool.sh');
    env.CALYPSO_LAB_BENCH_POOL = execFileSync(script, [snapshots], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 1_800_000,
    }).trim();
    out['snapshot pool (scripts/lab/snapshot-pool.sh)'] =
      `${env.CALYPSO_LAB_BENCH_POOL}, ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
  }
  const g = await runInGuest(`${process.execPath} ${path.join(repoRoot(), 'dist/bench/lab-guest.js')}`, {
    timeoutS: Number(process.env.CALYPSO_LAB_BENCH_TIMEOUT_S ?? 4200),
    env,
  });
  out['guest wall (boot and bench)'] = `${(g.ms / 1000).toFixed(1)} s`;
  out['boot to command (guest uptime)'] = `${/at command ([\d.]+)s/.exec(g.log)?.[1] ?? '?'} s`;
  const line = /LAB-BENCH (.*)/.exec(g.out)?.[1];
  if (g.rc !== 0 || !line) throw new Error(`guest bench failed (${g.rc}): ${g.out}\n${g.log}`);
  const r = JSON.parse(line) as Record<string, unknown>;
  const verdicts = [
    'snapshotListRatioFirst',
    'snapshotListRatio',
    'snapshotListRatioPaired',
    'changerStatusRatio',
    'changerStatusRatioPaired',
  ];
  for (const [k, v] of Object.entries(r)) if (!verdicts.includes(k)) out[k] = v;
  // the verdicts: paired (an uncached call / the tool's run inside that call: the tool's run-to-run spread under
  // TCG, 5-30 %, cancels); the unpaired ratios (against separate direct runs) are reported beside them
  if (r.snapshotListRatio) {
    out['snapshot.list uncached call / the zfs list -Hp inside it (paired, the worst)'] = verdict(
      r.snapshotListRatioPaired,
      1.05,
    );
    out['snapshot.list first call / mean of zfs list -Hp run directly before and after (unpaired)'] =
      r.snapshotListRatioFirst;
    out['snapshot.list from the cache, median / zfs list -Hp'] = verdict(r.snapshotListRatio, 1.05);
  }
  if (r.changerStatusRatio) {
    out['changer.status / the mtx status inside each call (paired, median)'] = verdict(
      r.changerStatusRatioPaired,
      1.1,
    );
    out['changer.status / mtx status run directly (unpaired, median of per-round ratios)'] =
      r.changerStatusRatio;
  }
  // the second guest: sequential I/O through the kernel initiator (the "iscsi" phase)
  if (phases.split(',').includes('iscsi'))
    for (const [k, v] of Object.entries(await benchIscsiLio())) out[`iscsi-lio ${k}`] = v;
  return out;
}
