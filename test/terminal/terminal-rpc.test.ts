/**
 * The terminal over JSON-RPC on the agent's Unix socket (the Cockpit page's route), with a
 * real login shell in a real pseudo-terminal.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AgentClient, RpcClientError } from '../../rpc/client.js';
import { type OutputEvent, startTerminalAgent, type TerminalAgent, TerminalReader } from './harness.js';

const MAX = 12;
const ANSI = /\x1b\[[?0-9;]*[a-zA-Z]/g;

describe('terminal over the Unix socket', () => {
  let t: TerminalAgent;
  let client: AgentClient;

  before(async () => {
    // /bin/sh (dash): the tests must not depend on the dotfiles of the machine's root account
    t = await startTerminalAgent(`{shell: /bin/sh, maxSessions: ${MAX}, idleTimeoutSec: 0}`);
    client = await t.connect();
    await client.call('events.subscribe', { topics: ['terminal.*'] }).catch(() => {});
  });
  after(async () => {
    await t?.stop();
  });

  it('runs a login shell: input reaches it and its output comes back as events', async () => {
    const { id, pid } = await client.call<{ id: string; pid: number }>('terminal.open', {
      cols: 100,
      rows: 30,
    });
    assert.match(id, /^[0-9a-f]{16}$/);
    assert.ok(pid > 0);
    const r = new TerminalReader(client, id);
    await r.prompt();
    await client.call('terminal.input', { id, data: 'echo hello-$((6*7))\n' });
    await r.until(/hello-42/);
    await client.call('terminal.close', { id });
    await r.until(() => r.closed !== undefined);
    assert.equal(r.closed?.reason, 'client');
    r.dispose();
  });

  it('resizes: the shell sees the new window size', async () => {
    const { id } = await client.call<{ id: string }>('terminal.open', { cols: 80, rows: 24 });
    const r = new TerminalReader(client, id);
    await r.prompt();
    await client.call('terminal.input', { id, data: 'stty size\n' });
    await r.until(/[^0-9]24 80\r\n/);
    const size = await client.call('terminal.resize', { id, cols: 132, rows: 43 });
    assert.deepEqual(size, { cols: 132, rows: 43 });
    await client.call('terminal.input', { id, data: 'stty size\n' });
    await r.until(/[^0-9]43 132\r\n/);
    await client.call('terminal.close', { id });
    await r.until(() => r.closed !== undefined);
    r.dispose();
  });

  it(`keeps many sessions apart and refuses more than maxSessions (${MAX})`, async () => {
    const opened = await Promise.all(
      Array.from({ length: MAX }, () => client.call<{ id: string }>('terminal.open', {})),
    );
    assert.equal(new Set(opened.map((o) => o.id)).size, MAX);
    await assert.rejects(client.call('terminal.open', {}), (e: RpcClientError) => e.kind === 'limit');
    const readers = opened.map((o) => new TerminalReader(client, o.id));
    await Promise.all(readers.map((r) => r.prompt()));
    await Promise.all(
      opened.map((o, i) => client.call('terminal.input', { id: o.id, data: `echo "mark-$((${i}+1000))"\n` })),
    );
    await Promise.all(readers.map((r, i) => r.until(new RegExp(`mark-${i + 1000}\\r\\n`))));
    // each terminal got only its own output
    for (const [i, r] of readers.entries()) {
      const marks = [...r.text.matchAll(/mark-(\d+)\r\n/g)].map((m) => Number(m[1]));
      assert.deepEqual(marks, [i + 1000]);
    }
    const list = (await client.call<{ items: { id: string }[] }>('terminal.list', {})).items;
    assert.equal(list.length, MAX);
    await Promise.all(opened.map((o) => client.call('terminal.close', { id: o.id })));
    await Promise.all(readers.map((r) => r.until(() => r.closed !== undefined)));
    assert.deepEqual((await client.call<{ items: unknown[] }>('terminal.list', {})).items, []);
  });

  it('moves ≥ 50 MB through one session without loss and in order (ack flow control)', async () => {
    const N = 6_000_000; // "1\r\n" … "6000000\r\n": 52.9 million characters
    const { id } = await client.call<{ id: string }>('terminal.open', { ack: true, window: 1024 * 1024 });
    let expected = 1;
    let carry = '';
    let chars = 0;
    let nextSeq = 0;
    let acked = 0;
    let fault = '';
    let ended = false;
    const r = new TerminalReader(
      client,
      id,
      (ev: OutputEvent) => {
        if (ev.seq !== nextSeq || ev.offset !== chars)
          fault ||= `event ${ev.seq} at ${ev.offset}, expected ${nextSeq} at ${chars}`;
        nextSeq++;
        chars += ev.data.length;
        const lines = (carry + ev.data).split('\r\n');
        carry = lines.pop() ?? '';
        for (const raw of lines) {
          // the shell's prompt wraps commands in bracketed-paste switches (ESC [?2004l)
          const line = raw.replace(ANSI, '');
          if (line === 'END-42') ended = true;
          else if (line === String(expected)) expected++;
          else if (expected > 1 && expected <= N)
            fault ||= `line ${JSON.stringify(line.slice(0, 40))} where ${expected} was due`;
        }
        if (chars - acked > 256 * 1024) {
          acked = chars;
          client.call('terminal.ack', { id, received: acked }).catch(() => {});
        }
      },
      false,
    );
    await r.until(() => /[#$] $/.test(carry));
    const started = performance.now();
    await client.call('terminal.input', { id, data: `seq 1 ${N}; echo END-$((40+2))\n` });
    await r.until(() => ended || fault !== '', 120_000);
    const seconds = (performance.now() - started) / 1000;
    assert.equal(fault, '');
    assert.equal(expected, N + 1, 'every number arrived once, in order');
    assert.ok(chars >= 50_000_000, `${chars} characters`);
    console.log(
      `# terminal: ${(chars / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)} s = ${(chars / 1e6 / seconds).toFixed(1)} MB/s`,
    );
    await client.call('terminal.close', { id });
    await r.until(() => r.closed !== undefined);
    r.dispose();
  });

  it('refuses non-admins (and audits the denial)', async () => {
    for (const role of ['operator', 'auditor'] as const) {
      await assert.rejects(
        t.agent.inject('terminal.open', {}, { user: `someone-${role}`, role, transport: 'unix' }),
        (e: Error & { kind?: string }) => e.kind === 'denied' && /admin/.test(e.message),
      );
    }
    await t.agent.deps.audit.flushed();
    const denied = t.agent.deps.audit.query({ method: 'terminal.open', outcome: 'denied' });
    assert.deepEqual(denied.items.map((i) => i.user).sort(), ['someone-auditor', 'someone-operator']);
  });

  it('audits each open and close with who, how long and why', async () => {
    await t.agent.deps.audit.flushed();
    const opens = t.agent.deps.audit.query({ method: 'terminal.open', outcome: 'ok', limit: 100 });
    const closes = t.agent.deps.audit.query({ method: 'terminal.close', limit: 100 });
    assert.equal(opens.total, MAX + 3);
    assert.equal(closes.total, MAX + 3);
    const rec = closes.items[0]!;
    assert.equal(rec.user, 'root');
    assert.equal(rec.transport, 'unix');
    assert.equal(rec.detail?.reason, 'client');
    assert.ok(typeof rec.durationMs === 'number');
    assert.ok((rec.detail?.bytesOut as number) > 50_000_000);
  });

  it('closes a connection’s terminals when the connection goes away', async () => {
    const c2 = await t.connect();
    const { id, pid } = await c2.call<{ id: string; pid: number }>('terminal.open', {});
    assert.ok(alive(pid));
    await assert.rejects(
      client.call('terminal.input', { id, data: 'x' }),
      (e: RpcClientError) => e.kind === 'not_found',
    );
    c2.close();
    await waitFor(() => !alive(pid));
    // the shell is gone before node-pty reports its end, and the close is audited on that report (CI run 44:
    // the newest close record was still the previous test's): wait for this terminal's record
    let last: { detail?: Record<string, unknown> } | undefined;
    for (let i = 0; i < 200 && !last; i++) {
      await t.agent.deps.audit.flushed();
      last = t.agent.deps.audit
        .query({ method: 'terminal.close', limit: 100 })
        .items.find((r) => r.detail?.terminal === id);
      if (!last) await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(last, `no terminal.close audit record for ${id}`);
    assert.equal(last.detail?.reason, 'disconnect');
  });
});

describe('terminal idle timeout', () => {
  it('hangs up a terminal without input for idleTimeoutSec', async () => {
    const t = await startTerminalAgent('{shell: /bin/sh, idleTimeoutSec: 1}');
    try {
      const client = await t.connect();
      const { id } = await client.call<{ id: string }>('terminal.open', {});
      const r = new TerminalReader(client, id);
      await r.prompt();
      await client.call('terminal.input', { id, data: 'echo still-here\n' });
      await r.until(/still-here/);
      await r.until(() => r.closed !== undefined, 5000);
      assert.equal(r.closed?.reason, 'idle');
    } finally {
      await t.stop();
    }
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(fn: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}
