/**
 * The application-side attacks of issue #28 that are about resource use, as rows of
 * `npm run bench -- abuse`, each bounded in time and against real receivers on 127.0.0.1:
 * - item 7: a webhook receiver answering 200 and then an endless body (the attack used 1.5 GB):
 *   a real agent process; its peak RSS, the bytes the receiver got out before the agent
 *   closed, and the time `notify.target.test` took;
 * - item 12: messages to a fast webhook target while another target never answers: the fast
 *   target's delivery latency (p50, max) against the baseline without the slow target, in the
 *   same run (an in-process agent: alerts are raised through its engine);
 * - item 10: `object.migrate`'s comparison (the dry run of the attack) against an S3 server
 *   that lists forever: keys looked at, pages asked for, peak heap, time to stop.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { notifySubsystem } from '../agent/alerts/notify.js';
import { alertsSubsystem } from '../agent/alerts/service.js';
import { migrate } from '../agent/object/migrate.js';
import { s3Client } from '../agent/object/s3.js';
import { startAgentProcess, startTestAgent } from '../test/helpers/agent.js';
import { tempDir } from '../test/helpers/paths.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SECRET = 'Bench-secret-0123456789';

async function listen(
  handler: (res: ServerResponse, url: string) => void,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(res, req.url ?? '/'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}
const close = async (s: Server) => {
  s.closeAllConnections();
  await new Promise((r) => s.close(r));
};

/** Item 7: an endless answer, against a real agent process. */
async function endlessAnswer(): Promise<Record<string, unknown>> {
  let sent = 0;
  const hook = await listen((res) => {
    res.writeHead(200);
    const chunk = Buffer.alloc(256 * 1024, 0x41);
    const pump = () => {
      while (!res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return;
      }
    };
    res.on('drain', pump);
    pump();
  });
  const tmp = tempDir('calypso-abuse-');
  const agent = await startAgentProcess({
    prefix: tmp.dir,
    config: {
      log: { file: false },
      notify: { webhookAllow: [`127.0.0.1:${hook.port}`], timeoutMs: 15_000 },
    } as never,
    timeoutMs: 60_000,
  });
  let peak = 0;
  const timer = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${agent.proc.pid}/status`, 'utf8');
      peak = Math.max(peak, Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
    } catch {
      /* gone */
    }
  }, 20);
  try {
    const c = await agent.client();
    await c.call('notify.target.set', {
      target: { id: 'endless', kind: 'webhook', webhook: { url: `http://127.0.0.1:${hook.port}/x` } },
      secret: SECRET,
    });
    const t0 = performance.now();
    const r = await c
      .call<{ delivered: boolean }>('notify.target.test', { id: 'endless' })
      .catch((e: Error) => ({
        error: e.message,
      }));
    const ms = performance.now() - t0;
    await sleep(300);
    c.close();
    return {
      ...r,
      testMs: Math.round(ms),
      receiverSentMB: Math.round((sent / 1024 / 1024) * 10) / 10,
      peakRssMB: Math.round(peak),
      goal: 'answered well before the 15 s timeout, RSS ≤ 300 MB',
    };
  } finally {
    clearInterval(timer);
    await agent.stop();
    tmp.cleanup();
    await close(hook.server);
  }
}

