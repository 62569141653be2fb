/**
 * Issue #28 item 3 on a real agent process: plain HTTP on the agent's listener (/metrics) is
 * held to the same connection limits as WebSockets, idle keep-alive connections close, scrapes
 * are rate-limited per token and concurrent scrapes share one rendered text.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { AgentClient } from '../../rpc/client.js';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';

let agent: AgentProcess;
let admin: AgentClient;
let port = 0;

before(async () => {
  agent = await startAgentProcess({
    config: {
      log: { file: false },
      agent: { limits: { maxPerToken: 4, httpKeepAliveSec: 1 } },
      metrics: { scrapesPerMinute: 20, cacheMs: 1000 },
    } as never,
    timeoutMs: 60_000,
  });
  admin = await agent.client();
  port = Number(new URL(agent.wsUrl!).port);
});
after(async () => {
  admin?.close();
  assert.equal(agent.proc.exitCode, null, `the agent died: ${agent.stderr().slice(-1500)}`);
  assert.equal(await agent.stop(), 0);
  agent.cleanup();
});

const tokenFor = async (name: string) =>
  (await admin.call<{ token: string }>('auth.token.create', { name, role: 'auditor' })).token;

function scrape(
  token: string,
  httpAgent: http.Agent,
  to = port,
): Promise<{ status: number; body: string; socket: import('node:net').Socket }> {
  return new Promise((resolve, reject) => {
    const r = http.get(
      {
        host: '127.0.0.1',
        port: to,
        path: '/metrics',
        agent: httpAgent,
        headers: { authorization: `Bearer ${token}` },
      },
      (res) => {
        let body = '';
        const socket = res.socket;
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, socket }));
      },
    );
    r.on('error', reject);
  });
}

describe('item 3: /metrics keep-alive and scrape limits', () => {
  it('keep-alive connections count against the per-token cap', async () => {
    // an agent of its own whose idle keep-alive connections stay open for the whole test: with
    // the 1 s of the others, on a loaded machine the first connections served were closed for
    // idleness before the last ones arrived, and up to 7 of 10 were served
    const held = await startAgentProcess({
      config: {
        log: { file: false },
        agent: { limits: { maxPerToken: 4, httpKeepAliveSec: 60 } },
        metrics: { scrapesPerMinute: 20, cacheMs: 1000 },
      } as never,
      timeoutMs: 60_000,
    });
    const heldAdmin = await held.client();
    const token = (
      await heldAdmin.call<{ token: string }>('auth.token.create', { name: 'scraper-conns', role: 'auditor' })
    ).token;
    const heldPort = Number(new URL(held.wsUrl!).port);
    // ten keep-alive clients with one connection each: ten connections held at once (one shared
    // agent may send a later request over a connection an earlier answer already freed)
    const agents = Array.from({ length: 10 }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    try {
      const res = await Promise.all(agents.map((ka) => scrape(token, ka, heldPort)));
      const codes = res.map((r) => r.status).sort();
      assert.equal(codes.filter((c) => c === 200).length, 4, codes.join(','));
      assert.equal(codes.filter((c) => c === 503).length, 6, codes.join(','));
      assert.match(
        res.find((r) => r.status === 503)!.body,
        /too many connections with this token \(at most 4\)/,
      );
    } finally {
      for (const ka of agents) ka.destroy();
      heldAdmin.close();
      assert.equal(await held.stop(), 0);
      held.cleanup();
    }
  });

  it('an idle keep-alive connection is closed by the agent', async () => {
    const token = await tokenFor('scraper-idle');
    const ka = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const r = await scrape(token, ka);
      assert.equal(r.status, 200);
      const closed = new Promise<number>((resolve) => {
        const t0 = Date.now();
        r.socket.once('close', () => resolve(Date.now() - t0));
      });
      const ms = await Promise.race([closed, new Promise<number>((res) => setTimeout(() => res(-1), 4000))]);
      assert.ok(ms >= 0 && ms < 3000, `the idle connection was closed after ${ms} ms`);
    } finally {
      ka.destroy();
    }
  });

  it('scrapes are rate-limited per token; concurrent scrapes share one rendered text', async () => {
    const token = await tokenFor('scraper-rate');
    const ka = new http.Agent({ keepAlive: true, maxSockets: 2 });
    try {
      const first = await Promise.all(Array.from({ length: 8 }, () => scrape(token, ka)));
      assert.deepEqual(
        first.map((r) => r.status),
        new Array(8).fill(200),
      );
      assert.equal(new Set(first.map((r) => r.body)).size, 1, 'one rendering served all eight');
      const rest = [];
      for (let i = 0; i < 14; i++) rest.push((await scrape(token, ka)).status);
      assert.deepEqual(rest.slice(0, 12), new Array(12).fill(200));
      assert.deepEqual(rest.slice(12), [429, 429]);
      // another token is not affected
      assert.equal((await scrape(await tokenFor('scraper-other'), ka)).status, 200);
    } finally {
      ka.destroy();
    }
  });
});
