/**
 * Issue #15 items 4 and 5 (connection exhaustion before authentication; admins locked out)
 * on a real agent process, with peers running as other uids (SO_PEERCRED gives them role
 * none), and item 1's in-flight cap on the WebSocket (the same as the Unix socket's).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import pino from 'pino';
import WebSocket from 'ws';
import { AgentClient } from '../../rpc/client.js';
import { RpcCore } from '../../rpc/core.js';
import { defineMethod, Registry } from '../../rpc/registry.js';
import { UnixTransport } from '../../rpc/unix-transport.js';
import { WsTransport } from '../../rpc/ws-transport.js';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tmp = tempDir('calypso-conn-');
let agent: AgentProcess;
let admin: AgentClient;
const LIMITS = {
  maxConnections: 12,
  reservedForAdmin: 4,
  // this file is about the admins' reservation: the operators' and auditors' are checked in peers.test.ts
  reservedForOperator: 0,
  reservedForAuditor: 0,
  maxPerUid: 3,
  maxPerToken: 3,
  maxUnauthenticated: 8,
  handshakeTimeoutSec: 1,
};

before(async () => {
  chmodSync(tmp.dir, 0o755);
  agent = await startAgentProcess({
    prefix: tmp.dir,
    config: { log: { file: true }, agent: { socket: { mode: '0666' }, limits: LIMITS } },
    timeoutMs: 60_000,
  });
  admin = await agent.client();
});
after(async () => {
  admin?.close();
  assert.equal(agent.proc.exitCode, null, `the agent died: ${agent.stderr().slice(-1500)}`);
  assert.equal(await agent.stop(), 0);
  tmp.cleanup();
});

const fds = () => readdirSync(`/proc/${agent.proc.pid}/fd`).length;

/**
 * A peer running as `uid` that opens `n` connections and holds them; prints one JSON line:
 * for each connection, null when it is served (a ping answered) or the refusal reason.
 */
