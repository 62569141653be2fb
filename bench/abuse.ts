/**
 * The attacks of issue #15, kept as a bounded, self-stopping suite (`npm run bench -- abuse`).
 * Each runs against a real agent process under a temporary prefix, only on 127.0.0.1 and the
 * Unix socket, bounded in count and in time (a few seconds each). For each attack: the agent's
 * peak RSS and peak file descriptors (sampled from /proc every 50 ms), the latency p99 of a
 * second, admin client pinging over the Unix socket throughout, whether the agent survived,
 * and for the kill -9 attack whether every acknowledged mutation has its audit record.
 * The attacks themselves are in abuse-attacks.ts. The baseline is the same measurement with no
 * attack, in the same run.
 * Goals: peak RSS ≤ 300 MB, admin ping p99 ≤ 250 ms, no crash, nothing acknowledged lost.
 * The application-side attacks of issue #28 (webhooks, a hostile S3 source) follow: abuse-app.ts;
 * then its attacks on what a caller may do (escalation, leaks, injection): abuse-checks.ts.
 */
import { chmodSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AgentClient } from '../rpc/client.js';
import { type AgentProcess, startAgentProcess } from '../test/helpers/agent.js';
import { tempDir } from '../test/helpers/paths.js';
import { benchAbuseApp } from './abuse-app.js';
import { ATTACKS } from './abuse-attacks.js';
import { benchAbuseChecks } from './abuse-checks.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const RSS_GOAL_MB = 300;
const P99_GOAL_MS = 250;

interface Measure {
  peakRssMB: number;
  peakFds: number;
  pingP99Ms: number;
  pingMaxMs: number;
  pings: number;
  alive: boolean;
}

/** Samples RSS and fds of the agent, and pings it as admin, until stopped. */
function observe(agent: AgentProcess, admin: AgentClient) {
  let peakRss = 0;
  let peakFds = 0;
  const lat: number[] = [];
  let running = true;
  const sample = () => {
    try {
      const status = readFileSync(`/proc/${agent.proc.pid}/status`, 'utf8');
      const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
      peakRss = Math.max(peakRss, rss);
      peakFds = Math.max(peakFds, readdirSync(`/proc/${agent.proc.pid}/fd`).length);
    } catch {
      /* gone */
    }
  };
  const timer = setInterval(sample, 50);
  const pinger = (async () => {
    while (running) {
      const t = performance.now();
      try {
        await Promise.race([
          admin.call('system.ping'),
          sleep(5000).then(() => Promise.reject(new Error('timeout'))),
        ]);
        lat.push(performance.now() - t);
      } catch {
        lat.push(5000);
      }
      await sleep(20);
    }
  })();
  return async (): Promise<Measure> => {
    running = false;
    await pinger;
    clearInterval(timer);
    sample();
    const s = [...lat].sort((a, b) => a - b);
    return {
      peakRssMB: Math.round(peakRss),
      peakFds,
      pingP99Ms: Math.round((s[Math.floor(s.length * 0.99)] ?? 0) * 10) / 10,
      pingMaxMs: Math.round((s[s.length - 1] ?? 0) * 10) / 10,
      pings: s.length,
      alive: agent.proc.exitCode === null,
    };
  };
}

/** 2,000 auth.token.create pipelined, kill -9 on the last answer, restart: count audit records. */
async function killNine(): Promise<Record<string, unknown>> {
  const tmp = tempDir('calypso-abuse-');
  try {
    const a = await startAgentProcess({ prefix: tmp.dir, config: { log: { file: false } } });
    const c = await a.client();
    let acked = 0;
    await Promise.all(
      Array.from({ length: 2000 }, (_, i) =>
        c.call('auth.token.create', { name: `k${i}`, role: 'auditor' }).then(() => {
          acked++;
          if (acked === 2000) a.proc.kill('SIGKILL');
        }),
      ),
    );
    await a.kill9();
    const b = await startAgentProcess({ prefix: tmp.dir, config: { log: { file: false } } });
    const c2 = await b.client();
    const q = await c2.call<{ total: number }>('audit.query', {
      method: 'auth.token.create',
      outcome: 'ok',
      limit: 1,
    });
    const v = await c2.call<{ ok: boolean }>('audit.verify');
    c2.close();
    await b.stop();
    return { acknowledged: acked, audited: q.total, lost: Math.max(0, acked - q.total), verifyOk: v.ok };
  } finally {
    tmp.cleanup();
  }
}

export async function benchAbuse(): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  let allOk = true;
  // CALYPSO_ABUSE_ONLY=word runs the baseline and the attacks whose name contains it
  const only = process.env.CALYPSO_ABUSE_ONLY;
  for (const [name, attack] of Object.entries(ATTACKS)) {
    if (only && name !== 'baseline' && !name.includes(only)) continue;
    const tmp = tempDir('calypso-abuse-');
    chmodSync(tmp.dir, 0o755);
    const agent = await startAgentProcess({
      prefix: tmp.dir,
      config: { log: { file: false }, agent: { socket: { mode: '0666' } } },
      timeoutMs: 60_000,
    });
    try {
      const admin = await agent.client();
      const token = (
        await admin.call<{ token: string }>('auth.token.create', { name: 'attacker', role: 'auditor' })
      ).token;
      const stop = observe(agent, admin);
      const bounded = Promise.race([
        attack({ agent, token, prefix: tmp.dir }),
        sleep(30_000).then(() => ({ bounded: 'stopped at 30 s' })),
      ]);
      const extra = await bounded.catch((e: Error) => ({ attackError: e.message }));
      await sleep(500);
      const m = await stop();
      admin.close();
      const ok = m.alive && m.peakRssMB <= RSS_GOAL_MB && m.pingP99Ms <= P99_GOAL_MS;
      if (name !== 'baseline') allOk &&= ok;
      results[name] = { ...m, ...(extra ?? {}), goals: ok ? 'met' : 'MISSED' };
    } finally {
      if (agent.proc.exitCode === null) await agent.stop();
      tmp.cleanup();
    }
  }
  if (only) return results;
  const k = await killNine();
  allOk &&= k.lost === 0 && k.verifyOk === true;
  results['kill -9 after 2,000 acknowledged auth.token.create'] = k;
  Object.assign(results, await benchAbuseApp());
  const checks = await benchAbuseChecks();
  for (const r of Object.values(checks)) allOk &&= r.goals === 'met';
  Object.assign(results, checks);
  results.goals = `peak RSS ≤ ${RSS_GOAL_MB} MB, admin ping p99 ≤ ${P99_GOAL_MS} ms, no crash, nothing acknowledged lost, nothing escalated or leaked: ${allOk ? 'all met' : 'MISSED (see above)'}`;
  return results;
}

// `node --import tsx bench/abuse.ts` runs it alone
if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const r = await benchAbuse();
  for (const [key, v] of Object.entries(r)) process.stdout.write(`${key}\n  ${JSON.stringify(v)}\n`);
  process.exit(0);
}
