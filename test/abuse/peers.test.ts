/**
 * Issue #28 items 2, 6, 11 and 18 on a real agent process: peers running as other uids (their
 * role comes from SO_PEERCRED and the roles map).
 *   2  answers count against the connection's, the peer's (uid, token) and the total output
 *      budgets before they are built or written, the first answer on a connection included;
 *   6  a long method name is neither looked up nor echoed;
 *   11 a caller with no role cannot make the agent hold or parse a large line;
 *   18 slots are reserved for auditors and operators, not only for admins.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type AgentClient, type RpcClientError, splitLines } from '../../rpc/client.js';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';
import { peerAs, stopPeer } from './peer-script.js';

const MiB = 1024 * 1024;
const LIMITS = {
  maxConnections: 24,
  reservedForAdmin: 2,
  reservedForOperator: 2,
  reservedForAuditor: 2,
  maxPerUid: 6,
  maxPerToken: 8,
  maxBufferedBytes: 4 * MiB,
  maxResponseBytes: 4 * MiB,
  maxQueuedBytesPerPeer: 8 * MiB,
  maxQueuedBytesTotal: 16 * MiB,
};
const AUDITOR_UID = 65533;
const OPERATOR_UID = 65532;
const tmp = tempDir('calypso-peers-');
let agent: AgentProcess;
let admin: AgentClient;
let discoverBytes = 0;

before(async () => {
  chmodSync(tmp.dir, 0o755);
  agent = await startAgentProcess({
    prefix: tmp.dir,
    config: {
      log: { file: false },
      agent: { socket: { mode: '0666' }, limits: LIMITS },
      roles: { auditor: { uids: [AUDITOR_UID] }, operator: { uids: [OPERATOR_UID] } },
    } as never,
    timeoutMs: 60_000,
  });
  admin = await agent.client();
  discoverBytes = JSON.stringify(await admin.call('rpc.discover')).length;
});
after(async () => {
  admin?.close();
  assert.equal(agent.proc.exitCode, null, `the agent died: ${agent.stderr().slice(-1500)}`);
  assert.equal(await agent.stop(), 0);
  tmp.cleanup();
});

/** A batch of rpc.discover as large as the batch limit allows (one answer of ~3.4 MB). */
function bigBatch(): { text: string; bytes: number } {
  const n = Math.floor(LIMITS.maxResponseBytes / (discoverBytes + 64));
  assert.ok(n >= 2, `rpc.discover is ${discoverBytes} bytes`);
  const batch = Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', method: 'rpc.discover', id: i }));
  return { text: `${JSON.stringify(batch)}\n`, bytes: n * discoverBytes };
}

describe('item 2: output budgets per connection, per peer and in total', () => {
  it('one uid, 6 non-reading connections: its first answers together stay within its budget', async () => {
    const { text, bytes } = bigBatch();
    const { proc, report } = await peerAs(tmp.dir, agent.socket, 65534, 6, text, 1500);
    try {
      const served = report.filter((r) => r.lines === 1).length;
      const room = Math.floor(LIMITS.maxQueuedBytesPerPeer / bytes);
      assert.ok(
        served <= room + 1,
        `${served} of 6 connections got a ${bytes}-byte answer (room for ${room})`,
      );
      assert.ok(served >= 1, 'the peer’s budget serves some');
      assert.ok(report.filter((r) => r.closed).length >= 6 - room - 1, JSON.stringify(report));
      assert.equal(typeof (await admin.call<{ version: string }>('system.ping')).version, 'string');
    } finally {
      await stopPeer(proc);
    }
  });

  it('four uids, 2 connections each: the total budget holds across peers', async () => {
    const { text, bytes } = bigBatch();
    const peers = await Promise.all(
      // uids of their own: the previous test's connections may still be closing
      [65520, 65521, 65522, 65523].map((uid) => peerAs(tmp.dir, agent.socket, uid, 2, text, 2500)),
    );
    try {
      const report = peers.flatMap((p) => p.report);
      assert.ok(
        report.every((r) => r.reason === null),
        JSON.stringify(report),
      );
      const served = report.filter((r) => r.lines === 1).length;
      const room = Math.floor(LIMITS.maxQueuedBytesTotal / bytes);
      assert.ok(served <= room + 1, `${served} of 8 connections served (room for ${room} in total)`);
      const closed = report.filter((r) => r.closed).length;
      assert.ok(closed >= 8 - room - 1, `${closed} of 8 closed: ${JSON.stringify(report)}`);
    } finally {
      for (const p of peers) await stopPeer(p.proc);
    }
  });
});

