/**
 * JSON-RPC 2.0 compliance of a real agent process over both transports: NDJSON on the Unix
 * socket (a raw `net` socket, not our client, so nothing is smoothed over) and WebSocket (raw
 * `ws` with a bearer token). Every case checks the response shape the spec fixes: `jsonrpc`,
 * `id` (null where the id cannot be known), exactly one of `result`/`error`, the standard codes.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';

type Msg = Record<string, unknown>;

/** Messages received on a connection, taken out in arrival order by predicate. */
class Inbox {
  private items: unknown[] = [];
  private wake: (() => void)[] = [];
  push(m: unknown) {
    this.items.push(m);
    for (const w of this.wake.splice(0)) w();
  }
  async take(pred: (m: unknown) => boolean = () => true, timeoutMs = 5000): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.items.findIndex(pred);
      if (i >= 0) return this.items.splice(i, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `nothing matching within ${timeoutMs} ms; inbox: ${JSON.stringify(this.items).slice(0, 400)}`,
        );
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.wake.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  all(): unknown[] {
    return this.items.splice(0);
  }
}

interface RawConn {
  inbox: Inbox;
  send(text: string): void;
  close(): void;
}

const parseOrMark = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return { unparseable: text };
  }
};

async function openUnix(socketPath: string): Promise<RawConn> {
  const sock = net.createConnection(socketPath);
  await once(sock, 'connect');
  const inbox = new Inbox();
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      inbox.push(parseOrMark(buf.slice(0, nl)));
      buf = buf.slice(nl + 1);
    }
  });
  return { inbox, send: (t) => sock.write(`${t}\n`), close: () => sock.destroy() };
}

async function openWs(url: string, token: string): Promise<RawConn> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  await once(ws, 'open');
  const inbox = new Inbox();
  ws.on('message', (d) => inbox.push(parseOrMark(d.toString())));
  return { inbox, send: (t) => ws.send(t), close: () => ws.terminate() };
}

const isNotification = (m: unknown) => !!m && typeof m === 'object' && 'method' in m;
const isResponse = (m: unknown) => !isNotification(m);

/** The spec's Response object: exactly these members, exactly one of result/error. */
function assertResponse(m: unknown): asserts m is Msg {
  assert.ok(m && typeof m === 'object' && !Array.isArray(m), `not a response object: ${JSON.stringify(m)}`);
  const r = m as Msg;
  assert.equal(r.jsonrpc, '2.0');
  assert.ok('id' in r, 'a response always has an id member');
  assert.ok(
    r.id === null || typeof r.id === 'string' || typeof r.id === 'number',
    `bad id ${JSON.stringify(r.id)}`,
  );
  assert.notEqual('result' in r, 'error' in r, 'exactly one of result and error');
  for (const k of Object.keys(r))
    assert.ok(['jsonrpc', 'id', 'result', 'error'].includes(k), `extra member ${k}`);
  if ('error' in r) {
    const e = r.error as Msg;
    assert.ok(Number.isInteger(e.code), 'error.code is an integer');
    assert.equal(typeof e.message, 'string');
    for (const k of Object.keys(e))
      assert.ok(['code', 'message', 'data'].includes(k), `extra error member ${k}`);
  }
}

/** The fixed parts of an error response; `data` (ours, optional) is left out of the comparison. */
function errorPart(r: Msg) {
  const e = r.error as Msg;
  return { jsonrpc: r.jsonrpc, id: r.id, error: { code: e.code, message: e.message } };
}

const err = (id: string | number | null, code: number, message: string) => ({
  jsonrpc: '2.0',
  id,
  error: { code, message },
});
const PARSE = (id: null) => err(id, -32700, 'Parse error');
const INVALID = (id: string | number | null) => err(id, -32600, 'Invalid Request');