async function holdAs(uid: number, n: number): Promise<{ proc: ChildProcess; outcome: (string | null)[] }> {
  const script = path.join(tmp.dir, 'hold.mjs');
  writeFileSync(
    script,
    `import net from 'node:net';
const [sock, n] = [process.argv[2], Number(process.argv[3])];
const out = new Array(n).fill(undefined);
const held = [];
for (let i = 0; i < n; i++) {
  const s = net.createConnection(sock); held.push(s);
  s.on('error', () => {}); let buf = '';
  s.on('data', (d) => { buf += d; const l = buf.split('\\n')[0]; if (!buf.includes('\\n')) return;
    const m = JSON.parse(l); out[i] = m.error ? m.error.data.reason : null; });
  s.on('connect', () => s.write(JSON.stringify({ jsonrpc: '2.0', id: i, method: 'system.ping' }) + '\\n'));
  await new Promise((r) => setTimeout(r, 30));
}
const until = Date.now() + 5000;
while (out.some((o) => o === undefined) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
console.log(JSON.stringify(out));
setInterval(() => {}, 1000);`,
  );
  chmodSync(script, 0o644);
  const proc = spawn(process.execPath, [script, agent.socket, String(n)], {
    uid,
    gid: uid,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let text = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (d: string) => {
    text += d;
  });
  const until = Date.now() + 15_000;
  while (!text.includes('\n') && Date.now() < until) await sleep(20);
  return { proc, outcome: JSON.parse(text) as (string | null)[] };
}

async function stopPeer(p: ChildProcess) {
  if (p.exitCode === null) {
    p.kill('SIGKILL');
    await once(p, 'exit');
  }
}

describe('item 5: admins are never locked out', () => {
  it('Unix socket: a cap per uid, and the last slots reserved for admins', async () => {
    const peers: ChildProcess[] = [];
    try {
      const a = await holdAs(65534, 5);
      peers.push(a.proc);
      assert.deepEqual(a.outcome.slice(0, 3), [null, null, null]);
      assert.deepEqual(a.outcome.slice(3), [
        'too many connections from uid 65534 (at most 3)',
        'too many connections from uid 65534 (at most 3)',
      ]);
      const b = await holdAs(65533, 3);
      peers.push(b.proc);
      const c = await holdAs(65532, 3);
      peers.push(c.proc);
      // 12 slots, 4 reserved, the harness's client holds one: non-admins get 7
      const refused = [...b.outcome, ...c.outcome].filter((o) => o !== null);
      assert.deepEqual(refused, [
        'too many connections: the last 4 are reserved for administrators',
        'too many connections: the last 4 are reserved for administrators',
      ]);
      // root still connects and acts, several times over
      const roots = await Promise.all([1, 2, 3].map(() => agent.client()));
      for (const r of roots) assert.equal((await r.call<{ role: string }>('auth.whoami')).role, 'admin');
      const tok = await roots[0]!.call<{ token: string }>('auth.token.create', {
        name: 'slot',
        role: 'auditor',
      });
      assert.match(tok.token, /^cal_/);
      for (const r of roots) r.close();
    } finally {
      for (const p of peers) await stopPeer(p);
    }
  });

  it('WebSocket: a cap per token, and the last slots reserved for admin tokens', async () => {
    const mk = async (role: string, name: string) =>
      (await admin.call<{ token: string }>('auth.token.create', { name, role })).token;
    const aud = await Promise.all([1, 2, 3].map((i) => mk('auditor', `aud${i}`)));
    const adminTok = await mk('admin', 'root-ws');
    const open: AgentClient[] = [];
    try {
      for (let i = 0; i < 3; i++) open.push(await AgentClient.connectWs(agent.wsUrl!, aud[0]));
      await assert.rejects(
        AgentClient.connectWs(agent.wsUrl!, aud[0]),
        /HTTP 503: too many connections with this token \(at most 3\)/,
      );
      for (let i = 0; i < 3; i++) open.push(await AgentClient.connectWs(agent.wsUrl!, aud[1]));
      for (let i = 0; i < 2; i++) open.push(await AgentClient.connectWs(agent.wsUrl!, aud[2]));
      await assert.rejects(AgentClient.connectWs(agent.wsUrl!, aud[2]), /reserved for admin tokens/);
      const root = await AgentClient.connectWs(agent.wsUrl!, adminTok);
      assert.equal((await root.call<{ role: string }>('auth.whoami')).role, 'admin');
      open.push(root);
    } finally {
      for (const c of open) c.close();
    }
  });
});

describe('item 4: connections before authentication', () => {
  it('raw TCP connections without a token are capped and closed after the handshake time', async () => {
    await sleep(300);
    const base = fds();
    const { port } = new URL(agent.wsUrl!);
    const raw: net.Socket[] = [];
    const closedAt: number[] = [];
    const started = Date.now();
    for (let i = 0; i < 60; i++) {
      const s = net.createConnection({ host: '127.0.0.1', port: Number(port) });
      s.on('error', () => {});
      s.on('close', () => closedAt.push(Date.now() - started));
      raw.push(s);
    }
    await Promise.all(raw.map((s) => once(s, 'connect').catch(() => {})));
    await sleep(200);
    const during = fds();
    assert.ok(
      during - base <= LIMITS.maxUnauthenticated + 2,
      `${during - base} more descriptors for 60 raw connections`,
    );
    // the Unix socket keeps answering whatever happens on TCP
    assert.equal(typeof (await admin.call<{ version: string }>('system.ping')).version, 'string');
    await sleep(1500);
    assert.equal(closedAt.length, 60, 'every raw connection was closed');
    assert.ok(fds() - base <= 2);
    for (const s of raw) s.destroy();
  });

  it('failed token attempts are rate-limited per address (HTTP 429) and logged', async () => {
    let last = '';
    for (let i = 0; i < 35; i++) {
      last = await AgentClient.connectWs(agent.wsUrl!, `cal_00000000000${i % 10}_bad`).then(
        () => 'open',
        (e: Error) => e.message,
      );
    }
    assert.match(last, /HTTP 429: too many failed token attempts/);
    const logDir = path.join(tmp.dir, 'var/log/calypso');
    const logged = readdirSync(logDir)
      .map((f) => readFileSync(path.join(logDir, f), 'utf8'))
      .join('');
    assert.match(logged, /failed token attempt from address 127\.0\.0\.1/);
    assert.match(logged, /failed token attempts from address 127\.0\.0\.1 in a minute/);
    // (current.log links to the live file: lines are counted once)
    const lines = new Set(logged.split('\n').filter((l) => l.includes('failed token attempt')));
    assert.ok(lines.size <= 3, `a flood of bad tokens is not a flood of log lines: ${[...lines].join('\n')}`);
  });

  it('issue #28 item 9: valid tokens are never limited; failures are counted per token prefix too', async () => {
    // the address is over its limit (the test above): valid tokens from it still get in
    const adminTok = (
      await admin.call<{ token: string }>('auth.token.create', { name: 'nine', role: 'admin' })
    ).token;
    const bad = await AgentClient.connectWs(agent.wsUrl!, 'cal_0123456789ab_x').catch(
      (e: Error) => e.message,
    );
    assert.match(String(bad), /HTTP 429/, 'the address is limited');
    const ok = await AgentClient.connectWs(agent.wsUrl!, adminTok);
    assert.equal((await ok.call<{ role: string }>('auth.whoami')).role, 'admin');
    ok.close();
    const { port } = new URL(agent.wsUrl!);
    const metrics = await new Promise<number>((resolve) => {
      const r = http.get(
        {
          host: '127.0.0.1',
          port: Number(port),
          path: '/metrics',
          headers: { authorization: `Bearer ${adminTok}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      r.on('error', () => resolve(0));
    });
    assert.equal(metrics, 200, 'Prometheus with a valid token is served');
    // one token prefix guessed from rotating loopback addresses: limited by its prefix
    const guess = `cal_${'a'.repeat(12)}_${'b'.repeat(32)}`;
    const status = (i: number) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(agent.wsUrl!, {
          headers: { authorization: `Bearer ${guess}` },
          localAddress: `127.0.${Math.floor(i / 200) + 1}.${(i % 200) + 2}`,
        });
        ws.on('error', () => resolve(0));
        ws.once('unexpected-response', (_q, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
      });
    const codes: number[] = [];
    for (let i = 0; i < 34; i++) codes.push(await status(i));
    assert.deepEqual(codes.slice(0, 30), new Array(30).fill(401));
    assert.deepEqual(codes.slice(30), [429, 429, 429, 429]);
  });
});

describe('item 1: the WebSocket has the Unix socket’s in-flight cap', () => {
  let inFlight = 0;
  let peak = 0;
  let release: () => void = () => {};
  let gate = new Promise<void>((r) => {
    release = r;
  });
  const registry = new Registry();
  registry.register([
    defineMethod({
      name: 'test.wait',
      summary: 'waits for the gate (test only)',
      params: Type.Object({}),
      result: Type.Null(),
      role: 'public',
      mutating: false,
      handler: async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await gate;
        inFlight--;
        return null;
      },
    }),
  ]);
  const core = new RpcCore({
    registry,
    limits: { maxMessageBytes: 65536, maxBatch: 10, maxDepth: 16 },
    audit: { append: () => undefined, committed: () => Promise.resolve() },
    jobs: { start: () => 'x' },
    log: pino({ level: 'silent' }),
  });
  const common = {
    core,
    log: pino({ level: 'silent' }),
    maxConnections: 4,
    maxMessageBytes: 65536,
    maxBufferedBytes: 1 << 20,
    idleTimeoutMs: 0,
    maxInflight: 4,
  };
  const dir = tempDir();

  for (const kind of ['unix', 'websocket'] as const) {
    it(`${kind}: 100 pipelined calls run at most 4 at a time, and all are answered`, async () => {
      inFlight = 0;
      peak = 0;
      gate = new Promise<void>((r) => {
        release = r;
      });
      const identity = { user: 't', role: 'admin' as const, transport: kind };
      let client: AgentClient;
      let stop: () => Promise<void>;
      if (kind === 'unix') {
        const u = new UnixTransport({
          ...common,
          path: path.join(dir.dir, 's.sock'),
          mode: 0o600,
          identify: () => identity,
        });
        await u.listen();
        client = await AgentClient.connectUnix(path.join(dir.dir, 's.sock'));
        stop = () => u.close();
      } else {
        const w = new WsTransport({
          ...common,
          host: '127.0.0.1',
          port: 0,
          tls: 'off',
          tlsDir: dir.dir,
          authenticate: (t) => (t === 'ok' ? identity : undefined),
        });
        await w.listen();
        client = await AgentClient.connectWs(w.address!.url, 'ok');
        stop = () => w.close();
      }
      try {
        const calls = Array.from({ length: 100 }, () => client.call('test.wait'));
        await sleep(300);
        assert.equal(peak, 4, `${peak} calls in flight at once`);
        const next = () => {
          release();
          gate = Promise.resolve();
        };
        next();
        await Promise.all(calls);
        assert.equal(peak, 4);
      } finally {
        client.close();
        await stop();
      }
    });
  }
  after(() => dir.cleanup());
});