describe('item 6: long method names', () => {
  it('a 4 MB method name is answered at once, in a short error that does not echo it', async () => {
    const name = `x${'y'.repeat(4 * MiB - 200)}`;
    const sock = net.createConnection(agent.socket);
    sock.on('error', () => {});
    await once(sock, 'connect');
    const lines: string[] = [];
    sock.on(
      'data',
      splitLines((l) => lines.push(l)),
    );
    const t0 = performance.now();
    sock.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: name })}\n`);
    while (!lines.length && performance.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 5));
    const ms = performance.now() - t0;
    sock.destroy();
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.length < 1024, `the answer is ${lines[0]!.length} bytes`);
    const e = JSON.parse(lines[0]!).error;
    assert.equal(e.code, -32601);
    assert.deepEqual(e.data, {
      kind: 'not_found',
      reason: `method names are at most 128 characters; this one has ${name.length}`,
    });
    assert.ok(ms < 1000, `${ms} ms`);
    // a name at the bound is still looked up, and a close one still gets its suggestion
    const near = await admin.call('system.pign').catch((x: RpcClientError) => x);
    assert.equal((near as RpcClientError).data?.suggestion, 'system.ping');
  });
});

describe('item 11: callers with no role send only small lines', () => {
  it('a 1 MB denied call from uid 65534 is refused by size before it is parsed or audited', async () => {
    const before = (await admin.call<{ total: number }>('audit.query', { outcome: 'denied', limit: 1 }))
      .total;
    const big = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'auth.token.create',
      params: { name: 'x'.repeat(MiB), role: 'admin' },
    });
    const { proc, report } = await peerAs(tmp.dir, agent.socket, 65534, 3, `${big}\n`);
    try {
      for (const r of report) {
        assert.equal(r.reason, 'message exceeds 65536 bytes');
        assert.equal(r.closed, true);
      }
      // a small public call from the same uid is served
      const ok = await peerAs(
        tmp.dir,
        agent.socket,
        65534,
        1,
        `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'auth.whoami' })}\n`,
      );
      await stopPeer(ok.proc);
      assert.deepEqual(ok.report, [{ lines: 1, reason: null, closed: false }]);
    } finally {
      await stopPeer(proc);
    }
    const after = (await admin.call<{ total: number }>('audit.query', { outcome: 'denied', limit: 1 })).total;
    assert.equal(after, before, 'nothing was parsed, so nothing was denied');
  });
});

describe('item 18: slots reserved per role', () => {
  it('role-less uids filling their caps leave slots for auditors and operators', async () => {
    const ping = `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'system.ping' })}\n`;
    const procs: ChildProcess[] = [];
    await new Promise((r) => setTimeout(r, 500)); // the earlier peers' connections are gone
    try {
      const none = [];
      for (const uid of [65534, 65531, 65530, 65529]) {
        const p = await peerAs(tmp.dir, agent.socket, uid, 6, ping);
        procs.push(p.proc);
        none.push(...p.report);
      }
      const refused = none.filter((r) => r.reason !== null).map((r) => r.reason);
      assert.ok(refused.length >= 6, JSON.stringify(none));
      assert.deepEqual(
        new Set(refused),
        new Set(['too many connections: the last 6 are reserved for auditors, operators and administrators']),
      );
      const aud = await peerAs(tmp.dir, agent.socket, AUDITOR_UID, 2, ping);
      procs.push(aud.proc);
      assert.deepEqual(
        aud.report.map((r) => r.reason),
        [null, null],
        'auditors get their reserved slots',
      );
      const op = await peerAs(tmp.dir, agent.socket, OPERATOR_UID, 3, ping);
      procs.push(op.proc);
      assert.deepEqual(
        op.report.map((r) => r.reason),
        [null, null, 'too many connections: the last 2 are reserved for administrators'],
      );
      const root = await agent.client();
      assert.equal((await root.call<{ role: string }>('auth.whoami')).role, 'admin');
      root.close();
    } finally {
      for (const p of procs) await stopPeer(p);
    }
  });
});
