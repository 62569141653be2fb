/**
 * The attacks of issue #15 on the agent's transports (bench/abuse.ts runs each against a fresh
 * agent and measures it): amplification, floods, slot exhaustion, child-process storms, parse
 * cost. Each is bounded in count and in time, on 127.0.0.1 and the Unix socket only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { AgentClient } from '../rpc/client.js';
import { peerAs, stopPeer } from '../test/abuse/peer-script.js';
import type { AgentProcess } from '../test/helpers/agent.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type Attack = (ctx: {
  agent: AgentProcess;
  token: string;
  prefix: string;
}) => Promise<Record<string, unknown> | undefined>;

/** Raw NDJSON connection that never reads. */
async function unread(socket: string): Promise<net.Socket> {
  const s = net.createConnection(socket);
  s.on('error', () => {});
  await once(s, 'connect');
  s.pause();
  return s;
}

const discoverBatch = JSON.stringify(
  Array.from({ length: 100 }, (_, i) => ({ jsonrpc: '2.0', method: 'rpc.discover', id: i })),
);

const root = () => process.getuid?.() === 0;

/** A batch of rpc.discover whose answer is just under the 8 MiB batch limit. */
const bigDiscoverBatch = `${JSON.stringify(
  Array.from({ length: 9 }, (_, i) => ({ jsonrpc: '2.0', method: 'rpc.discover', id: i })),
)}\n`;

export const ATTACKS: Record<string, Attack> = {
  baseline: async () => {
    await sleep(2000);
    return undefined;
  },

  'amplification-unix (40 non-reading peers × rpc.discover batches)': async ({ agent }) => {
    const socks = await Promise.all(Array.from({ length: 40 }, () => unread(agent.socket)));
    for (const s of socks) for (let i = 0; i < 5; i++) s.write(`${discoverBatch}\n`);
    for (const s of socks)
      for (let i = 0; i < 64; i++)
        s.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'rpc.discover', id: i })}\n`);
    await sleep(4000);
    const dropped = socks.filter((s) => s.destroyed || s.readableEnded).length;
    for (const s of socks) s.destroy();
    return { peers: socks.length, dropped };
  },

  'amplification-ws (auditor token, 3,000 rpc.discover in flight, never reading)': async ({
    agent,
    token,
  }) => {
    const { default: WebSocket } = await import('ws');
    const clients = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const ws = new WebSocket(agent.wsUrl!, { headers: { authorization: `Bearer ${token}` } });
        ws.on('error', () => {});
        await once(ws, 'open');
        ws.pause();
        return ws;
      }),
    );
    for (const ws of clients)
      for (let i = 0; i < 750; i++)
        ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'rpc.discover', id: i }));
    await sleep(4000);
    for (const ws of clients) ws.terminate();
    return undefined;
  },

  'audit-flood (denied calls with 1 MB params, then audit.query 1000 and verify)': async ({
    agent,
    token,
  }) => {
    const c = await AgentClient.connectWs(agent.wsUrl!, token);
    const big = 'x'.repeat(1024 * 1024);
    const until = Date.now() + 4000;
    let sent = 0;
    while (Date.now() < until && sent < 300) {
      await Promise.all(
        Array.from({ length: 10 }, () =>
          c.call('auth.token.create', { name: big, role: 'admin' }).catch(() => {}),
        ),
      );
      sent += 10;
    }
    const q = await c.call<{ items: unknown[] }>('audit.query', { limit: 1000 });
    const v = await c.call<{ ok: boolean }>('audit.verify');
    c.close();
    return { denied: sent, queryItems: q.items.length, verifyOk: v.ok };
  },

  'unauthenticated TCP (1,500 raw connections to the WebSocket port)': async ({ agent }) => {
    const { port } = new URL(agent.wsUrl!);
    const socks: net.Socket[] = [];
    for (let i = 0; i < 1500; i++) {
      const s = net.createConnection({ host: '127.0.0.1', port: Number(port) });
      s.on('error', () => {});
      socks.push(s);
      if (i % 100 === 99) await sleep(10);
    }
    await sleep(3000);
    const open = socks.filter((s) => !s.destroyed && s.readyState === 'open').length;
    for (const s of socks) s.destroy();
    return { stillOpenAfter3s: open };
  },

  'slot exhaustion (600 Unix connections from uid 65534, 300 auditor WebSockets)': async ({
    agent,
    token,
    prefix,
  }) => {
    let peer: ChildProcess | undefined;
    if (process.getuid?.() === 0) {
      const script = path.join(prefix, 'hold.mjs');
      writeFileSync(
        script,
        `import net from 'node:net';
