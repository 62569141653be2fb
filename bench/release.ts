/**
 * Release benchmark: the window during which the agent's Unix socket refuses connections across
 * an upgrade (goal ≤ 2 s), and the longer window during which `system.ping` gets no answer (the
 * new agent also has to start). Real releases, an appliance under a temp prefix, the supervisor
 * restarting the agent as systemd would; three upgrades back and forth.
 */
import net from 'node:net';
import path from 'node:path';
import { sleep } from '../agent/util/time.js';
import { tempDir } from '../test/helpers/paths.js';
import { buildTestRelease, startAppliance } from '../test/release/helpers.js';

interface Sample {
  t: number;
  connect: boolean;
  ping: boolean;
}

function sample(socket: string): Promise<Sample> {
  return new Promise((resolve) => {
    const t = Date.now();
    const c = net.connect(socket);
    let connected = false;
    let buf = '';
    const done = (ping: boolean) => {
      clearTimeout(timer);
      c.destroy();
      resolve({ t, connect: connected, ping });
    };
    const timer = setTimeout(() => done(false), 1000);
    c.on('connect', () => {
      connected = true;
      c.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'system.ping', params: {} })}\n`);
    });
    c.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\n')) done(buf.includes('"result"'));
    });
    c.on('error', () => done(false));
  });
}

/** Longest stretch of failed samples, measured from the last success before it to the first after. */
function longestGap(samples: Sample[], ok: (s: Sample) => boolean): number {
  let worst = 0;
  let lastOk: number | undefined;
  let inGap = false;
  for (const s of samples) {
    if (ok(s)) {
      if (inGap && lastOk !== undefined) worst = Math.max(worst, s.t - lastOk);
      inGap = false;
      lastOk = s.t;
    } else inGap = true;
  }
  return worst;
}

export async function benchRelease(): Promise<Record<string, unknown>> {
  const tmp = tempDir('calypso-bench-release-');
  const t0 = Date.now();
  const a = await buildTestRelease(tmp.dir, '1.0.0');
  const b = await buildTestRelease(tmp.dir, '1.1.0');
  const buildMs = Date.now() - t0;
  const app = await startAppliance(a.file);
  const refused: number[] = [];
  const pingGaps: number[] = [];
  const totals: number[] = [];
  try {
    for (const target of [b, a, b]) {
      const samples: Sample[] = [];
      let stop = false;
      const prober = (async () => {
        while (!stop) {
          samples.push(await sample(app.socket));
          await sleep(10);
        }
      })();
      const { job } = await app.call<{ job: string }>('release.install', { file: target.file });
      let upgrade: string | undefined;
      while (!upgrade) {
        const rec = await app.callRetry<{
          state: string;
          result?: { upgrade: string };
          error?: { message: string };
        }>('job.get', { id: job });
        if (rec.state === 'success') upgrade = rec.result!.upgrade;
        else if (rec.state !== 'running' && rec.state !== 'waiting')
          throw new Error(`release.install: ${rec.error?.message}`);
        else await sleep(50);
      }
      const rec = await app.waitUpgrade(upgrade);
      if (rec.outcome !== 'success')
        throw new Error(`upgrade to ${target.version}: ${rec.outcome} ${rec.reason ?? ''}`);
      await app.waitPing(target.version);
      await sleep(200);
      stop = true;
      await prober;
      refused.push(longestGap(samples, (s) => s.connect));
      pingGaps.push(longestGap(samples, (s) => s.ping));
      const sw = rec.steps.find((s) => s.step === 'switched')?.at ?? rec.startedAt;
      totals.push(rec.finishedAt - sw);
    }
  } finally {
    await app.stop();
    tmp.cleanup();
  }
  const max = (xs: number[]) => Math.max(...xs);
  return {
    'socket refuses connections, worst of 3 upgrades (ms)': max(refused),
    'socket refusal windows (ms)': refused.join(', '),
    'goal ≤ 2000 ms': max(refused) <= 2000 ? 'met' : 'MISSED',
    'no ping answer, worst (ms)': max(pingGaps),
    'switch → health-checked and pruned (ms)': totals.join(', '),
    'release size (MiB)': (a.manifest.files.reduce((n, f) => n + f.size, 0) / 1048576).toFixed(1),
    'build of 2 test releases (ms)': buildMs,
    'release files': a.manifest.files.length,
    tarball: path.basename(a.file),
  };
}
