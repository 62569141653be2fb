/**
 * The agent's limits, each with a clear error, on a real agent process configured with small
 * values: message size, batch length, nesting depth, connections, idle time and backpressure
 * on slow readers (the slow reader is dropped, everyone else keeps being served).
 */
// test-runner: alone (idle and slow-reader limits of 1 s, a flood answered while another client is served within 15 s)
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { AgentClient } from '../../rpc/client.js';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';

type Msg = Record<string, unknown>;
type Limits = Partial<Record<'maxMessageBytes' | 'maxBatch' | 'maxDepth' | 'maxConnections', number>> &
  Partial<Record<'idleTimeoutSec' | 'maxBufferedBytes', number>>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw connection that records what it receives and when it was closed. */
interface Raw {
  msgs: unknown[];
  send(text: string): void;
  /** the first received message matching pred */
  waitFor(pred: (m: Msg) => boolean, timeoutMs?: number): Promise<Msg>;
  closed: Promise<number>;
  isClosed(): boolean;
  close(): void;
}

function collect(push: (fn: (m: unknown) => void) => void): Pick<Raw, 'msgs' | 'waitFor'> {
  const msgs: unknown[] = [];
  const waiters = new Set<() => void>();
  push((m) => {
    msgs.push(m);
    for (const w of waiters) w();
  });
  const waitFor = (pred: (m: Msg) => boolean, timeoutMs = 5000) =>
    new Promise<Msg>((resolve, reject) => {
      const check = () => {
        const hit = msgs.find((m) => !!m && typeof m === 'object' && !Array.isArray(m) && pred(m as Msg));
        if (!hit) return;
        waiters.delete(check);
        clearTimeout(t);
        resolve(hit as Msg);
      };
      const t = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching message in ${timeoutMs} ms: ${JSON.stringify(msgs).slice(0, 300)}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { msgs, waitFor };
}

async function rawUnix(socketPath: string): Promise<Raw & { sock: net.Socket }> {
  const sock = net.createConnection(socketPath);
  sock.on('error', () => {}); // a reset by the agent is one of the outcomes under test
  await once(sock, 'connect');
  const started = Date.now();
  // not events.once: it rejects on 'error', and a reset by the agent is a close like any other
  const closed = new Promise<number>((resolve) => sock.once('close', () => resolve(Date.now() - started)));
  let done = false;
  void closed.then(() => (done = true));
  let buf = '';
  const c = collect((push) => {
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
    });
  });
  return {
    ...c,
    sock,
    send: (t) => sock.write(`${t}\n`),
    closed,
    isClosed: () => done,
    close: () => sock.destroy(),
  };
}

async function rawWs(
  url: string,
  token: string,
): Promise<Raw & { ws: WebSocket; closeCode: Promise<number> }> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  ws.on('error', () => {});
  await once(ws, 'open');
  const started = Date.now();
  const closeCode = once(ws, 'close').then(([code]) => code as number);
  const closed = closeCode.then(() => Date.now() - started);
  let done = false;
  void closed.then(() => (done = true));
  const c = collect((push) => ws.on('message', (d) => push(JSON.parse(d.toString()))));
  return {
    ...c,
    ws,
    closeCode,
    send: (t) => ws.send(t),
    closed,
    isClosed: () => done,
    close: () => ws.terminate(),
  };
}

const req = (method: string, params: unknown, id: string | number) =>
  JSON.stringify({ jsonrpc: '2.0', method, params, id });
const byId = (id: unknown) => (m: Msg) => m.id === id;
const limitError = (reason: string) => ({
  jsonrpc: '2.0',
  id: null,
  error: { code: -32600, message: 'Invalid Request', data: { kind: 'limit', reason } },
});

async function agentWith(
  limits: Limits,
): Promise<{ agent: AgentProcess; token: string; client: AgentClient }> {
  const agent = await startAgentProcess({
    config: { log: { file: false }, agent: { limits } },
    timeoutMs: 60_000,
  });
  const client = await agent.client();
  const { token } = await client.call<{ token: string }>('auth.token.create', {
    name: 'limits',
    role: 'admin',
  });
  return { agent, token, client };
}

async function stopAgent(a: { agent: AgentProcess; client: AgentClient } | undefined) {
  if (!a) return;
  a.client.close();
  assert.equal(a.agent.proc.exitCode, null, `the agent died: ${a.agent.stderr().slice(-1500)}`);
  assert.equal(await a.agent.stop(), 0);
  a.agent.cleanup();
}

