import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLayout } from '../../agent/layout.js';
import { cronMatches, nextRun, parseCron } from '../../agent/zfs/cron.js';
import { OPENZFS, ZFS_FUSE } from '../../agent/zfs/dialect.js';
import { diffHealth } from '../../agent/zfs/health.js';
import { desiredLayout, planLayout } from '../../agent/zfs/layout-plan.js';
import { parseZpoolStatus } from '../../agent/zfs/parse-zpool-status.js';
import { checkNaming, formatName, nameMatcher, selectPrunable } from '../../agent/zfs/policy.js';
import { SnapshotCache } from '../../agent/zfs/snapshot-cache.js';
import type { SnapshotRow } from '../../agent/zfs/types.js';
import { fixture } from './fixtures.js';

const T = Date.UTC(2024, 10, 9, 10, 30); // Sat 2024-11-09 10:30 UTC

describe('cron', () => {
  it('matches fields, steps, lists and day rules', () => {
    assert.ok(cronMatches(parseCron('*/15 * * * *'), T));
    assert.equal(cronMatches(parseCron('*/20 * * * *'), T), false);
    assert.ok(cronMatches(parseCron('30 10 * * 6'), T));
    assert.ok(cronMatches(parseCron('30 10 * * 7'), Date.UTC(2024, 10, 10, 10, 30))); // 7 = Sunday
    assert.ok(cronMatches(parseCron('30 10 1,9 * 1'), T)); // day-of-month OR day-of-week
    assert.equal(cronMatches(parseCron('30 10 1 * 1'), T), false);
    assert.ok(cronMatches(parseCron('@hourly'), Date.UTC(2024, 10, 9, 11, 0)));
    assert.equal(nextRun(parseCron('0 0 * * *'), T), Date.UTC(2024, 10, 10, 0, 0));
  });
  it('refuses bad expressions', () => {
    for (const bad of ['* * * *', '60 * * * *', '* 24 * * *', '5-1 * * * *', '*/0 * * * *', 'a * * * *']) {
      assert.throws(() => parseCron(bad), Error, bad);
    }
  });
});

describe('policy naming and retention', () => {
  it('formats and recognises names', () => {
    assert.equal(formatName('auto-%Y%m%d-%H%M', T), 'auto-20241109-1030');
    const m = nameMatcher('auto-%Y%m%d-%H%M');
    assert.equal(m('auto-20241109-1030'), T);
    assert.equal(m('manual-20241109-1030'), undefined);
    assert.equal(m('auto-20241109-1030x'), undefined);
    assert.equal(checkNaming('auto-%Y%m%d'), 'naming template must contain %H');
    assert.equal(checkNaming('x.%Y.%m.%d.%H.%M.%S'), undefined);
  });
  it('keeps the newest `count` and drops those past the age, never the newest', () => {
    const names = [0, 1, 2, 3, 4].map((h) => formatName('auto-%Y%m%d-%H%M', T - h * 3600_000));
    const all = [...names, 'manual-keep', 'auto-garbage'];
    assert.deepEqual(selectPrunable(all, 'auto-%Y%m%d-%H%M', { count: 3 }, T), [names[4], names[3]]);
    assert.deepEqual(selectPrunable(all, 'auto-%Y%m%d-%H%M', { maxAgeSeconds: 2 * 3600 + 60 }, T), [
      names[4],
      names[3],
    ]);
    assert.deepEqual(selectPrunable(all, 'auto-%Y%m%d-%H%M', { count: 4, maxAgeSeconds: 3600 + 60 }, T), [
      names[4],
      names[3],
      names[2],
    ]);
    // everything is old: the newest one still stays
    assert.deepEqual(selectPrunable(all, 'auto-%Y%m%d-%H%M', { maxAgeSeconds: 60 }, T + 86400_000).length, 4);
  });
});

