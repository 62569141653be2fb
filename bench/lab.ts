/**
 * Kernel lab benchmarks (`npm run bench -- lab`): boot-to-command time of the guest (QEMU, TCG here), then
 * bench/lab-guest.ts inside the guest (snapshot.list vs zfs list on OpenZFS, changer.status vs mtx status).
 */

import path from 'node:path';
import { repoRoot } from '../test/helpers/paths.js';
import { runInGuest } from '../test/lab/guest.js';

export async function benchLab(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const boot = await runInGuest('true', { timeoutS: 600 });
  if (boot.rc !== 0) throw new Error(`boot failed: ${boot.log}`);
  out.bootWallS = (boot.ms / 1000).toFixed(1);
  out.bootToCommandS = /at command ([\d.]+)s/.exec(boot.log)?.[1];
  const g = await runInGuest(`${process.execPath} ${path.join(repoRoot(), 'dist/bench/lab-guest.js')}`, {
    timeoutS: 3000,
  });
  const line = /LAB-BENCH (.*)/.exec(g.out)?.[1];
  if (g.rc !== 0 || !line) throw new Error(`guest bench failed (${g.rc}): ${g.out}\n${g.log}`);
  Object.assign(out, JSON.parse(line) as Record<string, unknown>);
  out.goals = 'snapshotListRatio ≤ 1.05, changerStatusRatio ≤ 1.1';
  return out;
}
