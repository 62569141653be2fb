/**
 * Replication throughput (issue #27), against its baseline in the same run: one dataset holding
 * 1 GiB of incompressible data on zfs-fuse (CALYPSO_BENCH_REPL_MB sets the size in MiB: a run's
 * fixed cost, two guard starts and the ssh master, is about 0.9 s on an idle machine, so 200 MB
 * measures that more than the throughput), sent in full to a remote (a real sshd and the
 * receiving side's guard, the replication lab of test/remote/lab.ts) by `replication.task.run`
 * and by the same `zfs send | ssh … zfs receive` pipeline run by hand (two processes joined by a
 * plain pipe), alternating rounds; medians and their ratio, agent/hand (goal ≥ 0.9 in
 * throughput, i.e. the agent's time ≤ 1.11 × the hand's). And the progress: the bytes in the
 * last progress report before the end, and the run's estimate, against the bytes the hand
 * pipeline carried for the same snapshot (goal within 5 %).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { remoteArgv } from '../agent/remote/push.js';
import { pairDr, startReplLab } from '../test/remote/lab.js';

const MB = 1024 * 1024;
const SIZE = Math.max(8, Number(process.env.CALYPSO_BENCH_REPL_MB ?? 1024)) * MB;
const ROUNDS = 3;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** `send | receive` as two processes and a plain pipe; resolves with the bytes carried. */
function byHand(send: string[], receive: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = spawn(send[0]!, send.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    const r = spawn(receive[0]!, receive.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] });
    let bytes = 0;
    let err = '';
    s.stdout.on('data', (d: Buffer) => (bytes += d.length));
    r.stdin.on('error', () => {}); // EPIPE when receive fails: its exit status and stderr tell
    s.stdout.pipe(r.stdin);
    r.stderr.on('data', (d) => (err += d));
    let left = 2;
    const done = (code: number | null) => {
      if (code !== 0) reject(new Error(`by hand: exit ${code}: ${err}`));
      else if (--left === 0) resolve(bytes);
    };
    s.once('close', done);
    r.once('close', done);
  });
}

export async function benchReplication(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  // both ends on one pool: the source, one received copy, room for a round's second copy
  const lab = await startReplLab('rb', { poolBytes: 3 * SIZE + 1024 * MB });
  try {
    const src = `${lab.pool}/src`;
    const prefix = `${lab.pool}/backup`;
    await pairDr(lab, prefix, [src, prefix]);
    const mnt = (await lab.zfs(['list', '-H', '-o', 'mountpoint', '--', src])).stdout.trim();
    for (let i = 0; i < SIZE / (8 * MB); i++) writeFileSync(path.join(mnt, `f${i}.bin`), randomBytes(8 * MB));
    await lab.sender.call('snapshot.create', { dataset: src, name: 's1' });

    // the last progress report before the end of each agent run (job.progress on the agent's bus)
    let lastBytes = 0;
    let job = '';
    let streamStart = 0;
    let streamEnd = 0;
    const streaming: number[] = [];
    lab.sender.deps.events.on(['job.progress'], (ev) => {
      const d = ev.data as { id: string; progress: { description?: string } };
      const m = /^(\d+) of about (\d+) bytes/.exec(d.progress.description ?? '');
      if (d.id === job && m) {
        lastBytes = Number(m[1]);
        streamEnd = performance.now();
        streamStart ||= streamEnd;
      }
    });
    const agent: number[] = [];
    const hand: number[] = [];
    const lastSeen: number[] = [];
    let handBytes = 0;
    let estimate = 0;
    let runBytes = 0;
    // zfs-fuse may call a dataset busy just after a receive (under load): try again
    const reset = async (ds: string) => {
      for (let i = 0; i < 40; i++) {
        const r = await lab.zfs(['destroy', '-r', '--', ds]);
        if (r.code === 0 || /does not exist/.test(r.stderr)) return;
        await new Promise((ok) => setTimeout(ok, 250));
      }
      throw new Error(`${ds} could not be destroyed between rounds`);
    };
    for (let round = 0; round < ROUNDS * 2; round++) {
      const viaAgent = round % 2 === (Math.floor(round / 2) % 2 === 0 ? 0 : 1);
      if (viaAgent) {
        const dst = `${prefix}/a`;
        await lab.sender.call('replication.task.create', { id: 'b', remote: 'dr', source: src, target: dst });
        const t0 = performance.now();
        lastBytes = 0;
        streamStart = 0;
        job = (await lab.sender.call<{ job: string }>('replication.task.run', { id: 'b' })).job;
        const rec = await lab.sender.waitJob(job);
        agent.push(performance.now() - t0);
        streaming.push(streamEnd - streamStart);
        if (rec.state !== 'success') throw new Error(`agent run: ${JSON.stringify(rec.error)}`);
        const res = rec.result as { bytes: number; estimate: number };
        runBytes = res.bytes;
        estimate = res.estimate;
        lastSeen.push(lastBytes);
        await lab.sender.call('replication.task.delete', { id: 'b' });
        await reset(dst);
      } else {
        const dst = `${prefix}/h`;
        const t0 = performance.now();
        handBytes = await byHand(
          remoteArgv.send(`${src}@s1`),
          lab.ssh('dr', remoteArgv.receive(dst, { force: false, resumable: false })),
        );
        hand.push(performance.now() - t0);
        await reset(dst);
      }
    }
    const a = median(agent);
    const h = median(hand);
    const mbs = (ms: number) => ((handBytes / MB) * 1000) / ms;
    out['stream bytes (by hand) / counted by the run'] = `${handBytes} / ${runBytes}`;
    out['replication.task.run, median of 3 (s, MB/s)'] =
      `${(a / 1000).toFixed(1)} s, ${mbs(a).toFixed(1)} MB/s`;
    out['zfs send | ssh … zfs receive by hand, median of 3'] =
      `${(h / 1000).toFixed(1)} s, ${mbs(h).toFixed(1)} MB/s`;
    out['throughput agent / by hand (goal ≥ 0.9)'] = (h / a).toFixed(2);
    out['agent: first to last byte report, median (s; the rest is the reads and holds before and after)'] = (
      median(streaming) / 1000
    ).toFixed(1);
    const worst = Math.max(...lastSeen.map((b) => Math.abs(handBytes - b) / handBytes));
    out['last progress report before the end, bytes (worst of 3) / received'] =
      `${lastSeen.join(', ')} / ${handBytes}: within ${(worst * 100).toFixed(1)} % (goal ≤ 5 %)`;
    out['estimate / received'] = `${estimate} / ${handBytes}: ${((estimate / handBytes) * 100).toFixed(1)} %`;
    out['load average (1 min) at the end'] = os.loadavg()[0]!.toFixed(2);
  } finally {
    await lab.stop();
  }
  return out;
}
