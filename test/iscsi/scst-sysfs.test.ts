/**
 * The running SCST state from a recorded /sys/kernel/scst_tgt tree (test/fixtures/scst-sysfs,
 * built by hand after the layout in iscsi-scst's README: attribute files with `[key]` lines,
 * symlinks for LUN devices, handlers and session LUN views): targets, LUNs (with groups, the
 * LUNs come from the groups), groups, CHAP users, sessions per LUN, and the drift against the
 * shared desired state.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { computeDrift } from '../../agent/iscsi/backend.js';
import { readScstLive, SCST_ROOT } from '../../agent/iscsi/scst-sysfs.js';
import { tempDir } from '../helpers/paths.js';
import { backingPath, DB, desired, STORE, SYSROOT } from './scst-state.js';

const OLD = 'iqn.2026-01.com.example:old';

describe('SCST live state from the recorded sysfs tree', () => {
  it('reads targets, LUNs, groups and CHAP users', async () => {
    const live = await readScstLive(SYSROOT);
    assert.deepEqual(
      live.targets.map((t) => t.iqn),
      [DB, OLD, STORE],
    );
    const store = live.targets.find((t) => t.iqn === STORE);
    assert.deepEqual(store, {
      iqn: STORE,
      tid: 1,
      enabled: true,
      luns: [
        {
          lun: 0,
          path: '/dev/zvol/tank/vol0',
          blockSize: 512,
          readonly: false,
          serial: '1a2b3c4d5e6f7081',
          naa: `6001405${'a'.repeat(25)}`,
          sizeBytes: 1024 * 1048576,
        },
      ],
      initiators: [],
      allowAll: true,
      groups: [],
      chapUsers: ['bob'],
      mutualUsers: ['store'],
    });
    const db = live.targets.find((t) => t.iqn === DB);
    assert.equal(db?.tid, 2);
    assert.equal(db?.allowAll, false);
    assert.deepEqual(db?.groups, [
      {
        name: 'dbhosts',
        initiators: [
          'iqn.2026-01.com.example:db1',
          'iqn.2026-01.com.example:db2',
          'iqn.2026-01.com.example:db3',
        ],
        luns: [{ lun: 0, target: 0 }],
      },
    ]);
    assert.deepEqual(
      db?.luns.map((l) => [l.lun, l.path, l.blockSize]),
      [[0, '/dev/zvol/tank/db', 512]],
    );
    assert.deepEqual(db?.chapUsers, []);
    const old = live.targets.find((t) => t.iqn === OLD);
    assert.deepEqual(old?.luns, []);
  });

  it('reads sessions with their address and the LUNs each one sees', async () => {
    const live = await readScstLive(SYSROOT);
    assert.deepEqual(live.sessions, [
      { target: DB, initiator: 'iqn.2026-01.com.example:db1', address: '192.0.2.61', luns: [0] },
      { target: STORE, initiator: 'iqn.2026-01.com.example:host1', address: '192.0.2.50', luns: [0] },
    ]);
  });

  it('drift against the desired state: missing LUN, CHAP user, block size, extra group member, extra target', async () => {
    const live = await readScstLive(SYSROOT);
    const drift = computeDrift(desired(), live, backingPath, { compareGroups: true });
    assert.deepEqual(drift, [
      { target: STORE, kind: 'missing', what: 'lun 1', desired: '/srv/calypso/iscsi/disk1.img' },
      { target: STORE, kind: 'different', what: 'chap', desired: 'alice', running: 'bob' },
      {
        target: DB,
        kind: 'different',
        what: 'lun 0',
        desired: '/dev/zvol/tank/db',
        running: 'block size 512 ≠ 4096',
      },
      {
        target: DB,
        kind: 'different',
        what: 'group dbhosts',
        desired: 'iqn.2026-01.com.example:db1,iqn.2026-01.com.example:db2 [0->0]',
        running: 'iqn.2026-01.com.example:db1,iqn.2026-01.com.example:db2,iqn.2026-01.com.example:db3 [0->0]',
      },
      { target: OLD, kind: 'extra', what: 'target' },
    ]);
  });

  it('a disabled iscsi driver disables every target', async () => {
    const tmp = tempDir('calypso-scst-');
    try {
      cpSync(SYSROOT, tmp.dir, { recursive: true, verbatimSymlinks: true });
      writeFileSync(path.join(tmp.dir, SCST_ROOT, 'targets', 'iscsi', 'enabled'), '0\n');
      const live = await readScstLive(tmp.dir);
      assert.ok(live.targets.every((t) => !t.enabled));
      rmSync(path.join(tmp.dir, SCST_ROOT, 'targets'), { recursive: true });
      await assert.rejects(readScstLive(tmp.dir), { kind: 'unavailable' });
    } finally {
      tmp.cleanup();
    }
  });

  it("with groups, a LUN no group maps is still the target's (its device exists)", async () => {
    const tmp = tempDir('calypso-scst-');
    try {
      cpSync(SYSROOT, tmp.dir, { recursive: true, verbatimSymlinks: true });
      const root = path.join(tmp.dir, SCST_ROOT);
      mkdirSync(path.join(root, 'devices', 't2l1'));
      writeFileSync(path.join(root, 'devices', 't2l1', 'filename'), '/dev/zvol/tank/db1\n[key]\n');
      symlinkSync('../../devices/t2l1', path.join(root, 'handlers', 'vdisk_blockio', 't2l1'));
      // the same device name under another target number is not this target's
      mkdirSync(path.join(root, 'devices', 't9l1'));
      symlinkSync('../../devices/t9l1', path.join(root, 'handlers', 'vdisk_blockio', 't9l1'));
      const live = await readScstLive(tmp.dir);
      const db = live.targets.find((t) => t.iqn === DB);
      assert.deepEqual(
        db?.luns.map((l) => [l.lun, l.path]),
        [
          [0, '/dev/zvol/tank/db'],
          [1, '/dev/zvol/tank/db1'],
        ],
      );
      assert.deepEqual(db?.groups[0]?.luns, [{ lun: 0, target: 0 }]);
      const store = live.targets.find((t) => t.iqn === STORE);
      assert.deepEqual(
        store?.luns.map((l) => l.lun),
        [0],
        'without groups only exported LUNs count',
      );
    } finally {
      tmp.cleanup();
    }
  });

  it('no SCST tree: unavailable', async () => {
    await assert.rejects(readScstLive('/nonexistent-sysroot'), (e: Error & { kind?: string }) => {
      assert.equal(e.kind, 'unavailable');
      assert.match(e.message, /SCST is not loaded/);
      return true;
    });
  });
});
