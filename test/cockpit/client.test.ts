/**
 * The page's JSON-RPC client (cockpit/src/rpc), bundled with esbuild as the plugin is, run in
 * Node against a real agent on its Unix socket through a transport that cuts the stream into
 * random small pieces (as Cockpit's stream channel cuts it): framing, errors in plain words,
 * event subscriptions, and reconnecting (with re-subscription) when the agent restarts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import pino from 'pino';
import { type Agent, createAgent } from '../../agent/create-agent.js';
import { createRunner } from '../../agent/runner.js';
import { repoRoot } from '../helpers/paths.js';

interface LineTransport {
  open(
    onChunk: (t: string) => void,
    onClose: (problem?: string) => void,
  ): { send(l: string): void; close(): void };
  describe(): string;
}
interface ClientLike extends EventTarget {
  state: string;
  call<T>(method: string, params?: Record<string, unknown>): Promise<T>;
  on(patterns: string[], fn: (ev: { topic: string; data: unknown }) => void): () => void;
  close(): void;
}
interface Mod {
  AgentClient: new (t: LineTransport, o?: Record<string, number>) => ClientLike;
  AgentError: { fromWire(e: { code: number; message: string; data?: unknown }): Error & { kind: string } };
  explain(e: unknown): { title: string; detail: string; message?: string };
  LineSplitter: new () => { push(chunk: string): string[] };
}

let mod: Mod;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'calypso-client-'));

/** A Unix-socket transport that delivers what it reads in random pieces of 1–97 characters. */
function choppyTransport(socket: string): LineTransport {
  return {
    describe: () => socket,
    open(onChunk, onClose) {
      const s = net.createConnection(socket);
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        for (let i = 0; i < d.length; ) {
          const n = 1 + Math.floor(Math.random() * 97);
          onChunk(d.slice(i, i + n));
          i += n;
        }
      });
      s.on('error', () => {});
      s.on('close', () => onClose('disconnected'));
      return { send: (l) => s.write(l), close: () => s.destroy() };
    },
  };
}

async function startAgent(prefix: string): Promise<Agent> {
  const agent = await createAgent({
    prefix,
    config: 'log: {level: silent, file: false}\nagent: {websocket: {enabled: false}}',
    services: [],
    log: pino({ level: 'silent' }),
    runner: createRunner({ path: '/nonexistent' }), // no capability probes: nothing here needs a tool
  });
  await agent.listen();
  return agent;
}

function waitState(c: ClientLike, state: string, timeoutMs = 10_000): Promise<void> {
  if (c.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`state stayed ${c.state}, wanted ${state}`)), timeoutMs);
    c.addEventListener('state', function on() {
      if (c.state !== state) return;
      clearTimeout(t);
      c.removeEventListener('state', on);
      resolve();
    });
  });
}

before(async () => {
  // the client's modules as the plugin bundles them; cockpit.js's gettext/format stand in
  const src = path.join(repoRoot(), 'cockpit', 'src', 'rpc');
  const out = path.join(tmp, 'client.mjs');
  await esbuild.build({
    stdin: {
      contents: ['client', 'errors', 'ndjson']
        .map((m) => `export * from ${JSON.stringify(path.join(src, `${m}.ts`))};`)
        .join('\n'),
      resolveDir: src,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile: out,
    tsconfig: path.join(repoRoot(), 'cockpit', 'tsconfig.json'),
    logLevel: 'error',
  });
  const g = globalThis as unknown as { window: unknown };
  g.window = {
    cockpit: {
      gettext: (s: string) => s,
      ngettext: (a: string, b: string, n: number) => (n === 1 ? a : b),
      format: (t: string, ...a: unknown[]) =>
        t.replace(/\$([0-9])/g, (_m, i: string) => String(a[Number(i)])),
    },
  };
  writeFileSync(path.join(tmp, 'package.json'), '{"type":"module"}');
  mod = (await import(pathToFileURL(out).href)) as Mod;
});

after(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await esbuild.stop(); // esbuild's service process: nothing of this file outlives it
});