describe('JSON-RPC 2.0 compliance of the agent process', () => {
  let agent: AgentProcess;
  let token: string;

  before(async () => {
    agent = await startAgentProcess({ config: { log: { file: false } }, timeoutMs: 60_000 });
    assert.ok(agent.wsUrl, 'the agent listens on a WebSocket');
    const c = await agent.client();
    ({ token } = await c.call<{ token: string }>('auth.token.create', { name: 'protocol', role: 'admin' }));
    c.close();
  });
  after(async () => {
    if (agent) {
      assert.equal(await agent.stop(), 0, 'the agent stops cleanly after the protocol tests');
      agent.cleanup();
    }
  });

  for (const transport of ['unix', 'websocket'] as const) {
    describe(`over ${transport}`, () => {
      let conn: RawConn;
      /** Send one text and return the next response (notifications skipped). */
      const exchange = async (text: string): Promise<unknown> => {
        conn.send(text);
        return conn.inbox.take(isResponse);
      };
      const single = async (text: string): Promise<Msg> => {
        const r = await exchange(text);
        assertResponse(r);
        return r;
      };
      /** Nothing arrives for `ms`, and the connection still answers a ping afterwards. */
      const expectSilenceThenPing = async (ms = 300) => {
        await new Promise((r) => setTimeout(r, ms));
        assert.deepEqual(conn.inbox.all().filter(isResponse), [], 'no response to notifications');
        const pong = await single('{"jsonrpc":"2.0","method":"system.ping","id":"after"}');
        assert.equal(pong.id, 'after');
        assert.equal(typeof (pong.result as Msg).version, 'string');
      };

      before(async () => {
        conn = transport === 'unix' ? await openUnix(agent.socket) : await openWs(agent.wsUrl!, token);
      });
      after(() => conn?.close());

      it('answers a request with its id and a result', async () => {
        for (const id of [1, 'a-string', 0, -7, 2.5]) {
          const r = await single(JSON.stringify({ jsonrpc: '2.0', method: 'system.ping', params: {}, id }));
          assert.equal(r.id, id);
          assert.ok('result' in r);
        }
        // params may be omitted
        const r = await single('{"jsonrpc":"2.0","method":"auth.whoami","id":"w"}');
        assert.equal((r.result as Msg).transport, transport);
      });

      it('parse error: -32700 with id null', async () => {
        for (const text of [
          '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]',
          '{',
          'nul',
          "{'a':1}",
        ]) {
          assert.deepEqual(await single(text), PARSE(null), text);
        }
      });

      it('invalid request shapes: -32600, id null when it cannot be read', async () => {
        const cases: [string, string | number | null][] = [
          ['{"jsonrpc": "2.0", "method": 1, "params": "bar"}', null], // the spec's own example
          ['{"jsonrpc":"1.0","method":"system.ping","id":1}', 1], // wrong version; the id is readable
          ['{"method":"system.ping","id":2}', 2], // no jsonrpc member
          ['{"jsonrpc":2,"method":"system.ping","id":3}', 3],
          ['{"jsonrpc":"2.0","method":5,"id":4}', 4], // method not a string
          ['{"jsonrpc":"2.0","id":5}', 5], // no method
          ['{"jsonrpc":"2.0","method":"system.ping","params":"bar","id":6}', 6], // params a string
          ['{"jsonrpc":"2.0","method":"system.ping","params":7,"id":7}', 7],
          ['{"jsonrpc":"2.0","method":"system.ping","params":null,"id":8}', 8],
          ['{"jsonrpc":"2.0","method":"system.ping","id":{"a":1}}', null], // id an object
          ['{"jsonrpc":"2.0","method":"system.ping","id":[1]}', null],
          ['{"jsonrpc":"2.0","method":"system.ping","id":true}', null],
          ['{"jsonrpc":"2.0","method":"system.ping","id":1e999}', null], // Infinity is no JSON number
          ['{"jsonrpc":"2.0","method":"system.ping","params":"x"}', null], // a broken notification is answered
          ['1', null],
          ['"system.ping"', null],
          ['null', null],
          ['true', null],
        ];
        for (const [text, id] of cases) assert.deepEqual(errorPart(await single(text)), INVALID(id), text);
      });

      it('unknown method: -32601 with the request id', async () => {
        const unknown = await single('{"jsonrpc":"2.0","method":"foobar","id":"1"}');
        assert.deepEqual(errorPart(unknown), err('1', -32601, 'Method not found'));
        // the data names the method (and, for a near miss, the closest one: issue #16)
        assert.deepEqual((unknown.error as Msg).data, { kind: 'not_found', method: 'foobar' });
        const typo = await single('{"jsonrpc":"2.0","method":"system.pnig","id":"2"}');
        assert.deepEqual((typo.error as Msg).data, {
          kind: 'not_found',
          method: 'system.pnig',
          suggestion: 'system.ping',
        });
        // names that exist on every JS object are not methods
        for (const m of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
          assert.deepEqual(
            errorPart(await single(JSON.stringify({ jsonrpc: '2.0', method: m, id: m }))),
            err(m, -32601, 'Method not found'),
          );
        }
      });

      it('invalid params: -32602 with the request id and data.kind invalid', async () => {
        const cases: [string, unknown][] = [
          ['system.selftest', { seconds: 'x' }], // wrong type
          ['system.selftest', {}], // missing member
          ['system.selftest', { seconds: 1, bogus: true }], // unknown member
          ['system.selftest', { seconds: -1 }], // out of range
          ['system.ping', [1, 2]], // by-position params
          ['system.ping', []],
          ['job.get', { id: 42 }],
          ['events.subscribe', { topics: 'job.*' }],
        ];
        let n = 0;
        for (const [method, params] of cases) {
          const id = `p${n++}`;
          const r = await single(JSON.stringify({ jsonrpc: '2.0', method, params, id }));
          assert.deepEqual(
            errorPart(r),
            err(id, -32602, (r.error as Msg).message as string),
            JSON.stringify(params),
          );
          assert.match((r.error as Msg).message as string, /params/);
          assert.equal(((r.error as Msg).data as Msg).kind, 'invalid');
        }
      });

      it('empty batch: a single Invalid Request, not an array', async () => {
        assert.deepEqual(await single('[]'), INVALID(null));
      });

      it('batch of non-requests: an array with one Invalid Request per member', async () => {
        const one = await exchange('[1]');
        assert.deepEqual(one, [INVALID(null)]);
        const three = await exchange('[1,2,3]');
        assert.deepEqual(three, [INVALID(null), INVALID(null), INVALID(null)]);
      });

      it('one-element batch: answered with a one-element array', async () => {
        const r = await exchange('[{"jsonrpc":"2.0","method":"system.ping","id":"solo"}]');
        assert.ok(Array.isArray(r), `expected an array, got ${JSON.stringify(r)}`);
        assert.equal(r.length, 1);
        assertResponse(r[0]);
        assert.equal(r[0].id, 'solo');
        assert.ok('result' in r[0]);
      });

      it('notifications get no response, even when they fail', async () => {
        conn.send('{"jsonrpc":"2.0","method":"system.ping"}');
        conn.send('{"jsonrpc":"2.0","method":"no.such.method"}');
        conn.send('{"jsonrpc":"2.0","method":"system.selftest","params":{"seconds":"x"}}');
        conn.send('{"jsonrpc":"2.0","method":"system.ping","params":[1]}');
        await expectSilenceThenPing();
      });

      it('batch of notifications: no response at all', async () => {
        conn.send(
          JSON.stringify([
            { jsonrpc: '2.0', method: 'system.ping' },
            { jsonrpc: '2.0', method: 'auth.whoami', params: {} },
            { jsonrpc: '2.0', method: 'no.such.method' },
          ]),
        );
        await expectSilenceThenPing();
      });

      it('mixed batch: exactly the responses for the non-notifications, matched by id', async () => {
        const batch = [
          { jsonrpc: '2.0', method: 'system.ping', params: {}, id: '1' },
          { jsonrpc: '2.0', method: 'system.ping', params: {} }, // notification
          { jsonrpc: '2.0', method: 'auth.whoami', id: '2' },
          { foo: 'boo' }, // invalid
          { jsonrpc: '2.0', method: 'foo.get', params: { name: 'myself' }, id: '5' }, // unknown
          { jsonrpc: '2.0', method: 'system.selftest', params: { seconds: 'x' }, id: '9' }, // invalid params
          { jsonrpc: '2.0', method: 'no.such.method' }, // failing notification
        ];
        const r = await exchange(JSON.stringify(batch));
        assert.ok(Array.isArray(r), `expected an array, got ${JSON.stringify(r)}`);
        for (const m of r) assertResponse(m);
        const byId = new Map((r as Msg[]).map((m) => [JSON.stringify(m.id), m]));
        assert.equal(r.length, 5, 'one response per non-notification');
        assert.deepEqual([...byId.keys()].sort(), ['"1"', '"2"', '"5"', '"9"', 'null'].sort());
        assert.ok('result' in byId.get('"1"')!);
        assert.equal((byId.get('"2"')!.result as Msg).transport, transport);
        assert.deepEqual(byId.get('null'), INVALID(null));
        assert.deepEqual(errorPart(byId.get('"5"')!), err('5', -32601, 'Method not found'));
        assert.equal((byId.get('"9"')!.error as Msg).code, -32602);
        await expectSilenceThenPing(100);
      });

      it('events.subscribe, then a self-test job: job.progress events up to 100 % and success', async () => {
        const sub = await single(
          JSON.stringify({
            jsonrpc: '2.0',
            method: 'events.subscribe',
            params: { topics: ['job.*'] },
            id: 's',
          }),
        );
        assert.deepEqual((sub.result as Msg).topics, ['job.*']);
        const started = await single(
          JSON.stringify({
            jsonrpc: '2.0',
            method: 'system.selftest',
            params: { seconds: 0.3, steps: 3 },
            id: 'j',
          }),
        );
        const jobId = (started.result as Msg).job as string;
        assert.match(jobId, /^[0-9a-z]{6,32}$/);
        const seen: { percent: number; state: string }[] = [];
        for (;;) {
          const ev = (await conn.inbox.take(isNotification, 5000)) as Msg;
          assert.equal(ev.jsonrpc, '2.0');
          assert.equal(ev.method, 'event');
          assert.ok(!('id' in ev), 'a notification has no id');
          const p = ev.params as { topic: string; data: Msg; time: number };
          assert.equal(typeof p.time, 'number');
          if (p.topic !== 'job.progress' || p.data.id !== jobId) continue;
          seen.push({ percent: (p.data.progress as Msg).percent as number, state: p.data.state as string });
          if (p.data.state !== 'running') break;
        }
        const percents = seen.map((s) => s.percent);
        assert.deepEqual(
          percents,
          [...percents].sort((a, b) => a - b),
          'progress never goes back',
        );
        assert.ok(
          percents.some((p) => p > 0 && p < 100),
          `intermediate progress: ${percents}`,
        );
        assert.deepEqual(seen.at(-1), { percent: 100, state: 'success' });
        const unsub = await single('{"jsonrpc":"2.0","method":"events.unsubscribe","id":"u"}');
        assert.deepEqual((unsub.result as Msg).topics, []);
      });
    });
  }
});