describe('snapshot cache', () => {
  const rows = (n: number): SnapshotRow[] =>
    Array.from({ length: n }, (_, i) => ({
      name: `tank/d${i % 3}@s${i}`,
      dataset: `tank/d${i % 3}`,
      snapshot: `s${i}`,
      created: 1000 * (n - i),
      used: i,
      holds: 0,
    }));

  it('serves pages, sorts and filters from one listing, and lists again after invalidation', async () => {
    let calls = 0;
    let now = 0;
    const cache = new SnapshotCache(
      async () => {
        calls++;
        return rows(30);
      },
      () => now,
      1000,
    );
    const first = await cache.query({ limit: 5 });
    assert.equal(first.total, 30);
    assert.equal(first.cached, false);
    assert.deepEqual(
      first.items.map((r) => r.name),
      ['tank/d0@s0', 'tank/d0@s3', 'tank/d0@s6', 'tank/d0@s9', 'tank/d0@s12'],
    );
    const byCreated = await cache.query({ sort: 'created', order: 'desc', limit: 2, offset: 1 });
    assert.deepEqual(
      byCreated.items.map((r) => r.snapshot),
      ['s1', 's2'],
    );
    assert.equal(byCreated.cached, true);
    const filtered = await cache.query({ dataset: 'tank/d1', search: 's1' });
    assert.deepEqual(
      filtered.items.map((r) => r.snapshot),
      ['s1', 's10', 's13', 's16', 's19'],
    );
    assert.equal(calls, 1);
    cache.invalidate();
    await cache.query({});
    assert.equal(calls, 2);
    now = 2000; // past the TTL
    await cache.query({});
    assert.equal(calls, 3);
  });

  it('does not cache a listing that raced with an invalidation', async () => {
    let release!: () => void;
    let calls = 0;
    const cache = new SnapshotCache(() => {
      calls++;
      return new Promise((r) => {
        release = () => r(rows(3));
      });
    });
    const q = cache.query({});
    cache.invalidate();
    release();
    assert.equal((await q).total, 3);
    assert.equal(cache.has(), false);
    const again = cache.query({});
    release();
    await again;
    assert.equal(calls, 2);
  });
});

describe('health diff', () => {
  const st = (v: 'zfs-fuse-0.7' | 'openzfs-2.1.11-lab', n: string) => parseZpoolStatus(fixture(v, n))[0]!;

  it('reports DEGRADED and the offlined device', () => {
    const before = st('zfs-fuse-0.7', 'zpool-status-scrub-stopped.txt');
    const after = st('zfs-fuse-0.7', 'zpool-status-degraded-offline.txt');
    const ev = diffHealth(before, after);
    assert.deepEqual(
      ev.map((e) => [e.kind, e.severity]),
      [
        ['state', 'warning'],
        ['device-state', 'warning'],
      ],
    );
    assert.equal(ev[0]!.data.to, 'DEGRADED');
    assert.equal(ev[1]!.data.device, '/tmp/zx/big2.img');
  });

  it('reports checksum errors and the finished scrub', () => {
    const before = st('zfs-fuse-0.7', 'zpool-status-resilver-completed.txt');
    const after = st('zfs-fuse-0.7', 'zpool-status-checksum-errors.txt');
    const kinds = diffHealth(before, after).map((e) => e.kind);
    assert.deepEqual(kinds, ['device-errors', 'scan-finished']);
  });

  it('reports permanent data errors and a first sight of an unhealthy pool', () => {
    const after = st('openzfs-2.1.11-lab', 'zpool-status-checksum-errors-p.txt');
    // the same two devices (t2 replaced t1 in the resilver recorded before the damage)
    const before = st('openzfs-2.1.11-lab', 'zpool-status-resilver-completed.txt');
    const kinds = diffHealth(before, after).map((e) => e.kind);
    assert.deepEqual(kinds, ['device-errors', 'device-errors', 'scan-finished', 'data-errors']);
    assert.deepEqual(
      diffHealth(undefined, st('openzfs-2.1.11-lab', 'zpool-status-degraded-classes.txt')).map(
        (e) => e.data.to,
      ),
      ['DEGRADED'],
    );
    assert.deepEqual(diffHealth(before, before), []);
  });
});

describe('data layout plan', () => {
  const layout = createLayout('/');
  it('creates everything on an empty pool and nothing the second time', () => {
    const want = desiredLayout('tank', layout, OPENZFS);
    assert.equal(want.length, 10);
    assert.equal(want[1]!.dataset, 'tank/calypso/db');
    assert.equal(want[1]!.mountpoint, '/srv/calypso/db');
    const first = planLayout(want, new Map());
    assert.ok(first.every((s) => s.action === 'create'));
    assert.deepEqual(first[1]!.commands[0], [
      'zfs',
      'create',
      '-p',
      '-o',
      'atime=off',
      '-o',
      'compression=lz4',
      '-o',
      'logbias=latency',
      '-o',
      'mountpoint=/srv/calypso/db',
      '-o',
      'recordsize=16K',
      '--',
      'tank/calypso/db',
    ]);
    const have = new Map(
      want.map((a) => [
        a.dataset,
        {
          exists: true,
          values: new Map(
            Object.entries({ mountpoint: a.mountpoint, ...a.properties }).map(([k, v]) => [
              k,
              k === 'recordsize' ? String(Number.parseInt(v, 10) * (v.endsWith('M') ? 1024 ** 2 : 1024)) : v,
            ]),
          ),
        },
      ]),
    );
    assert.ok(planLayout(want, have).every((s) => s.action === 'unchanged'));
    have.get('tank/calypso/db')!.values.set('atime', 'on');
    const again = planLayout(want, have);
    assert.deepEqual(again[1]!.commands, [['zfs', 'set', 'atime=off', 'tank/calypso/db']]);
    assert.equal(desiredLayout('tank', layout, ZFS_FUSE)[2]!.properties.recordsize, '128K');
  });
});