for (let i = 0; i < 600; i++) { const s = net.createConnection(process.argv[2]); s.on('error', () => {}); }
setInterval(() => {}, 1000);`,
      );
      chmodSync(script, 0o644);
      peer = spawn(process.execPath, [script, agent.socket], { uid: 65534, gid: 65534, stdio: 'ignore' });
    }
    const { default: WebSocket } = await import('ws');
    const wss = Array.from({ length: 300 }, () => {
      const ws = new WebSocket(agent.wsUrl!, { headers: { authorization: `Bearer ${token}` } });
      ws.on('error', () => {});
      ws.on('unexpected-response', () => {});
      return ws;
    });
    await sleep(3000);
    // root connects and acts while the slots are full
    const root = await AgentClient.connectUnix(agent.socket);
    const who = await root.call<{ role: string }>('auth.whoami');
    root.close();
    const openWs = wss.filter((w) => w.readyState === w.OPEN).length;
    for (const w of wss) w.terminate();
    if (peer) {
      peer.kill('SIGKILL');
      await once(peer, 'exit');
    }
    return {
      rootRole: who.role,
      auditorWebSocketsAccepted: openWs,
      uid65534: peer ? 'ran' : 'skipped (not root)',
    };
  },

  'child-process storm (auditor, batched system.info)': async ({ agent, token }) => {
    const clients = await Promise.all(
      Array.from({ length: 10 }, () => AgentClient.connectWs(agent.wsUrl!, token)),
    );
    const batch = Array.from({ length: 100 }, (_, i) => ({
      jsonrpc: '2.0' as const,
      method: 'system.info',
      id: i + 1,
    }));
    const until = Date.now() + 4000;
    let batches = 0;
    await Promise.all(
      clients.map(async (c) => {
        while (Date.now() < until) {
          await c.batch(batch);
          batches++;
        }
      }),
    );
    for (const c of clients) c.close();
    return { batches };
  },

  // issue #28: per-uid totals, many uids, WebSockets, plain HTTP, the runner, audit scans
  'discover first answers, one uid × 32 non-reading connections': async ({ agent, prefix }) => {
    if (!root()) return { skipped: 'not root' };
    const { proc, report } = await peerAs(prefix, agent.socket, 65534, 32, bigDiscoverBatch, 3000);
    await stopPeer(proc);
    return {
      served: report.filter((r) => r.lines === 1).length,
      closed: report.filter((r) => r.closed).length,
    };
  },

  'discover first answers, four uids × 32 non-reading connections': async ({ agent, prefix }) => {
    if (!root()) return { skipped: 'not root' };
    const peers = await Promise.all(
      [65534, 65531, 65530, 65529].map((uid) =>
        peerAs(prefix, agent.socket, uid, 32, bigDiscoverBatch, 3000),
      ),
    );
    for (const p of peers) await stopPeer(p.proc);
    const all = peers.flatMap((p) => p.report);
    return { served: all.filter((r) => r.lines === 1).length, closed: all.filter((r) => r.closed).length };
  },

  'discover, one auditor token over 32 non-reading WebSockets': async ({ agent, token }) => {
    const { default: WebSocket } = await import('ws');
    const clients = await Promise.all(
      Array.from({ length: 32 }, async () => {
        const ws = new WebSocket(agent.wsUrl!, { headers: { authorization: `Bearer ${token}` } });
        ws.on('error', () => {});
        await once(ws, 'open');
        ws.pause();
        return ws;
      }),
    );
    for (const ws of clients) {
      ws.send(bigDiscoverBatch.trim());
      for (let i = 0; i < 64; i++) ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'rpc.discover', id: i }));
    }
    await sleep(4000);
    const closed = clients.filter((w) => w.readyState !== w.OPEN).length;
    for (const ws of clients) ws.terminate();
    return { closed };
  },

  '/metrics keep-alive flood (auditor token, 2,000 connections, 64 scrapers)': async ({ agent, token }) => {
    const http = await import('node:http');
    const { port } = new URL(agent.wsUrl!);
    const ka = new http.Agent({ keepAlive: true, maxSockets: 2000 });
    const codes: Record<string, number> = {};
    const get = () =>
      new Promise<void>((resolve) => {
        const r = http.get(
          {
            host: '127.0.0.1',
            port: Number(port),
            path: '/metrics',
            agent: ka,
            headers: { authorization: `Bearer ${token}` },
          },
          (res) => {
            codes[res.statusCode ?? 0] = (codes[res.statusCode ?? 0] ?? 0) + 1;
            res.resume();
            res.on('end', () => resolve());
          },
        );
        r.on('error', () => resolve());
      });
    await Promise.all(Array.from({ length: 2000 }, get));
    const until = Date.now() + 4000;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (Date.now() < until) await get();
      }),
    );
    ka.destroy();
    return { codes };
  },

  'runner: auditor pipelining iscsi.status (32 WebSockets × 64 in flight × batches of 100)': async ({
    agent,
    token,
  }) => {
    const clients = await Promise.all(
      Array.from({ length: 32 }, () => AgentClient.connectWs(agent.wsUrl!, token)),
    );
    const batch = Array.from({ length: 100 }, (_, i) => ({
      jsonrpc: '2.0' as const,
      method: 'iscsi.status',
      id: i + 1,
    }));
    const until = Date.now() + 4000;
    let batches = 0;
    const flood = clients.map(async (c) => {
      while (Date.now() < until) {
        await Promise.all(Array.from({ length: 64 }, () => c.batch(batch).catch(() => {})));
        batches++;
      }
    });
    await sleep(1000);
    const admin = await AgentClient.connectUnix(agent.socket);
    const t = performance.now();
    await admin.call('iscsi.status').catch(() => {});
    const adminMs = Math.round(performance.now() - t);
    admin.close();
    await Promise.all(flood);
    for (const c of clients) c.close();
    return { batches, adminIscsiStatusMs: adminMs };
  },

  'audit scans (auditor batches of filtered audit.query and audit.verify over 20,000 records)': async ({
    agent,
    token,
  }) => {
    const admin = await AgentClient.connectUnix(agent.socket);
    for (let i = 0; i < 20; i++)
      await Promise.all(
        Array.from({ length: 1000 }, (_, j) =>
          admin.call('auth.token.create', { name: `s${i}-${j}`, role: 'auditor', dryRun: true }),
        ),
      );
    admin.close();
    const c = await AgentClient.connectWs(agent.wsUrl!, token);
    const until = Date.now() + 5000;
    let scans = 0;
    while (Date.now() < until) {
      await c.batch([
        ...Array.from({ length: 20 }, (_, i) => ({
          jsonrpc: '2.0' as const,
          method: 'audit.query',
          params: { user: 'nobody', limit: 10 },
          id: i + 1,
        })),
        { jsonrpc: '2.0' as const, method: 'audit.verify', id: 99 },
      ]);
      scans += 21;
    }
    c.close();
    return { scans };
  },

  'long method names (30 lines of 4 MB, uid 65534 and an auditor token)': async ({
    agent,
    token,
    prefix,
  }) => {
    const line = `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'x'.repeat(4 * 1024 * 1024 - 100) })}\n`;
    let peer: { proc: ChildProcess } | undefined;
    if (root()) peer = await peerAs(prefix, agent.socket, 65534, 30, line);
    const c = await AgentClient.connectWs(agent.wsUrl!, token);
    const t = performance.now();
    await Promise.all(
      Array.from({ length: 30 }, () => c.call('x'.repeat(4 * 1024 * 1024 - 100)).catch(() => {})),
    );
    const ms = Math.round(performance.now() - t);
    c.close();
    if (peer) await stopPeer(peer.proc);
    return { auditor30CallsMs: ms };
  },

  'denied 4 MB params from role none (uid 65534, 30 connections)': async ({ agent, prefix }) => {
    if (!root()) return { skipped: 'not root' };
    const line = `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'auth.token.create', params: { name: 'x'.repeat(4 * 1024 * 1024 - 200), role: 'admin' } })}\n`;
    const { proc, report } = await peerAs(prefix, agent.socket, 65534, 30, line);
    await stopPeer(proc);
    return { refusedBySize: report.filter((r) => r.reason?.startsWith('message exceeds')).length };
  },

  'failed tokens from 127.0.0.1, then admin and auditor tokens from the same address': async ({
    agent,
    token,
  }) => {
    for (let i = 0; i < 40; i++)
      await AgentClient.connectWs(agent.wsUrl!, `cal_${'0'.repeat(12)}_bad${i}`).catch(() => {});
    const ok = await AgentClient.connectWs(agent.wsUrl!, token).then(
      (c) => {
        c.close();
        return 'accepted';
      },
      (e: Error) => e.message,
    );
    return { validTokenAfterFlood: ok };
  },

  'slots: 9 role-none uids × 32 Unix connections, then an auditor WebSocket and root': async ({
    agent,
    token,
    prefix,
  }) => {
    if (!root()) return { skipped: 'not root' };
    const ping = `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'system.ping' })}\n`;
    const peers = await Promise.all(
      Array.from({ length: 9 }, (_, u) => peerAs(prefix, agent.socket, 65520 + u, 32, ping)),
    );
    const auditor = await AgentClient.connectWs(agent.wsUrl!, token).then(
      (c) => {
        c.close();
        return 'accepted';
      },
      (e: Error) => e.message,
    );
    for (const p of peers) await stopPeer(p.proc);
    const refused = peers.flatMap((p) => p.report).filter((r) => r.reason !== null).length;
    return { roleNoneRefused: refused, auditor };
  },

  'parse cost (20 lines of 3 MB nesting)': async ({ agent }) => {
    const line = `${'['.repeat(1_500_000)}${']'.repeat(1_500_000)}\n`;
    const socks = await Promise.all(Array.from({ length: 20 }, () => unread(agent.socket)));
    for (const s of socks) s.write(line);
    await sleep(3000);
    for (const s of socks) s.destroy();
    return undefined;
  },
};
