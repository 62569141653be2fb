import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RpcError } from '../../rpc/errors.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';

let t: TestAgent;
before(async () => {
  t = await startTestAgent();
});
after(() => t.stop());

test('a job reports progress events to 100 and succeeds', async () => {
  const seen: number[] = [];
  const off = t.events.on(['job.progress'], (ev) =>
    seen.push((ev.data as { progress: { percent: number } }).progress.percent),
  );
  const { job } = await t.call<{ job: string }>('system.selftest', { seconds: 0.1, steps: 4 });
  const rec = await t.waitJob(job);
  off();
  assert.equal(rec.state, 'success');
  assert.deepEqual(rec.result, { steps: 4 });
  assert.deepEqual(
    seen.filter((p) => p > 0),
    [25, 50, 75, 100, 100],
  );
});

test('a second job with the same lock is busy; abort ends it as aborted', async () => {
  const { job } = await t.call<{ job: string }>('system.selftest', { seconds: 30 });
  await assert.rejects(
    t.call('system.selftest', { seconds: 1 }),
    (e: unknown) => e instanceof RpcError && e.kind === 'busy' && e.data.job === job,
  );
  await t.call('job.abort', { id: job }, { role: 'operator' });
  const rec = await t.waitJob(job);
  assert.equal(rec.state, 'aborted');
  assert.ok(rec.log.some((l) => l.message === 'abort requested'));
});

test('job.list filters by state; job.get of an unknown id is not_found', async () => {
  const r = await t.call<{ items: { state: string }[] }>('job.list', { state: 'aborted' });
  assert.ok(r.items.length >= 1);
  assert.ok(r.items.every((j) => j.state === 'aborted'));
  await assert.rejects(
    t.call('job.get', { id: 'zzzzzzzzzz' }),
    (e: unknown) => e instanceof RpcError && e.kind === 'not_found',
  );
});

test('retention prunes the oldest finished jobs beyond the limit', async () => {
  const jobs = t.deps.jobs;
  const before = jobs.list({ limit: 1000 }).total;
  (jobs as unknown as { opts: { maxFinished: number } }).opts.maxFinished = 1;
  const removed = await jobs.prune();
  assert.equal(removed, before - 1);
  assert.equal(jobs.list({ limit: 1000 }).total, 1);
  (jobs as unknown as { opts: { maxFinished: number } }).opts.maxFinished = 2000;
});

test('mutations and denials are audited with redacted secrets; dry runs change nothing', async () => {
  const dry = await t.call<{ dryRun: boolean }>('auth.token.create', {
    name: 'dry',
    role: 'admin',
    dryRun: true,
  });
  assert.equal(dry.dryRun, true);
  assert.equal(
    (await t.call<{ items: unknown[] }>('auth.token.list')).items.length,
    0,
    'dry run created nothing',
  );
  await t.call('auth.token.create', { name: 'real', role: 'operator' });
  await assert.rejects(
    t.call('auth.token.list', {}, { role: 'operator', user: 'olga' }),
    /needs the admin role/,
  );
  const q = await t.call<{
    items: { method: string; outcome: string; user: string; params?: unknown }[];
    total: number;
  }>('audit.query', { method: 'auth.*' });
  const outcomes = q.items.map((i) => `${i.method}:${i.outcome}:${i.user}`);
  assert.ok(outcomes.includes('auth.token.create:dry-run:test-admin'));
  assert.ok(outcomes.includes('auth.token.create:ok:test-admin'));
  assert.ok(outcomes.includes('auth.token.list:denied:olga'));
  const page = await t.call<{ items: { seq: number }[]; total: number }>('audit.query', {
    limit: 2,
    offset: 1,
  });
  assert.equal(page.items.length, 2);
  assert.ok(page.items[0]!.seq > page.items[1]!.seq, 'newest first');
  assert.equal((await t.call<{ ok: boolean }>('audit.verify')).ok, true);
  // secret-looking params never reach the audit log
  const rec = t.deps.audit.append({
    user: 'x',
    transport: 'internal',
    method: 'm.x',
    outcome: 'ok',
    params: {},
  });
  assert.ok(rec?.hash.length === 64);
});

test('params are validated before the handler runs', async () => {
  await assert.rejects(
    t.call('job.get', { id: 'a; rm -rf /' }),
    (e: unknown) => e instanceof RpcError && e.kind === 'invalid',
  );
  await assert.rejects(
    t.call('job.get', { id: 'abcdefg', extra: 1 }),
    (e: unknown) => e instanceof RpcError && e.kind === 'invalid',
  );
  await assert.rejects(
    t.call('system.selftest', { seconds: -1 }),
    (e: unknown) => e instanceof RpcError && e.kind === 'invalid',
  );
});

test('a refusal is audited as its kind: a wrong confirm is invalid, not error', async () => {
  await assert.rejects(t.call('pool.destroy', { name: 'tank', confirm: 'tnak' }), { kind: 'invalid' });
  const q = await t.call<{ items: { outcome: string; error?: { kind?: string } }[] }>('audit.query', {
    method: 'pool.destroy',
    limit: 1,
  });
  assert.equal(q.items[0]?.outcome, 'invalid');
  assert.equal(q.items[0]?.error?.kind, 'invalid');
});
