/**
 * WebSocket authentication and roles: bearer API tokens from `auth.token.create`. No token or a
 * bad, revoked or expired one is refused with HTTP 401 at the upgrade; a token's role applies
 * to every call, and denials are audited under the token's name.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import WebSocket from 'ws';
import type { ServiceFactory } from '../../agent/deps.js';
import { AgentClient, RpcClientError } from '../../rpc/client.js';
import { defineMethod } from '../../rpc/registry.js';
import { type AgentProcess, startAgentProcess, startTestAgent, type TestAgent } from '../helpers/agent.js';

type TokenResult = { token: string; info: { id: string; name: string; role: string; expiresAt?: number } };

/** The HTTP status the upgrade was refused with, or 101 when it was accepted. */
async function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  const ws = new WebSocket(url, { headers });
  ws.on('error', () => {});
  const status = await Promise.race([
    once(ws, 'unexpected-response').then(([, res]) => (res as { statusCode: number }).statusCode),
    once(ws, 'open').then(() => 101),
  ]);
  ws.terminate();
  return status;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

const deniedKind = (e: unknown) => e instanceof RpcClientError && e.code === -32001 && e.kind === 'denied';

describe('WebSocket tokens against the agent process', () => {
  let agent: AgentProcess;
  let admin: AgentClient; // over the Unix socket, as root: admin
  let url: string;

  before(async () => {
    agent = await startAgentProcess({ config: { log: { file: false } }, timeoutMs: 60_000 });
    assert.ok(agent.wsUrl);
    url = agent.wsUrl;
    admin = await agent.client();
  });
  after(async () => {
    admin?.close();
    if (agent) {
      assert.equal(await agent.stop(), 0);
      agent.cleanup();
    }
  });

  it('without a token, or with a malformed or unknown one: HTTP 401', async () => {
    assert.equal(await upgradeStatus(url), 401);
    assert.equal(await upgradeStatus(url, { authorization: 'Bearer ' }), 401);
    assert.equal(await upgradeStatus(url, { authorization: 'Basic cm9vdDpyb290' }), 401);
    assert.equal(await upgradeStatus(url, bearer('not-a-token')), 401);
    assert.equal(await upgradeStatus(url, bearer(`cal_000000000000_${'A'.repeat(32)}`)), 401);
    // a real token id with a forged secret
    const { info } = await admin.call<TokenResult>('auth.token.create', { name: 'forged', role: 'admin' });
    assert.equal(await upgradeStatus(url, bearer(`cal_${info.id}_${'A'.repeat(32)}`)), 401);
    // the refusal says what to do, without detail on why
    const ws = new WebSocket(url);
    ws.on('error', () => {});
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, NodeJS.ReadableStream];
    let body = '';
    for await (const chunk of res) body += chunk.toString();
    ws.terminate();
    assert.match(body, /bearer token is required/);
  });

  it('a valid token is accepted, by header or by ?access_token=, and identifies the caller', async () => {
    const { token, info } = await admin.call<TokenResult>('auth.token.create', {
      name: 'ops bot',
      role: 'operator',
    });
    assert.match(token, /^cal_[0-9a-f]{12}_[A-Za-z0-9_-]{32}$/);
    assert.equal(await upgradeStatus(url, bearer(token)), 101);
    assert.equal(await upgradeStatus(`${url}?access_token=${encodeURIComponent(token)}`), 101);
    const c = await AgentClient.connectWs(url, token);
    try {
      assert.deepEqual(await c.call('auth.whoami'), {
        user: 'token:ops bot',
        role: 'operator',
        transport: 'websocket',
      });
    } finally {
      c.close();
    }
    const listed = (await admin.call<{ items: { id: string; lastUsedAt?: number }[] }>('auth.token.list'))
      .items;
    assert.ok(listed.some((t) => t.id === info.id));
    // the secret is all after `cal_<id>_`: it may itself contain '_' (base64url), so no split('_')
    const secret = token.slice('cal_'.length + 12 + 1);
    assert.equal(secret.length, 32);
    assert.ok(!JSON.stringify(listed).includes(secret), 'secrets are never listed');
  });

  it('a revoked token is refused', async () => {
    const { token, info } = await admin.call<TokenResult>('auth.token.create', {
      name: 'short-lived',
      role: 'admin',
    });
    assert.equal(await upgradeStatus(url, bearer(token)), 101);
    const revoked = await admin.call<{ revokedAt?: number }>('auth.token.revoke', { id: info.id });
    assert.equal(typeof revoked.revokedAt, 'number');
    assert.equal(await upgradeStatus(url, bearer(token)), 401);
    await assert.rejects(AgentClient.connectWs(url, token), /HTTP 401/);
  });

  it("a token's role applies: an auditor reads but cannot create tokens (denied, and audited)", async () => {
    const { token } = await admin.call<TokenResult>('auth.token.create', {
      name: 'auditor-1',
      role: 'auditor',
    });
    const c = await AgentClient.connectWs(url, token);
    try {
      assert.equal((await c.call<{ role: string }>('auth.whoami')).role, 'auditor');
      const info = await c.call<{ hostname: string }>('system.info');
      assert.equal(typeof info.hostname, 'string');
      await assert.rejects(c.call('auth.token.create', { name: 'escalate', role: 'admin' }), (e) => {
        assert.ok(deniedKind(e), String(e));
        const data = (e as RpcClientError).data!;
        assert.equal(data.need, 'admin');
        assert.equal(data.have, 'auditor');
        return true;
      });
      await assert.rejects(c.call('auth.token.list'), deniedKind);
      await assert.rejects(c.call('system.selftest', { seconds: 0 }), deniedKind);
      await assert.rejects(c.call('job.abort', { id: 'abcdefgh' }), deniedKind);
    } finally {
      c.close();
    }
    const q = await admin.call<{
      items: { user: string; method: string; outcome: string; transport: string }[];
    }>('audit.query', { outcome: 'denied', user: 'token:auditor-1' });
    const methods = q.items.map((i) => i.method).sort();
    assert.deepEqual(methods, ['auth.token.create', 'auth.token.list', 'job.abort', 'system.selftest']);
    assert.ok(q.items.every((i) => i.transport === 'websocket'));
    // the tokens the auditor tried to create do not exist
    const names = (await admin.call<{ items: { name: string }[] }>('auth.token.list')).items.map(
      (t) => t.name,
    );
    assert.ok(!names.includes('escalate'));
  });

  it('an operator token may abort jobs but not manage tokens', async () => {
    const { token } = await admin.call<TokenResult>('auth.token.create', {
      name: 'operator-1',
      role: 'operator',
    });
    const c = await AgentClient.connectWs(url, token);
    try {
      const { job } = await admin.call<{ job: string }>('system.selftest', { seconds: 30, steps: 30 });
      const aborted = await c.call<{ id: string }>('job.abort', { id: job });
      assert.equal(aborted.id, job);
      await assert.rejects(c.call('auth.token.revoke', { id: '0123456789ab' }), deniedKind);
    } finally {
      c.close();
    }
  });
});