type Started = Awaited<ReturnType<typeof agentWith>>;
const MAX = 16 * 1024;
const MAX_BUFFERED = 64 * 1024;
// Three agents with different limits, started together: each start costs seconds under tsx.
let started: PromiseSettledResult<Started>[] = [];
before(async () => {
  started = await Promise.allSettled([
    agentWith({ maxMessageBytes: MAX, maxBatch: 5, maxDepth: 8 }),
    // the harness's own client counts as one connection and stays open
    agentWith({ maxConnections: 4 }),
    agentWith({ idleTimeoutSec: 1, maxBufferedBytes: MAX_BUFFERED }),
  ]);
  for (const r of started) if (r.status === 'rejected') throw r.reason;
});
after(async () => {
  for (const r of started) if (r.status === 'fulfilled') await stopAgent(r.value);
});
const agentNo = (i: number): Started => {
  const r = started[i];
  assert.ok(r?.status === 'fulfilled', 'agent started');
  return r.value;
};

describe('message size, batch length and nesting depth', () => {
  let a: Started;
  before(() => {
    a = agentNo(0);
  });

  it('Unix: a line just under the limit is served; an over-long line gets one limit error, then close', async () => {
    const c = await rawUnix(a.agent.socket);
    const pad = (n: number) => req('system.ping', { pad: 'x'.repeat(n) }, 'p');
    const fits = pad(MAX - 100);
    assert.ok(Buffer.byteLength(fits) <= MAX);
    c.send(fits);
    assert.equal(((await c.waitFor(byId('p'))).error as Msg).code, -32602, 'parsed and validated: it fit');
    c.send(pad(MAX + 10)); // the whole line in one write, newline included
    c.send(req('system.ping', {}, 'after')); // never read: the connection is closed first
    await c.closed;
    const limits = c.msgs.filter((m) => (m as Msg).id === null);
    assert.deepEqual(limits, [limitError(`message exceeds ${MAX} bytes`)]);
    assert.ok(!c.msgs.some((m) => (m as Msg).id === 'after'));
    // counted in bytes, not characters: 6,000 '€' are 18,000 bytes
    const m = await rawUnix(a.agent.socket);
    m.send(req('system.ping', { pad: '€'.repeat(6000) }, 'euro'));
    await m.closed;
    assert.deepEqual(m.msgs, [limitError(`message exceeds ${MAX} bytes`)]);
    // a line that never ends is cut off too
    const s = await rawUnix(a.agent.socket);
    s.sock.write('['.repeat(MAX * 2));
    const ms = await s.closed;
    assert.deepEqual(s.msgs, [limitError(`message exceeds ${MAX} bytes`)]);
    assert.ok(ms < 3000, `closed after ${ms} ms`);
  });

  it('WebSocket: an over-limit message gets a limit error and the connection stays usable', async () => {
    const c = await rawWs(a.agent.wsUrl!, a.token);
    c.send(req('system.ping', { pad: 'x'.repeat(MAX + 10) }, 'big'));
    assert.deepEqual(await c.waitFor((m) => m.id === null), limitError(`message exceeds ${MAX} bytes`));
    c.send(req('system.ping', {}, 'ok'));
    assert.ok('result' in (await c.waitFor(byId('ok'))));
    // far beyond the limit the frame is not even buffered: close code 1009 (message too big)
    c.send('x'.repeat(MAX * 3));
    assert.equal(await c.closeCode, 1009);
  });

  it('batch length: more than maxBatch is one limit error; maxBatch itself is served', async () => {
    const c = await rawUnix(a.agent.socket);
    const batch = (n: number, tag: string) =>
      JSON.stringify(
        Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', method: 'system.ping', id: `${tag}${i}` })),
      );
    c.send(batch(6, 'big'));
    c.send(batch(5, 'ok'));
    await c.waitFor(byId(null));
    const deadline = Date.now() + 5000;
    while (!c.msgs.some(Array.isArray) && Date.now() < deadline) await sleep(10);
    const arr = c.msgs.find(Array.isArray) as Msg[];
    assert.deepEqual(
      arr.map((r) => r.id),
      ['ok0', 'ok1', 'ok2', 'ok3', 'ok4'],
    );
    assert.deepEqual(
      c.msgs.filter((m) => !Array.isArray(m)),
      [limitError('batch longer than 5')],
    );
    c.close();
  });

  it('nesting depth: deeper than maxDepth is a limit error; exactly maxDepth is parsed normally', async () => {
    const c = await rawUnix(a.agent.socket);
    // the request object is level 1; nested(n) as its params spans levels 2 to n + 1
    const nested = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    c.send(`{"jsonrpc":"2.0","method":"system.ping","id":"d8","params":${nested(7)}}`);
    const ok = await c.waitFor(byId('d8'));
    assert.equal((ok.error as Msg).code, -32602, 'depth 8 reaches params validation');
    c.send(`{"jsonrpc":"2.0","method":"system.ping","id":"d9","params":${nested(8)}}`);
    assert.deepEqual(await c.waitFor(byId(null)), limitError('nesting deeper than 8'));
    c.send(`${'['.repeat(9)}${']'.repeat(9)}`);
    c.send(req('system.ping', {}, 'still'));
    assert.ok('result' in (await c.waitFor(byId('still'))), 'the connection stays usable');
    assert.equal(c.msgs.filter((m) => (m as Msg).id === null).length, 2);
    c.close();
  });
});

