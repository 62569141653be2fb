/**
 * Issue #15 items 1, 7 and 10, issue #16's RPC-side errors and issue #11's layering, each
 * reproduced against a real agent process (or the core in-process where what is asserted is
 * internal: that a deep line is never handed to JSON.parse).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import WebSocket from 'ws';
import { AgentClient, RpcClientError, splitLines } from '../../rpc/client.js';
import { type AuditEntry, newSession, RpcCore } from '../../rpc/core.js';
import type { RpcError } from '../../rpc/errors.js';
import { Registry } from '../../rpc/registry.js';
import { deeperThan } from '../../rpc/scan-depth.js';
import { type AgentProcess, startAgentProcess, startTestAgent } from '../helpers/agent.js';
import { repoRoot } from '../helpers/paths.js';

type Msg = Record<string, unknown>;

/** Send lines on a fresh Unix connection; collect answer lines until `n` arrived or it closed. */
async function exchange(
  socket: string,
  lines: string[],
  opts: { n?: number; halfClose?: boolean; noNewlineLast?: boolean } = {},
): Promise<Msg[]> {
  const sock = net.createConnection({ path: socket, allowHalfOpen: true });
  sock.on('error', () => {});
  await once(sock, 'connect');
  const out: Msg[] = [];
  const closed = once(sock, 'close');
  sock.on(
    'data',
    splitLines((l) => {
      out.push(JSON.parse(l) as Msg);
      if (opts.n !== undefined && out.length >= opts.n) sock.destroy();
    }),
  );
  const text = lines.map((l, i) => (opts.noNewlineLast && i === lines.length - 1 ? l : `${l}\n`)).join('');
  if (opts.halfClose) sock.end(text);
  else sock.write(text);
  await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000))]);
  sock.destroy();
  return out;
}

const req = (method: string, params: unknown, id: number | string) =>
  JSON.stringify({ jsonrpc: '2.0', method, params, id });

const MAX_RESPONSE = 4 * 1024 * 1024;
let agent: AgentProcess;
let client: AgentClient;
let token: string;

before(async () => {
  agent = await startAgentProcess({
    config: { log: { file: false }, agent: { limits: { maxResponseBytes: MAX_RESPONSE } } },
    timeoutMs: 60_000,
  });
  client = await agent.client();
  token = (await client.call<{ token: string }>('auth.token.create', { name: 'abuse', role: 'auditor' }))
    .token;
});
after(async () => {
  client?.close();
  assert.equal(agent.proc.exitCode, null, `the agent died: ${agent.stderr().slice(-1500)}`);
  assert.equal(await agent.stop(), 0);
  agent.cleanup();
});

describe('item 1: response amplification', () => {
  it('a batch whose answers exceed maxResponseBytes gets one limit error, not a huge line', async () => {
    const discover = JSON.stringify(await client.call('rpc.discover'));
    const n = Math.ceil(MAX_RESPONSE / discover.length) + 1;
    assert.ok(n <= 100, `discover is ${discover.length} bytes`);
    const batch = JSON.stringify(
      Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', method: 'rpc.discover', id: i })),
    );
    const [answer] = await exchange(agent.socket, [batch], { n: 1 });
    assert.ok(answer && !Array.isArray(answer), 'one error object, not an array of documents');
    assert.equal((answer.error as Msg).code, -32600);
    assert.equal(((answer.error as Msg).data as Msg).kind, 'limit');
    assert.match(
      String(((answer.error as Msg).data as Msg).reason),
      /answers to this batch exceed 4194304 bytes/,
    );
    // a batch that fits is served, each document the same cached text
    assert.ok(2 * discover.length < MAX_RESPONSE);
    const small = await client.batch([
      { jsonrpc: '2.0', method: 'rpc.discover', id: 1 },
      { jsonrpc: '2.0', method: 'rpc.discover', id: 2 },
    ]);
    assert.equal(JSON.stringify(small[0]!.result), discover);
    assert.equal(JSON.stringify(small[1]!.result), discover);
  });
});

describe('item 7: depth is judged before parsing', () => {
  it('the scanner ignores brackets inside strings and escapes', () => {
    assert.equal(deeperThan('{"a":"[[[[[[[[[["}', 2), false);
    assert.equal(deeperThan('{"a":"\\"[[[[[[[[["}', 2), false);
    assert.equal(deeperThan('[[[1]]]', 3), false);
    assert.equal(deeperThan('[[[[1]]]]', 3), true);
    assert.equal(deeperThan('[[],[],[[]]]', 3), false);
  });

  it('a deep line is refused without JSON.parse ever seeing it', async () => {
    const core = new RpcCore({
      registry: new Registry(),
      limits: { maxMessageBytes: 8 * 1024 * 1024, maxBatch: 10, maxDepth: 64 },
      audit: { append: () => undefined, committed: () => Promise.resolve() },
      jobs: { start: () => 'x' },
      log: pino({ level: 'silent' }),
    });
    const deep = `{"jsonrpc":"2.0","id":1,"method":"x","params":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}`;
    const parse = JSON.parse;
    let parsedBig = 0;
    JSON.parse = ((text: string, r?: never) => {
      if (text.length > 1_000_000) parsedBig++;
      return parse(text, r);
    }) as typeof JSON.parse;
    let out: string | undefined;
    try {
      out = await core.handleText(
        deep,
        newSession({ user: 't', role: 'admin', transport: 'internal' }, () => {}),
      );
    } finally {
      JSON.parse = parse;
    }
    assert.equal(parsedBig, 0, 'the 2 MB line was not parsed');
    assert.deepEqual(parse(out!).error.data, { kind: 'limit', reason: 'nesting deeper than 64' });
  });

  it('over the wire: a deep unterminated line is a depth refusal, not a parse error', async () => {
    const [answer] = await exchange(agent.socket, ['['.repeat(100_000)], { n: 1 });
    assert.equal(((answer!.error as Msg).data as Msg).reason, 'nesting deeper than 64');
  });
});

