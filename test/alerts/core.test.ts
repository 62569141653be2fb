/**
 * The alert engine and its methods: one alert per stable key (repeats update it), states
 * active → acknowledged → cleared, a fresh alert after a clear, acknowledging audited, filters
 * and pages with active first, bounded history, rules with their ranges (bad input `invalid`,
 * nothing changed), disabled sources; and a real degraded pool on zfs-fuse raising
 * `zfs.pool.health:<pool>` with what to do, cleared when the device is back. A subsystem's own
 * alerts are its tests' (test/backup/job-alerts.test.ts, test/hardware/hardware-service.test.ts).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { open } from 'lmdb';
import { AlertEngine } from '../../agent/alert-engine.js';
import { alertsSubsystem } from '../../agent/alerts/service.js';
import { createLayout } from '../../agent/layout.js';
import { appendHistory } from '../../agent/release/journal.js';
import { releaseSubsystem } from '../../agent/release/service.js';
import { waitUntil } from '../../agent/util/time.js';
import { HealthMonitor } from '../../agent/zfs/health.js';
import { createZfsService } from '../../agent/zfs/service.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';
import { destroyPools, FAST, poolName, useZfsFuse, vdevFiles } from '../zfs/helpers.js';

interface Alert {
  key: string;
  level: string;
  source: string;
  state: string;
  count: number;
  ackedBy?: string;
  detail?: string;
}
type Page = { items: Alert[]; total: number; next?: string };

const kindOf = (e: unknown) => (e as { data?: { kind?: string } }).data?.kind;

describe('alert engine and methods', () => {
  let t: TestAgent;
  before(async () => {
    t = await startTestAgent({ services: [alertsSubsystem] });
  });
  after(() => t.stop());
  const raise = (key: string, level: 'info' | 'warning' | 'critical' = 'warning', source = 'backup') =>
    t.deps.alerts.raise({ key, level, source, title: `${key} happened`, detail: 'do something' });

  it('a repeat updates the same alert; ack keeps it acknowledged; a clear then a raise is fresh', async () => {
    await raise('backup.job.failed:nightly');
    const again = await raise('backup.job.failed:nightly');
    assert.equal(again.count, 2);
    let page = await t.call<Page>('alert.list', { source: 'backup' });
    assert.equal(page.items.length, 1);
    assert.equal(page.items[0]!.state, 'active');

    const ack = await t.call<{ acknowledged: string[] }>('alert.ack', {
      keys: ['backup.job.failed:nightly'],
    });
    assert.deepEqual(ack.acknowledged, ['backup.job.failed:nightly']);
    await raise('backup.job.failed:nightly');
    page = await t.call<Page>('alert.list', { source: 'backup' });
    assert.equal(page.items[0]!.state, 'acknowledged', 'a repeat of the same level stays acknowledged');
    assert.equal(page.items[0]!.ackedBy, 'test-admin');
    const audit = await t.call<{ items: { method: string }[] }>('audit.query', { method: 'alert.ack' });
    assert.equal(audit.items.length, 1, 'the acknowledgement is in the audit log');

    await raise('backup.job.failed:nightly', 'critical');
    assert.equal(
      t.deps.alerts.get('backup.job.failed:nightly')?.state,
      'active',
      'worse than acknowledged: news again',
    );

    await t.deps.alerts.clear('backup.job.failed:nightly');
    assert.equal(t.deps.alerts.get('backup.job.failed:nightly')?.state, 'cleared');
    const fresh = await raise('backup.job.failed:nightly');
    assert.equal(fresh.state, 'active');
    assert.equal(fresh.count, 1);
    await t.deps.alerts.clear('backup.job.failed:nightly');
  });

  it('lists active first, critical first; filters; pages; counts what the bell shows', async () => {
    await raise('a.info', 'info', 'tape');
    await raise('b.crit', 'critical', 'tape');
    await raise('c.warn', 'warning', 'tape');
    await raise('d.gone', 'critical', 'tape');
    await t.deps.alerts.clear('d.gone');
    await t.call('alert.ack', { keys: ['a.info'] });
    const all = await t.call<Page>('alert.list', { source: 'tape' });
    assert.deepEqual(
      all.items.map((a) => `${a.key}/${a.state}`),
      ['b.crit/active', 'c.warn/active', 'a.info/acknowledged', 'd.gone/cleared'],
    );
    const p1 = await t.call<Page>('alert.list', { source: 'tape', limit: 3 });
    assert.equal(p1.items.length, 3);
    assert.equal(p1.total, 4);
    const p2 = await t.call<Page>('alert.list', { source: 'tape', limit: 3, cursor: p1.next });
    assert.deepEqual(
      p2.items.map((a) => a.key),
      ['d.gone'],
    );
    assert.equal(p2.next, undefined);
    const open = await t.call<Page>('alert.list', { source: 'tape', state: 'open' });
    assert.equal(open.total, 3);
    const crit = await t.call<Page>('alert.list', { level: 'critical', state: 'active' });
    assert.deepEqual(
      crit.items.map((a) => a.key),
      ['b.crit'],
    );
    const c = await t.call<{ critical: number; warning: number; acknowledged: number }>('alert.count');
    const n = async (p: Record<string, unknown>) => (await t.call<Page>('alert.list', p)).total;
    assert.equal(c.critical, await n({ state: 'active', level: 'critical' }));
    assert.equal(c.warning, await n({ state: 'active', level: 'warning' }));
    assert.equal(c.acknowledged, await n({ state: 'acknowledged' }));
    assert.ok(c.critical >= 1 && c.warning >= 1 && c.acknowledged >= 1);
  });

  it('refuses bad input with invalid or not_found, and changes nothing', async () => {
    const rules = await t.call('alert.rules');
    const bad: Record<string, unknown>[] = [
      { thresholds: { poolCapacityWarning: 0 } },
      { thresholds: { poolCapacityCritical: 101 } },
      { thresholds: { poolCapacityWarning: 95, poolCapacityCritical: 90 } },
      { thresholds: { scrubAgeDays: 400 } },
      { thresholds: { backupMissedMinutes: 0 } },
      { thresholds: { backupMissedMinutes: 1441 } },
      { thresholds: { diskTemperatureC: 'hot' } },
      { thresholds: { nonsense: 1 } },
      { disabledSources: ['zfs', 'zfs'] },
      { disabledSources: ['no-such-source'] },
    ];
    for (const p of bad)
      await assert.rejects(t.call('alert.rules.set', p), (e) => kindOf(e) === 'invalid', JSON.stringify(p));
    assert.deepEqual(await t.call('alert.rules'), rules);
    await assert.rejects(
      t.call('alert.ack', { keys: ['b.crit', 'no.such.alert'] }),
      (e) => kindOf(e) === 'not_found',
    );
    assert.equal(
      t.deps.alerts.get('b.crit')?.state,
      'active',
      'nothing acknowledged when one key is unknown',
    );
    await assert.rejects(t.call('alert.ack', { keys: [] }), (e) => kindOf(e) === 'invalid');
    await assert.rejects(t.call('alert.list', { limit: 5000 }), (e) => kindOf(e) === 'invalid');
    await assert.rejects(t.call('alert.list', { cursor: 'x; drop' }), (e) => kindOf(e) === 'invalid');
  });

  it('rules: a change keeps what it does not name; dry run stores nothing; a disabled source raises nothing', async () => {
    const dry = await t.call<{ thresholds: { scrubAgeDays: number } }>('alert.rules.set', {
      thresholds: { scrubAgeDays: 7 },
      dryRun: true,
    });
    assert.equal(dry.thresholds.scrubAgeDays, 7);
    assert.equal(t.deps.alerts.rules().thresholds.scrubAgeDays, 35);
    await t.call('alert.rules.set', { thresholds: { poolCapacityWarning: 70 } });
    await t.call('alert.rules.set', { thresholds: { scrubAgeDays: 7 } });
    assert.equal(t.deps.alerts.rules().thresholds.poolCapacityWarning, 70, 'kept');
    assert.equal(t.deps.alerts.rules().thresholds.scrubAgeDays, 7);
    await t.call('alert.rules.set', { disabledSources: ['tape'] });
    assert.equal(
      t.deps.alerts.get('b.crit')?.state,
      'cleared',
      'open alerts of a disabled source are cleared',
    );
    await raise('e.new', 'critical', 'tape');
    assert.equal(t.deps.alerts.get('e.new'), undefined, 'not stored');
    await t.call('alert.rules.set', { disabledSources: [] });
    await raise('e.new', 'critical', 'tape');
    assert.equal(t.deps.alerts.get('e.new')?.state, 'active');
  });

  it('a broken audit chain found by audit.verify is a critical alert', async () => {
    const ok = await t.call<{ ok: boolean }>('audit.verify');
    assert.equal(ok.ok, true);
    assert.equal(t.deps.alerts.get('audit.chain'), undefined);
    const db = t.deps.store.db('audit');
    const rec = db.get(2) as Record<string, unknown>;
    await db.put(2, { ...rec, user: 'someone-else' });
    const bad = await t.call<{ ok: boolean; firstBad: number }>('audit.verify');
    assert.equal(bad.ok, false);
    const a = t.deps.alerts.get('audit.chain');
    assert.equal(a?.state, 'active');
    assert.equal(a?.level, 'critical');
    assert.match(a?.title ?? '', /record 2/);
    await db.put(2, rec);
    await t.call('audit.verify');
    assert.equal(t.deps.alerts.get('audit.chain')?.state, 'cleared');
  });

  it('keeps a bounded history of cleared alerts', async () => {
    let now = Date.parse('2026-12-01T00:00:00Z');
    // its own LMDB inside the agent's prefix (removed with it)
    const env = open({ path: path.join(t.prefix, 'alerts-history-test') });
    const e = new AlertEngine({
      db: env.openDB({ name: 'alerts' }),
      events: t.events,
      log: t.deps.log,
      now: () => now,
      keepCleared: 5,
      keepClearedMs: 86_400_000,
    });
    for (let i = 0; i < 12; i++) {
      await e.raise({ key: `h${i}`, level: 'info', source: 'audit', title: 'x' });
      now += 1000;
      await e.clear(`h${i}`);
    }
    await e.raise({ key: 'open', level: 'warning', source: 'audit', title: 'still open' });
    assert.equal(await e.prune(), 7);
    assert.deepEqual(
      e
        .list()
        .map((a) => a.key)
        .sort(),
      ['h10', 'h11', 'h7', 'h8', 'h9', 'open'],
    );
    now += 2 * 86_400_000;
    await e.prune();
    assert.deepEqual(
      e.list().map((a) => a.key),
      ['open'],
      'older than the age limit: gone; open ones stay',
    );
    await env.close();
  });
});

describe('the ZFS health monitor against the engine (fake driver: a pool as zpool status reports it)', () => {
  it('a pool not scrubbed for longer than the rules allow raises zfs.pool.scrub-age; a fresh scrub clears it', async () => {
    const t = await startTestAgent({ services: [alertsSubsystem] });
    try {
      const now = Date.parse('2026-12-04T00:00:00Z');
      let endedAt = now / 1000 - 40 * 86_400;
      const pool = () => ({
        name: 'tank',
        state: 'ONLINE',
        scan: { state: 'finished', function: 'scrub', endedAt, errors: 0, text: '' },
        vdevs: { data: [], log: [], cache: [], spare: [], special: [], dedup: [] },
        read: 0,
        write: 0,
        checksum: 0,
      });
      const driver = {
        status: async () => [pool()],
        listPools: async () => [{ name: 'tank', health: 'ONLINE', size: 100, allocated: 10, capacity: 10 }],
      };
      const m = new HealthMonitor({
        driver: driver as never,
        events: t.events,
        alerts: t.deps.store.db('alerts'),
        log: t.deps.log,
        now: () => now,
        intervalMs: 0,
        timeoutMs: 1000,
        sink: t.deps.alerts,
      });
      await m.kick();
      const a = t.deps.alerts.get('zfs.pool.scrub-age:tank');
      assert.equal(a?.state, 'active');
      assert.match(a?.title ?? '', /last scrubbed 40 days ago/);
      assert.equal(t.deps.alerts.get('zfs.pool.capacity:tank'), undefined, '10 % full: no capacity alert');
      endedAt = now / 1000 - 86_400;
      await m.kick();
      assert.equal(t.deps.alerts.get('zfs.pool.scrub-age:tank')?.state, 'cleared');
    } finally {
      await t.stop();
    }
  });
});

describe('an upgrade that rolled back', () => {
  it('is an alert when the agent starts after it; a later successful upgrade clears it', async () => {
    const dir = tempDir('calypso-upgrade-alert-');
    const layout = createLayout(dir.dir);
    const rec = {
      id: 'u1',
      kind: 'install' as const,
      from: '0.1.0',
      to: '0.2.0',
      outcome: 'rolled-back' as const,
      current: '0.1.0',
      reason: 'the new release did not answer its health check within 60 s',
      startedAt: 1,
      finishedAt: 2,
      steps: [],
    };
    appendHistory(layout, rec);
    let a = await startTestAgent({ services: [releaseSubsystem, alertsSubsystem], prefix: dir.dir });
    try {
      const al = a.deps.alerts.get('release.upgrade');
      assert.equal(al?.state, 'active');
      assert.equal(al?.level, 'warning');
      assert.match(al?.title ?? '', /upgrade to 0\.2\.0 was rolled back; 0\.1\.0 runs/);
      assert.match(al?.detail ?? '', /health check/);
    } finally {
      await a.stop();
    }
    appendHistory(layout, { ...rec, id: 'u2', to: '0.2.1', outcome: 'success', current: '0.2.1' });
    a = await startTestAgent({ services: [releaseSubsystem, alertsSubsystem], prefix: dir.dir });
    try {
      assert.equal(a.deps.alerts.get('release.upgrade')?.state, 'cleared');
    } finally {
      await a.stop();
      dir.cleanup();
    }
  });
});

describe('a degraded pool on zfs-fuse', () => {
  let fuse: Awaited<ReturnType<typeof useZfsFuse>> | undefined;
  let t: TestAgent;
  const name = poolName('al');
  let files: string[];

  before(async () => {
    fuse = await useZfsFuse();
    t = await startTestAgent({ services: [createZfsService(FAST), alertsSubsystem] });
    files = vdevFiles(path.join(t.prefix, 'vdevs'), ['a.img', 'b.img'], 128 * 1024 * 1024);
    await t.call('pool.create', {
      name,
      topology: { data: [{ type: 'mirror', disks: files }] },
      altroot: path.join(t.prefix, 'mnt'),
    });
  });
  after(async () => {
    await destroyPools([name]);
    await t?.stop();
    await fuse?.release();
  });

  it('offlining a mirror side raises a critical alert saying what to do; onlining clears it', async () => {
    const raised: unknown[] = [];
    t.events.on(['alert.raised'], (e) => raised.push(e.data));
    await t.call('pool.offline', { name, device: files[1] });
    const key = `zfs.pool.health:${name}`;
    const a = t.deps.alerts.get(key);
    assert.ok(a, 'raised');
    assert.equal(a.state, 'active');
    assert.equal(a.level, 'critical');
    assert.match(a.title, /DEGRADED/);
    assert.match(a.detail ?? '', /OFFLINE/);
    assert.match(a.detail ?? '', /pool\.online|pool\.replace/);
    assert.ok(
      raised.some((x) => (x as Alert).key === key),
      'published as alert.raised',
    );
    const open = await t.call<Page>('alert.list', { source: 'zfs', state: 'active' });
    assert.ok(open.items.some((x) => x.key === key));

    await t.call('pool.online', { name, device: files[1] });
    // ONLINE again once the resilver is done: the next poll clears it
    await waitUntil(
      async () => {
        await t.call('pool.clear', { name });
        return t.deps.alerts.get(key)?.state === 'cleared';
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'the health alert cleared' },
    );
  });

  it('capacity over the warning threshold raises an alert; back under it clears', async () => {
    const root = await t.call<{ mountpoint: string }>('dataset.get', { name });
    writeFileSync(path.join(root.mountpoint, 'fill.bin'), randomBytes(40 * 1024 * 1024));
    const key = `zfs.pool.capacity:${name}`;
    await t.call('alert.rules.set', { thresholds: { poolCapacityWarning: 10, poolCapacityCritical: 95 } });
    const a = await waitUntil(
      async () => {
        await t.call('pool.clear', { name }); // a pool mutation polls health (and capacity) at once
        const x = t.deps.alerts.get(key);
        return x?.state === 'active' ? x : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1000, what: 'the capacity alert' },
    );
    assert.equal(a.level, 'warning');
    assert.match(a.title, /\d+ % full/);
    await t.call('alert.rules.set', { thresholds: { poolCapacityWarning: 80, poolCapacityCritical: 90 } });
    await t.call('pool.clear', { name });
    assert.equal(t.deps.alerts.get(key)?.state, 'cleared');
  });
});