describe('connections', () => {
  let a: Started;
  before(() => {
    a = agentNo(1);
  });

  it('beyond maxConnections: one limit error line, then the connection is closed', async () => {
    await sleep(200); // let the readiness probe's connection be gone
    const open: Awaited<ReturnType<typeof rawUnix>>[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await rawUnix(a.agent.socket);
      c.send(req('system.ping', {}, i));
      assert.ok('result' in (await c.waitFor(byId(i))), `connection ${i + 2} is served`);
      open.push(c);
    }
    const refused = await rawUnix(a.agent.socket);
    refused.send(req('system.ping', {}, 'x'));
    await refused.closed;
    assert.deepEqual(refused.msgs, [limitError('too many connections')]);
    // the WebSocket has the same limit of its own, and refuses with HTTP 503
    const wss = await Promise.all([1, 2, 3, 4].map(() => rawWs(a.agent.wsUrl!, a.token)));
    const ws = new WebSocket(a.agent.wsUrl!, { headers: { authorization: `Bearer ${a.token}` } });
    ws.on('error', () => {});
    const [, res] = await once(ws, 'unexpected-response');
    assert.equal(res.statusCode, 503);
    ws.terminate();
    for (const w of wss) w.close();
    // a freed slot is usable again
    open.pop()!.close();
    await sleep(100);
    const again = await rawUnix(a.agent.socket);
    again.send(req('system.ping', {}, 'again'));
    assert.ok('result' in (await again.waitFor(byId('again'))));
    for (const c of [...open, again]) c.close();
    assert.equal(typeof (await a.client.call<{ version: string }>('system.ping')).version, 'string');
  });

  it('refused peers that reset at once cannot crash the agent', async () => {
    const fill = await Promise.all([1, 2, 3].map(() => rawUnix(a.agent.socket)));
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        Array.from({ length: 200 }, async () => {
          const s = net.createConnection(a.agent.socket);
          s.on('error', () => {});
          await once(s, 'connect').catch(() => {});
          s.destroy();
        }),
      );
    }
    await sleep(300);
    assert.equal(a.agent.proc.exitCode, null, a.agent.stderr().slice(-1500));
    for (const c of fill) c.close();
    assert.equal(typeof (await a.client.call<{ version: string }>('system.ping')).version, 'string');
  });
});

