/**
 * Issue #15 item 3: revoking a token, or its expiry, ends its sessions at once: its JSON-RPC
 * WebSocket connections (and with them their event subscriptions) and the terminals opened
 * with it (real pseudo-terminals), audited.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createRunner } from '../../agent/runner.js';
import { terminalService } from '../../agent/terminal/service.js';
import { AgentClient } from '../../rpc/client.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let now = Date.now();
let t: TestAgent;

before(async () => {
  t = await startTestAgent({
    config: { agent: { websocket: { enabled: true, port: 0 } } },
    services: [terminalService],
    runner: createRunner({ path: '/nonexistent' }),
    clock: { now: () => now },
    listen: true,
  });
});
after(async () => {
  await t.stop();
});

interface Term {
  ws: WebSocket;
  pid: number;
  exit: Promise<Record<string, unknown>>;
  closed: Promise<unknown>;
}

async function openTerminal(token: string): Promise<Term> {
  const url = t.websocket!.replace(/\/rpc$/, '/terminal');
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  ws.on('error', () => {});
  const closed = once(ws, 'close');
  const controls: Record<string, unknown>[] = [];
  let onControl = () => {};
  ws.on('message', (d, bin) => {
    if (bin) return;
    controls.push(JSON.parse(d.toString()) as Record<string, unknown>);
    onControl();
  });
  const waitFor = (type: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const check = () => {
        const m = controls.find((c) => c.type === type);
        if (m) resolve(m);
      };
      const prev = onControl;
      onControl = () => {
        prev();
        check();
      };
      check();
    });
  const ready = await Promise.race([waitFor('ready'), sleep(10_000).then(() => undefined)]);
  assert.ok(ready, `no terminal: ${JSON.stringify(controls)}`);
  return { ws, pid: ready.pid as number, exit: waitFor('exit'), closed };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function sessionsOf(token: string) {
  const rpc = await AgentClient.connectWs(t.websocket!, token);
  const events: unknown[] = [];
  rpc.on('event', (e) => events.push(e));
  await rpc.call('events.subscribe', { topics: ['*'] });
  const term = await openTerminal(token);
  assert.ok(alive(term.pid));
  return { rpc, events, term };
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, sleep(ms).then(() => assert.fail(`${what} did not happen within ${ms} ms`))]);
}

describe('item 3: revocation and expiry end sessions', () => {
  it('revoking a token closes its WebSocket (and subscriptions) and its terminal, audited', async () => {
    const { token, info } = await t.call<{ token: string; info: { id: string } }>('auth.token.create', {
      name: 'to-revoke',
      role: 'admin',
    });
    const { rpc, events, term } = await sessionsOf(token);
    await t.call('auth.token.revoke', { id: info.id });
    await within(rpc.closed, 3000, 'the RPC WebSocket closing');
    const exit = await within(term.exit, 3000, 'the terminal exiting');
    assert.equal(exit.reason, 'token revoked');
    await within(term.closed, 3000, 'the terminal WebSocket closing');
    const until = Date.now() + 3000;
    while (alive(term.pid) && Date.now() < until) await sleep(50);
    assert.equal(alive(term.pid), false, 'the shell is gone');
    // nothing more reaches the revoked subscriber
    const seen = events.length;
    t.events.publish('test.after', {});
    await sleep(100);
    assert.equal(events.length, seen);
    await t.deps.audit.flushed();
    const closes = t.deps.audit.query({ method: 'terminal.close' }).items;
    assert.ok(closes.some((r) => r.detail?.reason === 'token revoked'));
    const ws = t.deps.audit.query({ method: 'auth.token.sessions.close' }).items[0];
    assert.deepEqual(ws?.detail, { token: info.id, reason: 'revoked', connections: 1 });
  });

  it('an expiring token’s sessions close when it expires', async () => {
    const { token } = await t.call<{ token: string }>('auth.token.create', {
      name: 'to-expire',
      role: 'admin',
      expiresInDays: 1,
    });
    const { rpc, term } = await sessionsOf(token);
    now += 2 * 86_400_000;
    await within(rpc.closed, 4000, 'the RPC WebSocket closing at expiry');
    const exit = await within(term.exit, 4000, 'the terminal exiting at expiry');
    assert.equal(exit.reason, 'token expired');
  });
});
