import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseZpoolStatus } from '../../agent/zfs/parse-zpool-status.js';
import { leaves } from '../../agent/zfs/pool-view.js';
import type { PoolStatus } from '../../agent/zfs/types.js';
import { fixture } from './fixtures.js';

const fuse = (n: string) => parseZpoolStatus(fixture('zfs-fuse-0.7', n));
const ozfs = (n: string) => parseZpoolStatus(fixture('openzfs-2.1.11-lab', n));
const one = (pools: PoolStatus[]) => {
  assert.equal(pools.length, 1);
  return pools[0]!;
};

describe('zpool status: zfs-fuse 0.7 (recorded)', () => {
  it('reads a healthy mirror', () => {
    const p = one(fuse('zpool-status-online.txt'));
    assert.equal(p.name, 'tank');
    assert.equal(p.state, 'ONLINE');
    assert.equal(p.scan.state, 'none');
    assert.equal(p.vdevs.data.length, 1);
    const m = p.vdevs.data[0]!;
    assert.equal(m.type, 'mirror');
    assert.deepEqual(
      m.children.map((c) => [c.name, c.type, c.state]),
      [
        ['/tmp/zx/f1.img', 'file', 'ONLINE'],
        ['/tmp/zx/f2.img', 'file', 'ONLINE'],
      ],
    );
    assert.deepEqual(p.errors, { count: 0, files: [], text: 'No known data errors' });
  });

  it('reads a scrub in progress, completed and stopped', () => {
    const running = one(fuse('zpool-status-scrub-in-progress.txt')).scan;
    assert.equal(running.function, 'scrub');
    assert.equal(running.state, 'scanning');
    assert.equal(running.percent, 0);
    assert.equal(running.elapsedSec, 0);
    const done = one(fuse('zpool-status-scrub-completed.txt')).scan;
    assert.equal(done.state, 'finished');
    assert.equal(done.percent, 100);
    assert.equal(done.errors, 0);
    assert.equal(done.endedAt, Date.UTC(2026, 10, 25, 12, 9, 56));
    const stopped = one(fuse('zpool-status-scrub-stopped.txt')).scan;
    assert.equal(stopped.state, 'canceled');
    assert.equal(stopped.endedAt, Date.UTC(2026, 10, 25, 12, 10, 1));
  });

  it('reads an offlined device and the DEGRADED pool with status and action text', () => {
    const p = one(fuse('zpool-status-degraded-offline.txt'));
    assert.equal(p.state, 'DEGRADED');
    assert.match(p.status!, /taken offline by the administrator\. Sufficient replicas/);
    assert.match(p.action!, /'zpool replace'\.$/);
    const states = leaves(p).map((l) => [l.vdev.name, l.vdev.state]);
    assert.deepEqual(states, [
      ['/tmp/zx/big1.img', 'ONLINE'],
      ['/tmp/zx/big2.img', 'OFFLINE'],
    ]);
    assert.equal(p.vdevs.data[0]!.state, 'DEGRADED');
  });

  it('reads resilver progress and per-device resilvered bytes', () => {
    const p = one(fuse('zpool-status-resilver-in-progress.txt'));
    assert.equal(p.scan.function, 'resilver');
    assert.equal(p.scan.state, 'scanning');
    assert.equal(p.scan.percent, 1.35);
    const dev = leaves(p).find((l) => l.vdev.name === '/tmp/zx/big2.img')!.vdev;
    assert.equal(dev.resilvered, Math.round(7.27 * 1024 * 1024));
    const done = one(fuse('zpool-status-resilver-completed.txt')).scan;
    assert.equal(done.function, 'resilver');
    assert.equal(done.state, 'finished');
  });

  it('reads abbreviated checksum counters and repaired bytes', () => {
    const p = one(fuse('zpool-status-checksum-errors.txt'));
    const dev = leaves(p).find((l) => l.vdev.name === '/tmp/zx/big2.img')!.vdev;
    assert.equal(dev.checksum, Math.round(2.43 * 1024));
    assert.equal(dev.repaired, 296 * 1024 * 1024);
    assert.equal(p.see, 'http://www.sun.com/msg/ZFS-8000-9P');
    assert.equal(p.checksum, 0);
  });

  it('reads a replacing vdev', () => {
    const p = one(fuse('zpool-status-replacing.txt'));
    const mirror = p.vdevs.data[0]!;
    const replacing = mirror.children[1]!;
    assert.equal(replacing.type, 'replacing');
    assert.deepEqual(
      replacing.children.map((c) => c.name),
      ['/tmp/zx/big2.img', '/tmp/zx/big3.img'],
    );
    assert.equal(p.scan.percent, 9.55);
    const after = one(fuse('zpool-status-replaced.txt'));
    assert.deepEqual(
      leaves(after).map((l) => l.vdev.name),
      ['/tmp/zx/big1.img', '/tmp/zx/big3.img'],
    );
  });

  it('reads raidz1, raidz2, logs and spares', () => {
    const p = one(fuse('zpool-status-complex.txt'));
    assert.deepEqual(
      p.vdevs.data.map((v) => [v.name, v.type, v.children.length]),
      [
        ['raidz1-0', 'raidz1', 3],
        ['raidz2-1', 'raidz2', 4],
      ],
    );
    assert.equal(p.vdevs.log[0]!.type, 'mirror');
    assert.equal(p.vdevs.log[0]!.children.length, 2);
    assert.deepEqual(
      p.vdevs.spare.map((s) => [s.name, s.state]),
      [
        ['/tmp/zx/s1.img', 'AVAIL'],
        ['/tmp/zx/s2.img', 'AVAIL'],
      ],
    );
    const inuse = one(fuse('zpool-status-spare-inuse.txt'));
    assert.equal(inuse.vdevs.data[0]!.children[0]!.type, 'spare');
    assert.deepEqual(
      inuse.vdevs.spare.map((s) => [s.state, s.note]),
      [
        ['INUSE', 'currently in use'],
        ['AVAIL', undefined],
      ],
    );
  });

  it('reads a missing device by guid with its former path', () => {
    const p = one(fuse('zpool-status-unavail.txt'));
    const missing = leaves(p).find((l) => l.vdev.state === 'UNAVAIL')!.vdev;
    assert.equal(missing.type, 'missing');
    assert.equal(missing.name, '17877507622989022350');
    assert.equal(missing.was, '/tmp/zx/r2.img');
  });

  it('reads permanent data errors and the pool counters', () => {
    const p = one(fuse('zpool-status-data-errors.txt'));
    assert.equal(p.checksum, 399);
    assert.equal(p.scan.errors, 396);
    assert.deepEqual(p.errors?.files, ['/tmp/zx/mnt3/file']);
    assert.equal(p.errors?.count, 1);
  });

  it('reads several pools and import listings', () => {
    assert.deepEqual(
      fuse('zpool-status-two-pools.txt').map((p) => p.name),
      ['backup', 'tank'],
    );
    const imp = one(fuse('zpool-import-list.txt'));
    assert.equal(imp.id, '5573228473359973609');
    assert.equal(imp.vdevs.spare.length, 2);
    assert.equal(imp.vdevs.log[0]!.children.length, 2);
    const deg = one(fuse('zpool-import-list-degraded.txt'));
    assert.equal(deg.state, 'DEGRADED');
    const r2 = leaves(deg).find((l) => l.vdev.name === '/tmp/zx/r2.img')!.vdev;
    assert.equal(r2.state, 'UNAVAIL');
    assert.equal(r2.note, 'cannot open');
    assert.deepEqual(parseZpoolStatus('no pools available\n'), []);
  });
});

