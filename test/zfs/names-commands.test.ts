import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import * as cmd from '../../agent/zfs/commands.js';
import { OPENZFS, ZFS_FUSE } from '../../agent/zfs/dialect.js';
import { mapZfsError } from '../../agent/zfs/driver.js';
import { DatasetName, DevicePath, PoolName, SnapshotName, SnapshotShortName } from '../../agent/zfs/names.js';
import { DatasetProperties } from '../../agent/zfs/properties.js';
import { RpcError } from '../../rpc/errors.js';

const check = (schema: Parameters<typeof TypeCompiler.Compile>[0]) => {
  const c = TypeCompiler.Compile(schema);
  return (v: unknown) => c.Check(v);
};

describe('names', () => {
  const pool = check(PoolName);
  const ds = check(DatasetName);
  const snap = check(SnapshotName);
  const short = check(SnapshotShortName);
  const dev = check(DevicePath);

  it('accepts ordinary names', () => {
    for (const n of [
      'tank',
      'tank2',
      'Backup_01',
      'a.b:c-d',
      'logs',
      'mirrorless'.replace('mirror', 'mir'),
    ]) {
      assert.ok(pool(n), n);
    }
    for (const n of ['tank/a', 'tank/a/b_c.d:e-f', 'tank']) assert.ok(ds(n), n);
    assert.ok(snap('tank/a@auto-20241109-0000'));
    assert.ok(short('hourly.1'));
    assert.ok(dev('/dev/disk/by-id/ata-WDC_WD40EFRX-68N32N0_WD-WCC7K4JKN36U'));
    assert.ok(dev('/tmp/calypso-test-x/vdev1.img'));
  });

  it('rejects shell metacharacters, leading dashes, newlines and misplaced @ or #', () => {
    const bad = [
      'tank;rm -rf /',
      'tank$(id)',
      'tank`id`',
      'tank|cat',
      'tank&',
      'tank>x',
      "tank'",
      'tank"',
      'tank name',
      'tank\nfoo',
      '-tank',
      '--help',
      'tank/-x',
      'tank/a@b',
      'tank#b',
      'tank/../x',
      'tank/',
      '/tank',
      '',
    ];
    for (const n of bad) assert.equal(ds(n), false, JSON.stringify(n));
    for (const n of [
      'tank/a',
      'tank@',
      '@s',
      'tank/a@b@c',
      'tank/a@-x',
      'tank/a#b',
      'tank/a@b\n',
      'tank/a@b;id',
    ]) {
      assert.equal(snap(n), false, JSON.stringify(n));
    }
    for (const n of ['-x', 'a/b', 'a@b', 'a#b', 'a b', 'a\n'])
      assert.equal(short(n), false, JSON.stringify(n));
    for (const n of ['dev/sda', '/dev/../etc/passwd', '/dev/sda;id', '/dev/sd a', '-/dev/sda', '/tmp/a\nb']) {
      assert.equal(dev(n), false, JSON.stringify(n));
    }
  });

  it('rejects reserved and over-long names', () => {
    for (const n of [
      'mirror',
      'mirror0',
      'raidz',
      'raidz2x',
      'draid',
      'spare1',
      'log',
      'cache',
      'special',
      'c0t0d0',
      '1tank',
    ]) {
      assert.equal(pool(n), false, n);
    }
    assert.equal(pool('p'.repeat(65)), false);
    assert.ok(pool('p'.repeat(64)));
    assert.equal(ds(`tank/${'a'.repeat(251)}`), false);
    assert.ok(ds(`tank/${'a'.repeat(250)}`));
    assert.equal(short('s'.repeat(201)), false);
  });

  it('validates property values per property', () => {
    const props = check(DatasetProperties);
    assert.ok(props({ compression: 'lz4', quota: '10G', recordsize: '1M', copies: 2, mountpoint: '/srv/x' }));
    assert.ok(props({ quota: 'none', reservation: 1048576 }));
    for (const bad of [
      { compression: 'bogus' },
      { nosuchprop: 'on' },
      { quota: '10 G' },
      { quota: '-1' },
      { recordsize: '3K' },
      { copies: 4 },
      { mountpoint: 'relative/path' },
      { mountpoint: '/srv/$(id)' },
      { atime: 'yes' },
    ]) {
      assert.equal(props(bad), false, JSON.stringify(bad));
    }
  });
});

