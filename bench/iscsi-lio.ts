/**
 * LIO vs tgt in the kernel lab guest (bench/iscsi-lio-guest.sh): the same 128 MiB backing device
 * written and read sequentially with O_DIRECT (1 MiB) directly, through LIO and through tgtd, each
 * over loopback with the kernel initiator. Ratios against the direct figures of the same run.
 * Under TCG (no usable KVM) the absolute figures are the emulator's; the ratios still compare
 * the two targets on the same machine, at the same moment. Also part of `npm run bench -- lab` (bench/lab.ts).
 */
import path from 'node:path';
import { repoRoot } from '../test/helpers/paths.js';
import { describeRun, runInGuest } from '../test/lab/guest.js';

export async function benchIscsiLio(): Promise<Record<string, unknown>> {
  const r = await runInGuest(`sh ${path.join(repoRoot(), 'bench/iscsi-lio-guest.sh')}`, { timeoutS: 900 });
  const mbs = new Map<string, number>();
  for (const m of r.out.matchAll(/^BENCH (\S+) ([0-9.]+)$/gm)) mbs.set(m[1]!, Number(m[2]));
  if (!r.out.includes('BENCH-DONE')) throw new Error(describeRun(r).slice(-3000));
  const out: Record<string, unknown> = {};
  for (const op of ['write', 'read']) {
    const direct = mbs.get(`direct-${op}`) ?? Number.NaN;
    out[`${op}: backing device directly`] = `${direct} MB/s`;
    for (const t of ['lio', 'tgt']) {
      const v = mbs.get(`${t}-${op}`) ?? Number.NaN;
      out[`${op}: through ${t.toUpperCase()} (iSCSI, loopback)`] =
        `${v} MB/s, ratio ${(v / direct).toFixed(2)} × direct (goal: reported, issue #23 sets none)`;
    }
    out[`${op}: LIO / tgt`] = (
      (mbs.get(`lio-${op}`) ?? Number.NaN) / (mbs.get(`tgt-${op}`) ?? Number.NaN)
    ).toFixed(2);
  }
  out['guest run'] = `${(r.ms / 1000).toFixed(0)} s (boot included)`;
  return out;
}