describe('item 10: half-closed connections', () => {
  it('a request followed by a half-close is answered before the agent closes', async () => {
    const out = await exchange(agent.socket, [req('system.ping', {}, 'hc')], { halfClose: true });
    assert.equal(out.length, 1);
    assert.equal(out[0]!.id, 'hc');
    assert.ok('result' in out[0]!);
  });

  it('a mutation sent with a half-close delivers its answer (the token secret is not lost)', async () => {
    const out = await exchange(
      agent.socket,
      [req('auth.token.create', { name: 'half', role: 'auditor' }, 1), req('system.ping', {}, 2)],
      { halfClose: true, noNewlineLast: true },
    );
    assert.deepEqual(out.map((m) => m.id).sort(), [1, 2]);
    assert.match(String((out.find((m) => m.id === 1)!.result as Msg).token), /^cal_/);
  });
});

describe('issue #16: errors in plain words', () => {
  it('a missing param is reported once; a pattern failure in the words of its errorMessage', async () => {
    const e1 = await client.call('auth.token.revoke', {}).catch((e: RpcClientError) => e);
    assert.ok(e1 instanceof RpcClientError);
    const errors = (e1.data as { errors: { path: string; message: string }[] }).errors;
    assert.deepEqual(errors, [{ path: '/id', message: 'is required' }]);
    assert.equal(e1.message, 'invalid params for auth.token.revoke: /id is required');
    // pool.get {} reported the missing name twice (once per member of the name's allOf)
    const e3 = (await client.call('pool.get', {}).catch((e: RpcClientError) => e)) as RpcClientError;
    const pe = (e3.data as { errors: { path: string; message: string }[] }).errors;
    assert.equal(pe.length, 1, JSON.stringify(pe));
    assert.equal(pe[0]!.path, '/name');
    assert.match(pe[0]!.message, /^is required \(a pool name is/);
    // a refused name says what is wrong in words, not the regular expression
    const e4 = (await client
      .call('pool.get', { name: 'my pool' })
      .catch((e: RpcClientError) => e)) as RpcClientError;
    assert.equal(e4.message, 'invalid params for pool.get: /name pool names may not contain spaces');
    assert.doesNotMatch(JSON.stringify(e4.data), /\^\(\?!/, 'no regular expression in the answer');
    // unknown parameters and wrong types keep one message per path
    const e2 = await client
      .call('job.list', { state: 'nope', limit: 0, x: 1 })
      .catch((e: RpcClientError) => e);
    const paths = ((e2 as RpcClientError).data as { errors: { path: string }[] }).errors.map((e) => e.path);
    assert.equal(new Set(paths).size, paths.length, `one problem per path: ${paths}`);
    assert.ok(paths.includes('/state') && paths.includes('/limit') && paths.includes('/x'));
  });

  it('a union reports its alternatives’ errorMessage, not one line per alternative', async () => {
    const e = await client.call('audit.query', { outcome: 'bogus' }).catch((x: RpcClientError) => x);
    assert.deepEqual((e as RpcClientError).data?.errors, [
      { path: '/outcome', message: 'outcome is one of ok, error, denied, invalid, accepted, dry-run' },
    ]);
  });

  it('method not found names the method and suggests the closest, on the wire and in-process', async () => {
    const e = await client.call('system.pign').catch((x: RpcClientError) => x);
    assert.equal((e as RpcClientError).code, -32601);
    assert.deepEqual((e as RpcClientError).data, {
      kind: 'not_found',
      method: 'system.pign',
      suggestion: 'system.ping',
    });
    // in-process calls get the same data
    const t = await startTestAgent({ services: [] });
    try {
      await assert.rejects(t.call('pool.lst'), (x: RpcError) => {
        assert.equal(x.kind, 'not_found');
        assert.equal(x.message, 'method pool.lst does not exist');
        assert.equal(x.data.method, 'pool.lst');
        return true;
      });
      await assert.rejects(t.call('job.lst'), (x: RpcError) => {
        assert.equal(x.message, 'method job.lst does not exist; did you mean job.list?');
        assert.equal(x.data.suggestion, 'job.list');
        return true;
      });
    } finally {
      await t.stop();
    }
  });

  it('a WebSocket without a token gets HTTP 401 saying a bearer token is required and how to make one', async () => {
    const e = await AgentClient.connectWs(agent.wsUrl!).catch((x: unknown) => x);
    assert.ok(e instanceof RpcClientError, `got ${e}`);
    assert.equal(e.kind, 'denied');
    assert.match(e.message, /HTTP 401: a bearer token is required/);
    assert.match(e.message, /calypsoctl call auth\.token\.create/);
    const bad = await AgentClient.connectWs(agent.wsUrl!, 'cal_000000000000_xx').catch((x: unknown) => x);
    assert.match((bad as Error).message, /HTTP 401: the bearer token is not valid/);
  });

  it('refused mutations are audited with the reason, the dryRun flag kept', async () => {
    await assert.rejects(
      client.call('auth.token.create', { name: ' bad name', role: 'admin', dryRun: true }),
      (e: RpcClientError) => e.code === -32602,
    );
    const ws = await AgentClient.connectWs(agent.wsUrl!, token);
    await assert.rejects(ws.call('auth.token.create', { name: 'x', role: 'admin' }), /needs the admin role/);
    ws.close();
    const q = await client.call<{ items: AuditEntry[] }>('audit.query', { method: 'auth.token.create' });
    const invalid = q.items.find((r) => r.outcome === 'invalid');
    assert.ok(invalid, JSON.stringify(q.items));
    assert.equal(invalid.dryRun, true, 'a dry run never reads as a real attempt');
    assert.match(invalid.error!.message, /invalid params for auth\.token\.create: \/name/);
    const deniedRec = q.items.find((r) => r.outcome === 'denied' && r.user === 'token:abuse');
    assert.ok(deniedRec);
    assert.equal(deniedRec.dryRun, undefined);
  });
});

describe('issue #11: rpc/ knows nothing of agent/', () => {
  it('no module under rpc/ imports from agent/', () => {
    const dir = path.join(repoRoot(), 'rpc');
    const offenders = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .filter((f) => /from '\.\.\/agent\//.test(readFileSync(path.join(dir, f), 'utf8')));
    assert.deepEqual(offenders, []);
  });
});

describe('item 11: the WebSocket Origin allow-list', () => {
  it('a browser origin not on the list is refused with 403; Cockpit’s and none are accepted', async () => {
    const status = (origin?: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(agent.wsUrl!, {
          headers: { authorization: `Bearer ${token}`, ...(origin ? { origin } : {}) },
        });
        ws.on('error', () => {});
        ws.once('open', () => {
          ws.terminate();
          resolve(101);
        });
        ws.once('unexpected-response', (_q, res) => {
          ws.terminate();
          resolve(res.statusCode ?? 0);
        });
      });
    assert.equal(await status('https://evil.example'), 403);
    assert.equal(await status('https://localhost:9090'), 101);
    assert.equal(await status(undefined), 101);
  });
});

describe('item 11: the client line reader', () => {
  it('splits lines spanning many chunks and several lines in one chunk', () => {
    const lines: string[] = [];
    const feed = splitLines((l) => lines.push(l));
    const long = 'x'.repeat(300_000);
    const text = Buffer.from(`a\nb\n${long}\n€\n`);
    for (let i = 0; i < text.length; i += 777) feed(text.subarray(i, i + 777));
    assert.deepEqual(lines, ['a', 'b', long, '€']);
  });
});

describe('issue #28 item 4: calls of batches in flight per connection', () => {
  it('a batch past maxBatchCallsInFlight gets one limit error while earlier batches run', {
    timeout: 10_000,
  }, async () => {
    const { Type } = await import('@sinclair/typebox');
    const { defineMethod } = await import('../../rpc/registry.js');
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
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
          await gate;
          return null;
        },
      }),
    ]);
    const core = new RpcCore({
      registry,
      limits: { maxMessageBytes: 1 << 20, maxBatch: 100, maxDepth: 16, maxBatchCallsInFlight: 250 },
      audit: { append: () => undefined, committed: () => Promise.resolve() },
      jobs: { start: () => 'x' },
      log: pino({ level: 'silent' }),
    });
    const session = newSession({ user: 't', role: 'auditor', transport: 'internal' }, () => {});
    const batch = JSON.stringify(
      Array.from({ length: 100 }, (_, i) => ({ jsonrpc: '2.0', method: 'test.wait', id: i })),
    );
    const first = [core.handleText(batch, session), core.handleText(batch, session)];
    const third = JSON.parse((await core.handleText(batch, session))!);
    assert.equal(third.error.data.kind, 'limit');
    assert.match(third.error.data.reason, /more than 250 calls of batches in flight/);
    release();
    for (const a of await Promise.all(first)) assert.equal(JSON.parse(a!).length, 100);
    // answered batches no longer count
    assert.equal(JSON.parse((await core.handleText(batch, session))!).length, 100);
  });
});
