/**
 * Issue #15 item 2 (audit flooding), item 8 (acknowledged without audit) and item 11's
 * interrupted job, on a real agent in-process (LMDB under a temp prefix) and, for the kill -9,
 * a real agent process.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { AuditRecord } from '../../agent/audit.js';
import { canonical } from '../../agent/audit.js';
import { startAgentProcess, startTestAgent, type TestAgent } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';

let t: TestAgent;
before(async () => {
  t = await startTestAgent({ services: [] });
});
after(async () => {
  await t.stop();
});

const rawDb = () => t.deps.store.db('audit');

describe('item 2: audit flooding', () => {
  it('a denied call’s large params are stored as size, hash and head', async () => {
    const big = 'x'.repeat(1024 * 1024);
    await assert.rejects(
      t.call('auth.token.create', { name: big, role: 'admin' }, { role: 'auditor', user: 'eve' }),
      {
        kind: 'denied',
      },
    );
    await t.deps.audit.flushed();
    const [rec] = t.deps.audit.query({ user: 'eve', limit: 1 }).items;
    const params = rec!.params as { truncated: boolean; bytes: number; sha256: string; head: string };
    assert.equal(params.truncated, true);
    const text = canonical({ name: big, role: 'admin' });
    assert.equal(params.bytes, text.length);
    assert.equal(params.sha256, createHash('sha256').update(text).digest('hex'));
    assert.ok(params.head.length <= 512);
    assert.ok(JSON.stringify(rec).length < 2048, 'the record is small');
  });

  it('refusals from one peer beyond the budget are summarised in one record', async () => {
    const before = t.deps.audit.count();
    for (let i = 0; i < 200; i++) {
      await assert.rejects(t.call('auth.token.list', {}, { role: 'auditor', user: 'mallory' }), {
        kind: 'denied',
      });
    }
    // invalid params of a mutation count against the same budget
    for (let i = 0; i < 50; i++) {
      await assert.rejects(t.call('auth.token.revoke', { id: 'nope' }, { role: 'admin', user: 'mallory' }), {
        kind: 'invalid',
      });
    }
    await t.deps.audit.flushed(); // writes the pending summaries (as at shutdown)
    const mine = t.deps.audit.query({ user: 'mallory', limit: 1000 }).items;
    const summaries = mine.filter((r) => r.method === 'audit.refusals');
    const single = mine.filter((r) => r.method !== 'audit.refusals');
    assert.equal(single.length, 20, 'the per-minute budget of single records');
    const suppressed = summaries.reduce((n, r) => n + (r.detail!.suppressed as number), 0);
    assert.equal(single.length + suppressed, 250, 'every refusal is accounted for');
    assert.ok(
      t.deps.audit.count() - before <= 22,
      `${t.deps.audit.count() - before} records for 250 refusals`,
    );
    assert.deepEqual(Object.keys(summaries[0]!.detail!.methods as object).sort(), [
      'auth.token.list',
      'auth.token.revoke',
    ]);
    // another peer still gets its own records
    await assert.rejects(t.call('auth.token.list', {}, { role: 'auditor', user: 'trent' }));
    await t.deps.audit.flushed();
    assert.equal(t.deps.audit.query({ user: 'trent' }).total, 1);
  });

  it('issue #28 item 15: the summary keeps a count for every refused method', async () => {
    // every subsystem's methods: ~100–200 of them are refused to a caller with no role
    const full = await startTestAgent();
    try {
      const guarded = full.agent.registry
        .list()
        .map((m) => m.def)
        .filter((d) => d.role !== 'public')
        .map((d) => d.name);
      assert.ok(guarded.length > 60, `${guarded.length} guarded methods`);
      // the budget's 20 single records first, then each guarded method twice
      for (let i = 0; i < 20; i++)
        await assert.rejects(full.call('auth.token.list', {}, { role: 'none', user: 'oscar' }));
      for (const name of [...guarded, ...guarded])
        await assert.rejects(full.call(name, {}, { role: 'none', user: 'oscar' }), { kind: 'denied' });
      await full.deps.audit.flushed();
      const counts: Record<string, number> = {};
      for (const r of full.deps.audit.query({ user: 'oscar', method: 'audit.refusals', limit: 100 }).items)
        for (const [k, n] of Object.entries(r.detail!.methods as Record<string, number>))
          counts[k] = (counts[k] ?? 0) + n;
      for (const name of guarded) assert.equal(counts[name], 2, name);
      assert.equal(
        Object.values(counts).reduce((a, b) => a + b, 0),
        2 * guarded.length,
      );
    } finally {
      await full.stop();
    }
  });

  it('issue #28 item 5: a filtered scan of a large log yields, runs one at a time per caller, and is bounded', async () => {
    const log = await startTestAgent({ services: [] });
    try {
      for (let i = 0; i < 60_000; i++)
        log.deps.audit.append({ user: `u${i % 7}`, transport: 'unix', method: 'pool.scrub', outcome: 'ok' });
      await log.deps.audit.flushed();
      // the event loop's turns during the calls (a timer chain): a scan that does not yield
      // leaves one gap as long as itself; absolute times are useless on a loaded machine
      // measured in this thread's CPU time as well: a stretch the OS spent running other processes
      // (two CPUs shared with a QEMU guest and other lanes) is no stretch the scan failed to yield in
      const cpu = () => {
        const u =
          (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage?.() ?? process.cpuUsage();
        return (u.user + u.system) / 1000;
      };
      let last = performance.now();
      let lastCpu = cpu();
      let maxGap = 0;
      let maxGapCpu = 0;
      let turns = 0;
      let ticking = true;
      const tick = () => {
        const now = performance.now();
        const c = cpu();
        if (now - last > maxGap) maxGap = now - last;
        maxGapCpu = Math.max(maxGapCpu, c - lastCpu);
        last = now;
        lastCpu = c;
        turns++;
        if (ticking) setImmediate(tick);
      };
      setImmediate(tick);
      const t0 = performance.now();
      // four filtered queries and a verify from one caller, as an auditor's batch would send them
      const answers = await Promise.all([
        ...[1, 2, 3, 4].map(() =>
          log.call<{ total: number }>(
            'audit.query',
            { user: 'u3', limit: 10 },
            { role: 'auditor', user: 'aud' },
          ),
        ),
        log.call<{ ok: boolean }>('audit.verify', {}, { role: 'auditor', user: 'aud' }),
      ]);
      const ms = performance.now() - t0;
      ticking = false;
      for (const a of answers.slice(0, 4))
        assert.equal((a as { total: number }).total, Math.ceil((60_000 - 3) / 7));
      assert.equal((answers[4] as { ok: boolean }).ok, true);
      assert.ok(turns > 50, `${turns} turns of the event loop in ${ms} ms`);
      assert.ok(
        maxGapCpu < ms / 10,
        `the longest stretch without a turn used ${maxGapCpu} ms of CPU (${maxGap} ms of wall time) of ${ms} ms`,
      );
      // bounded per request: past maxScanRecords the answer says how far it looked
      log.deps.audit.configure({ maxScanRecords: 1000 });
      const q = await log.call<{ total: number; scanLimited?: boolean; scannedTo?: number }>('audit.query', {
        user: 'u3',
      });
      assert.equal(q.scanLimited, true);
      assert.ok(q.total <= 1000 / 7 + 1, `${q.total}`);
      assert.equal(q.scannedTo, log.deps.audit.count() - 1000 + 1);
    } finally {
      await log.stop();
    }
  });

  it('one answer is bounded in bytes as well as records', async () => {
    t.deps.audit.configure({ maxAnswerBytes: 4096 });
    try {
      const q = await t.call<{ items: AuditRecord[]; total: number; truncated?: boolean }>('audit.query', {
        limit: 1000,
      });
      assert.equal(q.truncated, true);
      assert.ok(q.items.length > 0 && q.items.length < q.total);
      assert.ok(JSON.stringify(q.items).length <= 4096 + q.items.length + 2);
    } finally {
      t.deps.audit.configure({ maxAnswerBytes: 1024 * 1024 });
    }
  });

  it('retention prunes by count, and the chain stays verifiable from its anchor', async () => {
    for (let i = 0; i < 30; i++)
      await t.call('auth.token.create', { name: `r${i}`, role: 'auditor', dryRun: true });
    const total = t.deps.audit.count();
    t.deps.audit.configure({ maxRecords: 10 });
    try {
      const r = await t.deps.audit.prune();
      assert.ok(r.pruned >= total - 10, `pruned ${r.pruned} of ${total}`);
      const v = await t.call<{ ok: boolean; checked: number; anchoredAt?: number }>('audit.verify');
      assert.equal(v.ok, true, JSON.stringify(v));
      assert.equal(v.anchoredAt, r.anchor! + 1);
      assert.equal(v.checked, t.deps.audit.count() - r.anchor!);
      const prune = t.deps.audit.query({ method: 'audit.prune' }).items[0];
      assert.equal(prune?.detail?.to, r.anchor, 'the pruning is itself in the chain');
      // removing a kept record is still detected
      const victim = r.anchor! + 2;
      await rawDb().remove(victim);
      const bad = await t.call<{ ok: boolean; firstBad?: number }>('audit.verify');
      assert.equal(bad.ok, false);
      assert.equal(bad.firstBad, victim);
    } finally {
      t.deps.audit.configure({ maxRecords: 1_000_000 });
    }
  });

  it('retention prunes by age', async () => {
    let now = Date.now();
    const t2 = await startTestAgent({ services: [], clock: { now: () => now } });
    try {
      for (let i = 0; i < 5; i++)
        await t2.call('auth.token.create', { name: `a${i}`, role: 'auditor', dryRun: true });
      now += 400 * 86_400_000; // past the default 365 days
      await t2.call('auth.token.create', { name: 'new', role: 'auditor', dryRun: true });
      const r = await t2.deps.audit.prune();
      assert.equal(r.pruned, 5);
      assert.equal((await t2.call<{ ok: boolean }>('audit.verify')).ok, true);
    } finally {
      await t2.stop();
    }
  });

  it('audit.verify.start runs as a job with progress', async () => {
    const { job } = await t.call<{ job: string }>('audit.verify.start');
    const rec = await t.waitJob(job);
    assert.equal(rec.state, 'success', JSON.stringify(rec.error));
    assert.equal(rec.progress.percent, 100);
    assert.ok(
      rec.log.some((l) => /records checked/.test(l.message)),
      JSON.stringify(rec.log),
    );
    assert.equal((rec.result as { ok: boolean }).ok, false, 'the record removed above is still missing');
  });
});

describe('item 8: a mutation is acknowledged only once its audit record is committed', () => {
  it('in-process: the record is in LMDB when the answer arrives', async () => {
    for (let i = 0; i < 20; i++) {
      const seq = t.deps.audit.count() + 1;
      await t.call('auth.token.create', { name: `c${i}`, role: 'auditor' });
      // read straight from LMDB: a record still in the write queue is not visible here
      const rec = rawDb().get(seq) as AuditRecord | undefined;
      assert.equal(rec?.method, 'auth.token.create', `record ${seq} committed before the answer`);
    }
  });

  it('kill -9 right after the last answer: every acknowledged token has its audit record', async () => {
    const tmp = tempDir();
    const a = await startAgentProcess({ prefix: tmp.dir, config: { log: { file: false } } });
    try {
      const c = await a.client();
      const acked: string[] = [];
      // pipelined, as the attack did: many answers in flight when the kill lands
      await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const r = await c.call<{ info: { id: string } }>('auth.token.create', {
            name: `k${i}`,
            role: 'auditor',
          });
          acked.push(r.info.id);
        }),
      );
      await a.kill9();
      const b = await startAgentProcess({ prefix: tmp.dir, config: { log: { file: false } } });
      try {
        const c2 = await b.client();
        const q = await c2.call<{ items: { outcome: string }[]; total: number }>('audit.query', {
          method: 'auth.token.create',
          outcome: 'ok',
          limit: 1,
        });
        assert.ok(
          q.total >= acked.length,
          `${q.total} audit records for ${acked.length} acknowledged tokens`,
        );
        assert.equal((await c2.call<{ ok: boolean }>('audit.verify')).ok, true);
        c2.close();
      } finally {
        await b.stop();
      }
    } finally {
      await a.kill9();
      tmp.cleanup();
    }
  });
});

describe('item 11: an interrupted job gets a final audit record', () => {
  it('a job running at kill -9 is audited as interrupted at the next start', async () => {
    const tmp = tempDir();
    const a = await startAgentProcess({ prefix: tmp.dir, config: { log: { file: false } } });
    try {
      const c = await a.client();
      const { job } = await c.call<{ job: string }>('system.selftest', { seconds: 60 });
      await a.kill9();
      const b = await startAgentProcess({ prefix: tmp.dir, config: { log: { file: false } } });
      try {
        const c2 = await b.client();
        const q = await c2.call<{ items: { job?: string; outcome: string; error?: { kind?: string } }[] }>(
          'audit.query',
          { method: 'system.selftest' },
        );
        const final = q.items.find((r) => r.job === job);
        assert.ok(final, JSON.stringify(q.items));
        assert.equal(final.outcome, 'error');
        assert.equal(final.error?.kind, 'aborted');
        c2.close();
      } finally {
        await b.stop();
      }
    } finally {
      await a.kill9();
      tmp.cleanup();
    }
  });
});
