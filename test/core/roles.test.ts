/**
 * Roles for real: a client process running as another uid (nobody) is identified by
 * SO_PEERCRED and mapped to its role; its mutating call is denied and audited; audit.verify
 * detects an edited record.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { open } from 'lmdb';
import { AuditLog } from '../../agent/audit.js';
import { createLayout } from '../../agent/layout.js';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';

const NOBODY = 65534;
let agent: AgentProcess;
const tmp = tempDir('calypso-roles-');

before(async () => {
  chmodSync(tmp.dir, 0o755);
  agent = await startAgentProcess({
    prefix: tmp.dir,
    config: { agent: { socket: { mode: '0666' } }, roles: { auditor: { users: ['nobody'] } } },
  });
});
after(async () => {
  await agent.stop();
  tmp.cleanup();
});

/** A dependency-free client run as another uid: sends lines, prints the responses. */
function runAs(uid: number, requests: object[]): Record<string, unknown>[] {
  const script = path.join(tmp.dir, 'client.mjs');
  writeFileSync(
    script,
    `import net from 'node:net';
const reqs = ${JSON.stringify(requests)};
const s = net.createConnection(process.argv[2]);
let buf = ''; const out = [];
s.on('data', (d) => { buf += d; let i; while ((i = buf.indexOf('\\n')) >= 0) { out.push(JSON.parse(buf.slice(0, i))); buf = buf.slice(i + 1); }
  if (out.length === reqs.length) { console.log(JSON.stringify(out)); s.end(); } });
s.on('connect', () => { for (const r of reqs) s.write(JSON.stringify(r) + '\\n'); });
s.on('error', (e) => { console.error(e.message); process.exit(2); });`,
  );
  chmodSync(script, 0o644);
  const r = spawnSync(process.execPath, [script, agent.socket], {
    uid,
    gid: uid,
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as Record<string, unknown>[]).sort((a, b) => Number(a.id) - Number(b.id));
}

test('a process running as nobody is identified by SO_PEERCRED and mapped to auditor', () => {
  const [who] = runAs(NOBODY, [{ jsonrpc: '2.0', id: 1, method: 'auth.whoami' }]);
  assert.deepEqual(who?.result, { user: 'nobody', uid: NOBODY, role: 'auditor', transport: 'unix' });
});

test('root is admin', async () => {
  const c = await agent.client();
  assert.equal((await c.call<{ role: string }>('auth.whoami')).role, 'admin');
  c.close();
});

test('an auditor may read but a mutating call is denied and audited', async () => {
  const [list, create] = runAs(NOBODY, [
    { jsonrpc: '2.0', id: 1, method: 'job.list' },
    { jsonrpc: '2.0', id: 2, method: 'auth.token.create', params: { name: 'x', role: 'admin' } },
  ]);
  assert.ok(list?.result, 'auditor can list jobs');
  const err = create?.error as { code: number; data: { kind: string; need: string; have: string } };
  assert.equal(err.code, -32001);
  assert.equal(err.data.kind, 'denied');
  assert.equal(err.data.need, 'admin');
  const c = await agent.client();
  const q = await c.call<{ items: { user: string; method: string; outcome: string; uid: number }[] }>(
    'audit.query',
    {
      outcome: 'denied',
    },
  );
  c.close();
  const rec = q.items.find((i) => i.method === 'auth.token.create');
  assert.ok(rec, 'denial is in the audit log');
  assert.equal(rec.user, 'nobody');
  assert.equal(rec.uid, NOBODY);
});

test('a uid with no mapped role may only call public methods', () => {
  const [noneWho, noneInfo] = runAs(1234, [
    { jsonrpc: '2.0', id: 1, method: 'auth.whoami' },
    { jsonrpc: '2.0', id: 2, method: 'system.info' },
  ]);
  assert.equal((noneWho!.result as { role: string }).role, 'none');
  assert.equal((noneInfo!.error as { data: { kind: string } }).data.kind, 'denied');
});

test('audit.verify detects an edited record', async () => {
  const c = await agent.client();
  await c.call('auth.token.create', { name: 'one', role: 'auditor' });
  await c.call('auth.token.create', { name: 'two', role: 'auditor' });
  const ok = await c.call<{ ok: boolean; checked: number }>('audit.verify');
  c.close();
  assert.equal(ok.ok, true);
  assert.ok(ok.checked >= 3);
  assert.equal(await agent.stop(), 0);

  // tamper with the stored record #2 directly in LMDB, as an intruder with file access would
  const layout = createLayout(tmp.dir);
  const root = open({ path: layout.lmdbDir, maxDbs: 32 });
  const db = root.openDB({ name: 'audit', keyEncoding: 'uint32' });
  const rec = db.get(2) as Record<string, unknown>;
  await db.put(2, { ...rec, user: 'someone-else' });
  const verdict = new AuditLog(db).verify();
  await root.close();
  assert.equal(verdict.ok, false);
  assert.equal(verdict.firstBad, 2);

  agent = await startAgentProcess({
    prefix: tmp.dir,
    config: { agent: { socket: { mode: '0666' } }, roles: { auditor: { users: ['nobody'] } } },
  });
  const c2 = await agent.client();
  const v = await c2.call<{ ok: boolean; firstBad: number }>('audit.verify');
  c2.close();
  assert.deepEqual([v.ok, v.firstBad], [false, 2]);
});