describe('zpool status: OpenZFS 2.1.11 (recorded in the kernel lab; 2.2 progress hand-written)', () => {
  const at = (d: number, h: number, m: number, sec: number) => Date.UTC(2026, 11, d, h, m, sec);

  it('reads a finished scrub with full paths (-P) of a mirror', () => {
    const p = one(ozfs('zpool-status-online.txt'));
    assert.equal(p.name, 'tank');
    assert.equal(p.scan.state, 'finished');
    assert.equal(p.scan.processed, 0);
    assert.equal(p.scan.elapsedSec, 3);
    assert.equal(p.scan.endedAt, at(6, 14, 38, 16));
    assert.equal(p.vdevs.data[0]!.type, 'mirror');
    assert.equal(leaves(p)[0]!.vdev.type, 'file');
    assert.equal(leaves(p)[0]!.vdev.path, '/tmp/zrec/t0');
  });

  it('reads 2.1 and 2.2 progress lines', () => {
    // recorded while the module held the scan still (zfs_scan_suspend_progress): nothing issued yet, no estimate
    const a = one(ozfs('zpool-status-scrub-in-progress-2.1.txt')).scan;
    assert.equal(a.state, 'scanning');
    assert.equal(a.percent, 0);
    assert.equal(a.total, Math.round(14.1 * 1024 ** 2));
    assert.equal(a.issued, 0);
    assert.equal(a.remainingSec, undefined);
    assert.equal(a.startedAt, at(6, 14, 38, 24));
    const b = parseZpoolStatus(fixture('openzfs-2.x', 'zpool-status-scrub-in-progress-2.2.txt'))[0]!.scan;
    assert.equal(b.percent, 17.62);
    assert.equal(b.scanned, Math.round(5.61 * 1024 ** 4));
    assert.equal(b.issued, Math.round(2.01 * 1024 ** 4));
    assert.equal(b.total, Math.round(11.4 * 1024 ** 4));
    assert.equal(b.remainingSec, 86400 + 6 * 3600 + 38 * 60 + 12);
    assert.equal(b.startedAt, Date.UTC(2024, 0, 2, 10, 0, 0));
  });

  it('reads paused and canceled scrubs', () => {
    const paused = one(ozfs('zpool-status-scrub-paused.txt')).scan;
    assert.equal(paused.state, 'paused');
    assert.equal(paused.percent, 0);
    assert.equal(paused.total, Math.round(14.1 * 1024 ** 2));
    assert.equal(paused.startedAt, at(6, 14, 38, 24));
    const canceled = one(ozfs('zpool-status-scrub-canceled.txt')).scan;
    assert.equal(canceled.state, 'canceled');
    assert.equal(canceled.endedAt, at(6, 14, 38, 36));
  });

  it('reads a resilver in progress and a finished one', () => {
    const p = one(ozfs('zpool-status-resilver-in-progress.txt'));
    assert.equal(p.scan.function, 'resilver');
    assert.equal(p.scan.state, 'scanning');
    assert.equal(p.scan.total, Math.round(13.9 * 1024 ** 2));
    assert.equal(p.scan.startedAt, at(6, 14, 38, 41));
    const replacing = p.vdevs.data[0]!.children[1]!;
    assert.equal(replacing.type, 'replacing');
    assert.deepEqual(
      replacing.children.map((c) => [c.path, c.state]),
      [
        ['/tmp/zrec/t1', 'ONLINE'],
        ['/tmp/zrec/t2', 'ONLINE'],
      ],
    );
    assert.match(p.status!, /^One or more devices is currently being resilvered\./);
    const done = one(ozfs('zpool-status-resilver-completed.txt')).scan;
    assert.equal(done.function, 'resilver');
    assert.equal(done.state, 'finished');
    assert.equal(done.processed, Math.round(15.8 * 1024 ** 2));
    assert.equal(done.elapsedSec, 8);
  });

  it('reads every vdev class', () => {
    const p = one(ozfs('zpool-status-degraded-classes.txt'));
    assert.equal(p.state, 'DEGRADED');
    assert.equal(p.vdevs.data[0]!.type, 'raidz2');
    assert.equal(p.vdevs.special[0]!.children.length, 2);
    assert.equal(p.vdevs.log[0]!.type, 'mirror');
    assert.equal(p.vdevs.cache.length, 1);
    assert.equal(p.vdevs.spare[0]!.state, 'AVAIL');
    const missing = leaves(p).find((l) => l.vdev.state === 'UNAVAIL')!.vdev;
    assert.equal(missing.type, 'missing');
    assert.equal(missing.was, '/tmp/zrec/r2');
    assert.equal(p.see, 'https://openzfs.github.io/openzfs-docs/msg/ZFS-8000-2Q');
    assert.match(
      p.status!,
      /^One or more devices could not be opened\. .* functioning in a degraded state\.$/,
    );
  });

  it('reads exact counters and the permanent error list', () => {
    const p = one(ozfs('zpool-status-checksum-errors-p.txt'));
    assert.deepEqual(
      leaves(p).map((l) => l.vdev.checksum),
      [8, 6],
    );
    assert.equal(p.scan.errors, 2);
    assert.equal(p.scan.processed, 256 * 1024);
    assert.deepEqual(p.errors?.files, ['/srv/calypso/shares/alice/report.pdf']);
  });

  it('reads two pools and the import listing', () => {
    assert.deepEqual(
      ozfs('zpool-status-two-pools.txt').map((p) => [p.name, p.scan.state]),
      [
        ['backup', 'none'],
        ['tank', 'finished'],
      ],
    );
    const imp = ozfs('zpool-import-list.txt');
    assert.deepEqual(
      imp.map((p) => [p.name, p.id, p.state]),
      [
        ['data', '11896746158807770610', 'DEGRADED'],
        ['backup', '12089595586893431022', 'ONLINE'],
      ],
    );
    const missing = leaves(imp[0]!).find((l) => l.vdev.state === 'UNAVAIL')!.vdev;
    assert.equal(missing.note, 'cannot open');
    assert.equal(missing.path, '/tmp/zrec/r2');
  });
});