describe('NDJSON framing', () => {
  it('splits lines across and within chunks', () => {
    const s = new mod.LineSplitter();
    assert.deepEqual(s.push('{"a":1}\n{"b"'), ['{"a":1}']);
    assert.deepEqual(s.push(':2'), []);
    assert.deepEqual(s.push('}\n\n{"c":3}\n{"d"'), ['{"b":2}', '{"c":3}']);
    assert.deepEqual(s.push(':4}\n'), ['{"d":4}']);
    const big = JSON.stringify({ x: 'y'.repeat(200_000) });
    const pieces: string[][] = [];
    for (let i = 0; i < big.length; i += 4096) pieces.push(s.push(big.slice(i, i + 4096)));
    assert.deepEqual(pieces.flat(), []);
    assert.deepEqual(s.push('\n'), [big]);
  });
});

describe('errors in plain words', () => {
  it('explains a denial with the roles involved', () => {
    const e = mod.AgentError.fromWire({
      code: -32001,
      message: 'pool.destroy needs the admin role; nobody has auditor',
      data: { kind: 'denied', need: 'admin', have: 'auditor' },
    });
    assert.equal(e.kind, 'denied');
    const x = mod.explain(e);
    assert.equal(x.title, 'Not allowed');
    assert.match(x.detail, /needs the admin role, you have auditor/);
    assert.equal(x.message, 'pool.destroy needs the admin role; nobody has auditor');
  });
  it('explains an unavailable backend by its reason', () => {
    const x = mod.explain(
      mod.AgentError.fromWire({
        code: -32011,
        message: 'scst',
        data: { kind: 'unavailable', reason: 'scstadmin: not installed' },
      }),
    );
    assert.equal(x.title, 'Not available on this appliance');
    assert.equal(x.detail, 'scstadmin: not installed');
  });
});

describe('client against a real agent', () => {
  const prefix = path.join(tmp, 'prefix');
  let agent: Agent;
  let client: ClientLike;

  before(async () => {
    agent = await startAgent(prefix);
    client = new mod.AgentClient(choppyTransport(agent.layout.socket), {
      minDelayMs: 50,
      maxDelayMs: 200,
      connectWaitMs: 1000,
    });
  });
  after(async () => {
    client?.close();
    await agent?.stop();
  });

  it('calls methods and maps errors', async () => {
    const ping = await client.call<{ version: string }>('system.ping');
    assert.equal(typeof ping.version, 'string');
    await waitState(client, 'connected');
    await assert.rejects(
      client.call('job.get', { id: 'zzzzzzzzzz' }),
      (e: Error & { kind: string }) => e.kind === 'not_found',
    );
    await assert.rejects(client.call('no.such.method'), (e: Error & { kind: string }) => {
      assert.equal(mod.explain(e).title, 'Not supported by this agent');
      return true;
    });
    const big = await client.call<unknown>('rpc.discover');
    assert.ok(JSON.stringify(big).length > 10_000, 'a long answer survives the random chunking');
  });

  async function progressOfOneJob(): Promise<number[]> {
    const seen: number[] = [];
    let done: () => void = () => {};
    const finished = new Promise<void>((r) => {
      done = r;
    });
    let id = '';
    const off = client.on(['job.*'], (ev) => {
      const j = ev.data as { id: string; state: string; progress: { percent: number } };
      if (j.id !== id) return;
      if (ev.topic === 'job.progress') seen.push(j.progress.percent);
      if (j.state === 'success') done();
    });
    await new Promise((r) => setTimeout(r, 100)); // the subscription reaches the agent
    id = (await client.call<{ job: string }>('system.selftest', { seconds: 0.3, steps: 3 })).job;
    await finished;
    off();
    return seen;
  }

  it('delivers subscribed events', async () => {
    const seen = await progressOfOneJob();
    assert.ok(seen.includes(100), `progress reached 100: ${seen}`);
  });

  it('reconnects when the agent restarts, and subscribes again', async () => {
    // its outcome is handled at once: the agent's stop may reject it before the await below
    // (an unhandled rejection meanwhile failed the test, then hung the file, on a loaded machine)
    const stuck = client.call('system.selftest', { seconds: 60, steps: 1 }).then(
      () => {},
      () => {},
    );
    await new Promise((r) => setTimeout(r, 50));
    const off = client.on(['job.*'], () => {}); // a subscription that must be renewed
    await agent.stop();
    await waitState(client, 'disconnected');
    await stuck;
    await assert.rejects(
      client.call('system.ping'),
      (e: Error & { kind: string }) => e.kind === 'disconnected',
    );
    agent = await startAgent(prefix);
    await waitState(client, 'connected');
    const seen = await progressOfOneJob();
    assert.ok(seen.includes(100));
    off();
  });
});
