/** calypsoctl against a real agent process: the CLI contract of docs/design.md. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';
import { entry } from '../helpers/paths.js';

let agent: AgentProcess;
before(async () => {
  agent = await startAgentProcess();
});
after(async () => {
  await agent.stop();
  agent.cleanup();
});

function ctl(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [...entry('cli/main'), ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ...env },
  });
}

test('call prints the result as JSON and exits 0', () => {
  const r = ctl(['--socket', agent.socket, 'call', 'system.ping']);
  assert.equal(r.status, 0, r.stderr);
  const v = JSON.parse(r.stdout) as { version: string; uptime: number };
  assert.match(v.version, /^\d+\.\d+\.\d+/);
  assert.equal(typeof v.uptime, 'number');
});

test('a JSON-RPC error goes to stderr as JSON with exit 1', () => {
  const r = ctl(['--socket', agent.socket, 'call', 'job.get', '{"id":"--bad--"}']);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  const e = JSON.parse(r.stderr) as { code: number; data: { kind: string } };
  assert.equal(e.code, -32602);
  assert.equal(e.data.kind, 'invalid');
  const nf = ctl(['--socket', agent.socket, 'call', 'no.such']);
  assert.equal(nf.status, 1);
  assert.equal((JSON.parse(nf.stderr) as { code: number }).code, -32601);
  const bad = ctl(['--socket', agent.socket, 'call', 'system.ping', '[1,2]']);
  assert.equal(bad.status, 1);
});

test('the socket defaults to $CALYPSO_SOCKET, then the prefix layout', () => {
  assert.equal(ctl(['call', 'system.ping'], { CALYPSO_SOCKET: agent.socket }).status, 0);
  assert.equal(ctl(['--prefix', agent.prefix, 'ping']).status, 0);
  const down = ctl(['--socket', `${agent.prefix}/nope.sock`, 'ping']);
  assert.equal(down.status, 1);
  assert.equal((JSON.parse(down.stderr) as { data: { kind: string } }).data.kind, 'unavailable');
});

test('methods lists every method, for people and as JSON', () => {
  const human = ctl(['--socket', agent.socket, 'methods']);
  assert.equal(human.status, 0);
  assert.match(human.stdout, /^METHOD\s+ROLE\s+KIND\s+SUMMARY/m);
  assert.match(human.stdout, /system\.selftest\s+admin\s+job/);
  const json = JSON.parse(ctl(['--socket', agent.socket, '--json', 'methods']).stdout) as {
    method: string;
  }[];
  assert.ok(json.some((m) => m.method === 'rpc.discover'));
});

test('token create / list / revoke', () => {
  const c = ctl([
    '--socket',
    agent.socket,
    '--json',
    'token',
    'create',
    'ci',
    '--role',
    'auditor',
    '--expires',
    '1',
  ]);
  assert.equal(c.status, 0, c.stderr);
  const created = JSON.parse(c.stdout) as { token: string; info: { id: string } };
  assert.match(created.token, /^cal_[0-9a-f]{12}_/);
  // --json prints the method's answer: a list is { items, total }
  const list = JSON.parse(ctl(['--socket', agent.socket, '--json', 'token', 'list']).stdout) as {
    items: { id: string }[];
    total: number;
  };
  assert.ok(list.items.some((t) => t.id === created.info.id));
  assert.equal(list.total, list.items.length);
  assert.equal(ctl(['--socket', agent.socket, 'token', 'revoke', created.info.id]).status, 0);
});

test('job ID --watch --json follows a job to the end', async () => {
  const start = JSON.parse(
    ctl(['--socket', agent.socket, 'call', 'system.selftest', '{"seconds":3,"steps":5}']).stdout,
  ) as { job: string };
  const lines = await new Promise<string[]>((resolve, reject) => {
    const p = spawn(process.execPath, [
      ...entry('cli/main'),
      '--socket',
      agent.socket,
      '--json',
      'job',
      start.job,
      '--watch',
    ]);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) =>
      code === 0 ? resolve(out.trim().split('\n')) : reject(new Error(`exit ${code}`)),
    );
  });
  const events = lines.map(
    (l) => JSON.parse(l) as { id: string; state: string; progress: { percent: number } },
  );
  assert.ok(events.every((e) => e.id === start.job));
  assert.equal(events.at(-1)?.state, 'success');
  assert.equal(events.at(-1)?.progress.percent, 100);
  const human = ctl(['--socket', agent.socket, 'jobs']);
  assert.match(human.stdout, new RegExp(`${start.job}\\s+system\\.selftest\\s+success\\s+100%`));
});

test('audit verify and list', () => {
  const v = ctl(['--socket', agent.socket, 'audit', 'verify']);
  assert.equal(v.status, 0);
  assert.match(v.stdout, /audit chain intact/);
  const l = JSON.parse(ctl(['--socket', agent.socket, '--json', 'audit', '--method', 'auth.*']).stdout) as {
    items: { method: string }[];
  };
  assert.ok(l.items.some((i) => i.method === 'auth.token.create'));
});