describe('argv builders', () => {
  it('puts user values after -- and picks flags by dialect', () => {
    assert.deepEqual(cmd.zpoolList(OPENZFS), [
      'zpool',
      'list',
      '-H',
      '-p',
      '-o',
      'name,size,allocated,free,capacity,dedupratio,health,altroot,fragmentation,guid',
    ]);
    assert.deepEqual(cmd.zpoolList(ZFS_FUSE, 'tank'), [
      'zpool',
      'list',
      '-H',
      '-o',
      'name,size,allocated,free,capacity,dedupratio,health,altroot,guid,version',
      '--',
      'tank',
    ]);
    assert.deepEqual(cmd.zpoolStatus(OPENZFS, 'tank'), ['zpool', 'status', '-v', '-P', '-p', '--', 'tank']);
    assert.deepEqual(cmd.zpoolGet(ZFS_FUSE, 'tank'), ['zpool', 'get', 'all', 'tank']);
    assert.deepEqual(cmd.zfsListSnapshots(ZFS_FUSE, 'tank/a'), [
      'zfs',
      'list',
      '-H',
      '-t',
      'snapshot',
      '-o',
      'name,used,referenced,creation,userrefs',
      '-d',
      '1',
      '--',
      'tank/a',
    ]);
  });

  it('builds a pool topology', () => {
    const argv = cmd.zpoolCreate({
      name: 'tank',
      topology: {
        data: [
          { type: 'mirror', disks: ['/d/a', '/d/b'] },
          { type: 'raidz2', disks: ['/d/c', '/d/d', '/d/e'] },
        ],
        special: [{ type: 'mirror', disks: ['/d/s1', '/d/s2'] }],
        log: [{ type: 'stripe', disks: ['/d/l'] }],
        cache: ['/d/c1'],
        spares: ['/d/sp'],
      },
      properties: { ashift: 12 },
      filesystemProperties: { compression: 'lz4', atime: 'off' },
      altroot: '/tmp/x',
      force: true,
    });
    assert.deepEqual(argv, [
      'zpool',
      'create',
      '-f',
      '-o',
      'ashift=12',
      '-O',
      'atime=off',
      '-O',
      'compression=lz4',
      '-R',
      '/tmp/x',
      '--',
      'tank',
      'mirror',
      '/d/a',
      '/d/b',
      'raidz2',
      '/d/c',
      '/d/d',
      '/d/e',
      'special',
      'mirror',
      '/d/s1',
      '/d/s2',
      'log',
      '/d/l',
      'cache',
      '/d/c1',
      'spare',
      '/d/sp',
    ]);
  });

  it('unmounts before destroy on zfs-fuse only, and sets one property per command', () => {
    assert.deepEqual(cmd.zfsDestroy(ZFS_FUSE, 'tank/a', { recursive: true, filesystem: true }), [
      ['zfs', 'unmount', '--', 'tank/a'],
      ['zfs', 'destroy', '-r', '--', 'tank/a'],
    ]);
    assert.deepEqual(cmd.zfsDestroy(OPENZFS, 'tank/a', { filesystem: true }), [
      ['zfs', 'destroy', '--', 'tank/a'],
    ]);
    assert.deepEqual(cmd.zfsSet('tank/a', { quota: '1G', compression: 'on' }), [
      ['zfs', 'set', 'compression=on', 'tank/a'],
      ['zfs', 'set', 'quota=1G', 'tank/a'],
    ]);
    assert.deepEqual(cmd.zfsReceive(OPENZFS, 'b/x', { resumable: true, force: true }), [
      'zfs',
      'receive',
      '-F',
      '-s',
      '--',
      'b/x',
    ]);
    assert.deepEqual(cmd.zfsReceive(ZFS_FUSE, 'b/x', { resumable: true }), ['zfs', 'receive', '--', 'b/x']);
  });
});

describe('tool errors', () => {
  it('maps the tools’ messages to the catalogue, keeping argv and stderr', () => {
    const fail = (stderr: string) =>
      mapZfsError(
        new RpcError('failed', 'zpool: x', { argv: ['zpool', 'x'], exitCode: 1, stderr }),
      ) as RpcError;
    const down = fail(
      'connect: No such file or directory\nPlease make sure that the zfs-fuse daemon is running.\ninternal error: failed to initialize ZFS library',
    );
    assert.equal(down.kind, 'unavailable');
    assert.deepEqual(down.data.argv, ['zpool', 'x']);
    assert.equal(fail("cannot open 'nope': no such pool").kind, 'not_found');
    assert.equal(fail("cannot create 'tank/a': dataset already exists").kind, 'conflict');
    assert.equal(fail("cannot destroy 'tank/a@b': dataset is busy").kind, 'conflict');
    assert.equal(
      fail("cannot set property for 'tank/a': 'compression' must be one of 'on | off'").kind,
      'invalid',
    );
    assert.equal(fail('something else entirely').kind, 'failed');
    const timeout = new RpcError('timeout', 'zpool: timed out');
    assert.equal(mapZfsError(timeout), timeout);
  });
});