/** Item 12: the fast target's latency with and without a target that never answers. */
async function slowTarget(withSlow: boolean): Promise<{ p50Ms: number; maxMs: number }> {
  const arrived = new Map<string, number>();
  const fast = await listen((res, url) => {
    arrived.set(url, performance.now());
    res.writeHead(204).end();
  });
  const hang = await listen(() => {});
  const t = await startTestAgent({
    services: [alertsSubsystem, notifySubsystem],
    config: {
      notify: {
        tickMs: 20,
        timeoutMs: 3000,
        retryBaseMs: 60_000,
        webhookAllow: [`127.0.0.1:${fast.port}`, `127.0.0.1:${hang.port}`],
      },
    },
  });
  try {
    if (withSlow)
      await t.call('notify.target.set', {
        target: { id: 'a-slow', kind: 'webhook', webhook: { url: `http://127.0.0.1:${hang.port}/slow` } },
        secret: SECRET,
      });
    await t.call('notify.target.set', {
      target: { id: 'b-fast', kind: 'webhook', webhook: { url: `http://127.0.0.1:${fast.port}/fast` } },
      secret: SECRET,
    });
    const lat: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = arrived.get('/fast');
      const t0 = performance.now();
      await t.deps.alerts.raise({
        key: `bench.slow:${i}`,
        level: 'critical',
        source: 'backup',
        title: `alert ${i}`,
      });
      while (arrived.get('/fast') === before && performance.now() - t0 < 20_000) await sleep(5);
      lat.push((arrived.get('/fast') ?? t0) - t0);
    }
    lat.sort((a, b) => a - b);
    return { p50Ms: Math.round(lat[2]!), maxMs: Math.round(lat[4]!) };
  } finally {
    await t.stop();
    await close(fast.server);
    await close(hang.server);
  }
}

/** Item 10: the migration's comparison against a listing that never ends. */
async function endlessListing(): Promise<Record<string, unknown>> {
  let pages = 0;
  const pad = 'k'.repeat(900);
  const s3 = await listen((res, url) => {
    const u = new URL(url, 'http://x');
    if (!u.pathname.startsWith('/evil')) {
      res.writeHead(404, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0"?><Error><Code>NoSuchBucket</Code></Error>');
      return;
    }
    pages++;
    const page = Number(u.searchParams.get('continuation-token') ?? '0');
    const items = Array.from(
      { length: 1000 },
      (_, i) =>
        `<Contents><Key>${String(page).padStart(8, '0')}/${i}-${pad}</Key><Size>1</Size><ETag>"0"</ETag></Contents>`,
    ).join('');
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end(
      `<?xml version="1.0"?><ListBucketResult><Name>evil</Name><IsTruncated>true</IsTruncated><NextContinuationToken>${page + 1}</NextContinuationToken>${items}</ListBucketResult>`,
    );
  });
  const client = await s3Client(`http://127.0.0.1:${s3.port}`, { accessKey: 'x', secretKey: 'y' });
  const heap0 = process.memoryUsage().heapUsed;
  let peak = heap0;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 10);
  const ac = new AbortController();
  const bound = setTimeout(() => ac.abort(), 75_000);
  const t0 = performance.now();
  try {
    const r = await migrate({
      source: client,
      target: client,
      buckets: [{ source: 'evil', target: 'copy' }],
      ensureBucket: async () => {},
      signal: ac.signal,
      progress: () => {},
      planOnly: true,
    }).catch((e: Error) => ({ error: e.message }));
    return {
      keysLookedAt: 'copied' in r ? r.copied : undefined,
      truncated: 'truncated' in r ? r.truncated : undefined,
      ...('error' in r ? { error: r.error } : {}),
      pagesAskedFor: pages,
      seconds: Math.round((performance.now() - t0) / 100) / 10,
      heapGrowthPeakMB: Math.round((peak - heap0) / 1024 / 1024),
      goal: 'stops by itself at maxKeys (100,000), heap growth ≤ 64 MB (the attack: 1.84 GB in 75 s)',
    };
  } finally {
    clearTimeout(bound);
    clearInterval(timer);
    client.destroy();
    await close(s3.server);
  }
}

export async function benchAbuseApp(): Promise<Record<string, unknown>> {
  const base = await slowTarget(false);
  const slow = await slowTarget(true);
  return {
    'webhook answering 200 and an endless body (#28 item 7)': await endlessAnswer(),
    'webhook latency of a fast target, baseline (#28 item 12)': base,
    'webhook latency of a fast target beside one that never answers (#28 item 12)': {
      ...slow,
      ratioP50: Math.round((slow.p50Ms / Math.max(1, base.p50Ms)) * 10) / 10,
      goal: 'max ≤ 1 s (before: one 15 s timeout per message)',
    },
    'object.migrate dry run against an endless S3 listing (#28 item 10)': await endlessListing(),
  };
}