describe('idle time and slow readers', () => {
  let a: Started;
  before(() => {
    a = agentNo(2);
  });

  it('an idle connection is closed; a subscribed or busy one is kept', async () => {
    const idle = await rawUnix(a.agent.socket);
    const idleWs = await rawWs(a.agent.wsUrl!, a.token);
    const subscribed = await rawUnix(a.agent.socket);
    subscribed.send(req('events.subscribe', { topics: ['nothing.happens'] }, 's'));
    await subscribed.waitFor(byId('s'));
    const subscribedWs = await rawWs(a.agent.wsUrl!, a.token);
    subscribedWs.send(req('events.subscribe', { topics: ['nothing.happens'] }, 's'));
    await subscribedWs.waitFor(byId('s'));
    const busy = await rawUnix(a.agent.socket);
    const timer = setInterval(() => busy.send(req('system.ping', {}, 'b')), 300);
    try {
      const ms = await idle.closed;
      assert.ok(ms >= 900 && ms < 4000, `idle Unix connection closed after ${ms} ms`);
      assert.ok((await idleWs.closed) < 4000);
      assert.equal(await idleWs.closeCode, 1000);
      await sleep(1500);
      for (const c of [subscribed, subscribedWs, busy]) assert.equal(c.isClosed(), false, 'kept open');
      subscribed.send(req('system.ping', {}, 'late'));
      assert.ok('result' in (await subscribed.waitFor(byId('late'))));
      subscribedWs.send(req('system.ping', {}, 'late'));
      assert.ok('result' in (await subscribedWs.waitFor(byId('late'))));
    } finally {
      clearInterval(timer);
      for (const c of [subscribed, subscribedWs, busy]) c.close();
    }
  });

  it('a subscriber that never reads is dropped; other subscribers and clients are served', async () => {
    const slow = await rawUnix(a.agent.socket);
    slow.send(req('events.subscribe', { topics: ['*'] }, 's'));
    await slow.waitFor(byId('s'));
    slow.sock.pause(); // stop reading: the agent's queue for it grows
    const fast = await rawUnix(a.agent.socket);
    fast.send(req('events.subscribe', { topics: ['job.*'] }, 's'));
    await fast.waitFor(byId('s'));
    // ~1000 job.progress events of ~200 bytes: more than the kernel buffer plus MAX_BUFFERED
    // a fresh client: with a 1 s idle limit, the shared one has been closed by now
    const client = await a.agent.client();
    const { job } = await client.call<{ job: string }>('system.selftest', { seconds: 1, steps: 1000 });
    const isDone = (m: Msg) => {
      const p = m.params as { topic?: string; data?: { id?: string; state?: string } } | undefined;
      return p?.topic === 'job.progress' && p.data?.id === job && p.data.state === 'success';
    };
    await fast.waitFor(isDone, 20_000);
    const delivered = fast.msgs.filter((m) => (m as Msg).method === 'event').length;
    assert.ok(delivered > 1000, `the reading subscriber got every event (${delivered})`);
    assert.equal(fast.isClosed(), false);
    client.close(); // idle for a while now, and so closed by the agent
    const pinger = await a.agent.client();
    assert.equal(typeof (await pinger.call<{ version: string }>('system.ping')).version, 'string');
    pinger.close();
    slow.sock.resume(); // read what the kernel still holds: the connection has been dropped
    await Promise.race([slow.closed, sleep(3000).then(() => assert.fail('the slow reader was not dropped'))]);
    assert.ok(!slow.msgs.some((m) => isDone(m as Msg)), 'the last events never reached the slow reader');
    fast.close();
  });

  for (const transport of ['unix', 'websocket'] as const) {
    it(`${transport}: a client that floods requests and never reads is dropped`, async () => {
      // Responses of ~250 KB each (1000 audit records), so that a few of them exceed what the
      // kernel buffers plus maxBufferedBytes. (Dry runs are audited: they fill the log fast.)
      const filler = await a.agent.client();
      for (let b = 0; b < 10; b++) {
        const dry = Array.from({ length: 100 }, (_, i) => ({
          jsonrpc: '2.0' as const,
          method: 'auth.token.create',
          params: { name: `dry${i}`, role: 'auditor', dryRun: true },
          id: i + 1,
        }));
        await filler.batch(dry);
      }
      filler.close();
      const slow =
        transport === 'unix' ? await rawUnix(a.agent.socket) : await rawWs(a.agent.wsUrl!, a.token);
      if ('sock' in slow) slow.sock.pause();
      else slow.ws.pause();
      // Few enough that answering all of them stays cheap (every request already read is run
      // even when the reader is dropped), enough to exceed what the kernel buffers: a few
      // hundred KB on a Unix socket, several MB on loopback TCP.
      const N = transport === 'unix' ? 24 : 48;
      for (let i = 0; i < N; i++) slow.send(req('audit.query', { limit: 1000 }, i));
      const other = await rawUnix(a.agent.socket);
      for (let i = 0; i < 5; i++) {
        other.send(req('system.ping', {}, `o${i}`));
        assert.ok(
          'result' in (await other.waitFor(byId(`o${i}`), 15_000)),
          'another client is served meanwhile',
        );
      }
      await sleep(500);
      if ('sock' in slow) slow.sock.resume();
      else slow.ws.resume();
      await Promise.race([
        slow.closed,
        sleep(15_000).then(() => assert.fail('the flooding reader was not dropped')),
      ]);
      if ('closeCode' in slow) assert.equal(await slow.closeCode, 1008, 'policy violation: slow reader');
      const answered = slow.msgs.filter((m) => typeof (m as Msg).id === 'number').length;
      assert.ok(answered < N, `only part of the answers were delivered (${answered} of ${N})`);
      other.close();
      assert.equal(a.agent.proc.exitCode, null);
    });
  }
});