describe('WebSocket token expiry (in-process agent with a controlled clock)', () => {
  let t: TestAgent;
  let now = Date.UTC(2030, 0, 1);
  let url: string;

  before(async () => {
    t = await startTestAgent({
      clock: { now: () => now },
      config: { agent: { websocket: { port: 0 } } },
    });
    const where = await t.agent.listen();
    assert.ok(where.websocket);
    url = where.websocket;
  });
  after(async () => {
    await t?.stop();
  });

  it('a token works until it expires, then is refused', async () => {
    const { token, info } = await t.call<TokenResult>('auth.token.create', {
      name: 'one-day',
      role: 'operator',
      expiresInDays: 1,
    });
    assert.equal(info.expiresAt, now + 86_400_000);
    const forever = await t.call<TokenResult>('auth.token.create', { name: 'forever', role: 'auditor' });
    const c = await AgentClient.connectWs(url, token);
    assert.equal((await c.call<{ role: string }>('auth.whoami')).role, 'operator');
    c.close();
    now += 86_400_000 - 1000; // still valid a second before the end
    assert.equal(await upgradeStatus(url, bearer(token)), 101);
    now += 2000;
    assert.equal(await upgradeStatus(url, bearer(token)), 401);
    await assert.rejects(AgentClient.connectWs(url, token), /HTTP 401/);
    // tokens without an expiry are unaffected by the passing time
    now += 3650 * 86_400_000;
    assert.equal(await upgradeStatus(url, bearer(forever.token)), 101);
  });
});

/** A service with one slow method: a call that outlasts the idle timeout. */
const slowService: ServiceFactory = () => ({
  name: 'slow',
  methods: [
    defineMethod({
      name: 'test.sleep',
      summary: 'Answer after the given time (tests only).',
      params: Type.Object(
        { ms: Type.Integer({ minimum: 0, description: 'delay' }) },
        { additionalProperties: false },
      ),
      result: Type.Object({ slept: Type.Integer() }),
      role: 'auditor',
      mutating: false,
      handler: async (p) => {
        await new Promise((r) => setTimeout(r, p.ms));
        return { slept: p.ms };
      },
    }),
  ],
});

describe('idle timeout and long calls (in-process agent, both transports)', () => {
  let t: TestAgent;
  let where: { socket: string; websocket?: string };
  let token: string;

  before(async () => {
    t = await startTestAgent({
      services: [slowService],
      config: { agent: { websocket: { port: 0 }, limits: { idleTimeoutSec: 1 } } },
    });
    where = await t.agent.listen();
    ({ token } = await t.call<TokenResult>('auth.token.create', { name: 'idle', role: 'auditor' }));
  });
  after(async () => {
    await t?.stop();
  });

  it('a connection waiting for a call longer than the idle time is not closed under it', async () => {
    const ws = await AgentClient.connectWs(where.websocket!, token);
    const unix = await AgentClient.connectUnix(where.socket);
    const idleWs = new WebSocket(where.websocket!, { headers: bearer(token) });
    await once(idleWs, 'open');
    const idleUnix = net.createConnection(where.socket);
    const started = Date.now();
    const [a, b] = await Promise.all([
      ws.call('test.sleep', { ms: 2500 }),
      unix.call('test.sleep', { ms: 2500 }),
    ]);
    assert.deepEqual([a, b], [{ slept: 2500 }, { slept: 2500 }]);
    assert.ok(Date.now() - started >= 2400);
    // meanwhile the idle ones were closed
    assert.equal(idleWs.readyState, WebSocket.CLOSED);
    assert.equal(idleUnix.readyState, 'closed');
    // and the busy ones become idle in turn
    await Promise.all([ws.closed, unix.closed]);
    assert.ok(Date.now() - started < 6000);
  });
});
