/**
 * iSCSI benchmarks on a real tgtd (sandbox/tgt.ts: loopback portal, own control port),
 * each against a baseline measured in the same run:
 * - applying 256 targets × 4 LUNs through the agent (the pipeline: targets.conf rendered and
 *   written, tgtd's state read, the tgtadm plan computed and run) against the very same tgtadm
 *   argv run directly one after another (ratio, goal ≤ 1.2);
 * - sequential read of a LUN through iSCSI (libiscsi, 1 MiB READ16s) against reading its
 *   backing file directly (reported: both from the page cache, so the ratio is the protocol's
 *   cost on loopback).
 */
import { execFile } from 'node:child_process';
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { tgtBackendFactory } from '../agent/iscsi/backend-tgt.js';
import { bindAddress, lunNew, targetDelete, targetNew } from '../agent/iscsi/commands.js';
import { type IscsiState, newIdentity } from '../agent/iscsi/model.js';
import { iscsiSubsystem } from '../agent/iscsi/service.js';
import { startTgtLab, type TgtLab } from '../sandbox/tgt.js';
import { startTestAgent } from '../test/helpers/agent.js';

const run = promisify(execFile);
const TARGETS = 256;
const LUNS = 4;

function desired(): IscsiState {
  return {
    targets: Array.from({ length: TARGETS }, (_, i) => {
      const iqn = `iqn.2026-12.org.calypso.bench:t${i + 1}`;
      return {
        tid: i + 1,
        iqn,
        portals: [],
        groups: [],
        enabled: true,
        luns: Array.from({ length: LUNS }, (_, j) => ({
          lun: j + 1,
          backing: { kind: 'file' as const, name: `t${i + 1}l${j + 1}.img`, sizeBytes: 1 << 20 },
          blockSize: 512 as const,
          readonly: false,
          cache: 'write-through' as const,
          ...newIdentity(iqn, j + 1, 'bench'),
        })),
      };
    }),
  };
}

async function clear(lab: TgtLab): Promise<void> {
  for (let tid = 1; tid <= TARGETS; tid++)
    try {
      lab.tgtadm(...targetDelete(0, tid).slice(3));
    } catch {
      // not there
    }
}

async function seqRead(file: string): Promise<number> {
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  let n = 0;
  for (;;) {
    const r = readSync(fd, buf, 0, buf.length, null);
    if (!r) break;
    n += r;
  }
  closeSync(fd);
  return n;
}

export async function benchIscsi(): Promise<Record<string, unknown>> {
  const lab = await startTgtLab();
  const t = await startTestAgent({
    config: { iscsi: { backend: 'tgt', tgtControlPort: lab.control } },
    services: [iscsiSubsystem([tgtBackendFactory])],
  });
  const out: Record<string, unknown> = {};
  try {
    const managed = t.deps.configSet.get('iscsi');
    if (!managed) throw new Error('no iscsi config target');
    const state = desired() as never;
    // the backing files exist in both runs (the agent would create them sparse: not measured)
    const dataDir = t.deps.layout.data.iscsi;
    await mkdir(dataDir, { recursive: true });
    for (const tg of desired().targets)
      for (const l of tg.luns)
        if (l.backing.kind === 'file')
          await run('truncate', ['--size', '1M', path.join(dataDir, l.backing.name)]);

    const plan = await managed.plan(state, { user: 'bench', summary: 'bench' });
    const argvs = plan.commands.filter((c) => c[0] === 'tgtadm');
    let s = performance.now();
    for (const a of argvs) await run(a[0]!, a.slice(1));
    const direct = performance.now() - s;
    await clear(lab);

    s = performance.now();
    const r = await managed.apply(state, { user: 'bench', summary: 'bench' });
    const agent = performance.now() - s;
    const ran = r.commands.filter((c) => c[0] === 'tgtadm').length;
    out[`apply ${TARGETS} targets × ${LUNS} LUNs`] = `${ran} tgtadm commands (direct loop: ${argvs.length})`;
    out['tgtadm directly, one after another'] = `${(direct / 1000).toFixed(2)} s`;
    out['through the agent (render, read tgtd, plan, run)'] = `${(agent / 1000).toFixed(2)} s`;
    out['agent / direct (goal ≤ 1.2)'] = (agent / direct).toFixed(3);
    s = performance.now();
    const again = await managed.reapply({ user: 'bench', summary: 'bench' });
    out['re-apply when in sync (reads tgtd, plans nothing)'] =
      `${(performance.now() - s).toFixed(0)} ms, ${again.commands.filter((c) => c[0] === 'tgtadm').length} commands`;
    await clear(lab);

    // sequential read: 256 MiB file LUN
    const big = path.join(lab.dir, 'seq.img');
    writeFileSync(big, Buffer.alloc(0));
    await run('truncate', ['--size', '256M', big]);
    // the agent's own argv builders (agent/iscsi/commands.ts), run on the lab's control port
    const tgt = (argv: string[]) => lab.tgtadm(...argv.slice(3));
    tgt(targetNew(0, 1, 'iqn.2026-12.bench:seq'));
    tgt(lunNew(0, 1, 1, big, 512));
    tgt(bindAddress(0, 1, 'ALL'));
    await seqRead(big); // page cache warm for both
    const fileTimes: number[] = [];
    const netTimes: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 3; i++) {
      s = performance.now();
      bytes = await seqRead(big);
      fileTimes.push(performance.now() - s);
      s = performance.now();
      const o = await run(lab.blockio, ['seqread', lab.url('iqn.2026-12.bench:seq', 1)]);
      netTimes.push(performance.now() - s);
      if (Number(o.stdout.trim()) !== bytes)
        throw new Error(`iSCSI read ${o.stdout.trim()} bytes, not ${bytes}`);
    }
    const mbps = (ms: number) => `${(bytes / 1048576 / (ms / 1000)).toFixed(0)} MiB/s`;
    const best = (xs: number[]) => Math.min(...xs);
    out['sequential read, 256 MiB LUN, backing file directly (best of 3)'] = mbps(best(fileTimes));
    out['sequential read through iSCSI on loopback, 1 MiB READ16 (best of 3)'] = mbps(best(netTimes));
    out['iSCSI / file throughput'] = (best(fileTimes) / best(netTimes)).toFixed(3);
  } finally {
    await t.stop();
    await lab.stop();
  }
  return out;
}
