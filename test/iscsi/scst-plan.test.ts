/**
 * The SCST apply plan: the exact scstadmin argv, and the exact sysfs management writes that take
 * the recorded running state (test/fixtures/scst-sysfs) to the shared desired state — removals
 * before creations, a device whose creation parameters differ deleted and added again with its
 * LUNs, CHAP entries compared with secrets.env, secrets hidden in shown plans.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  applySysfsWrites,
  planSysfs,
  redactWrites,
  scstadminCheck,
  scstadminConfig,
} from '../../agent/iscsi/scst-plan.js';
import { readScstRunning, SCST_ROOT, type ScstRunning } from '../../agent/iscsi/scst-sysfs.js';
import { tempDir } from '../helpers/paths.js';
import { backingPath, DB, desired, STORE, SYSROOT, secrets } from './scst-state.js';

const o = { backingPath, secrets };
const T = `targets/iscsi/${STORE}`;
const D = `targets/iscsi/${DB}`;

describe('scstadmin argv', () => {
  it('applies and checks a file', () => {
    assert.deepEqual(scstadminConfig('/etc/calypso/system/scst/scst.conf'), [
      'scstadmin',
      '-noprompt',
      '-force',
      '-config',
      '/etc/calypso/system/scst/scst.conf',
    ]);
    assert.deepEqual(scstadminCheck('/x/scst.conf'), ['scstadmin', '-check_config', '/x/scst.conf']);
  });
});

describe('sysfs writes', () => {
  it('from the recorded running state to the desired one', async () => {
    const running = await readScstRunning(SYSROOT);
    assert.deepEqual(planSysfs(desired(), running, o), [
      // removals
      { path: `${D}/ini_groups/dbhosts/initiators/mgmt`, value: 'del iqn.2026-01.com.example:db3' },
      { path: `${D}/ini_groups/dbhosts/luns/mgmt`, value: 'del 0' },
      { path: 'targets/iscsi/iqn.2026-01.com.example:old/enabled', value: '0' },
      { path: 'targets/iscsi/mgmt', value: 'del_target iqn.2026-01.com.example:old' },
      { path: 'targets/iscsi/mgmt', value: `del_target_attribute ${STORE} IncomingUser bob` },
      { path: 'handlers/vdisk_blockio/mgmt', value: 'del_device t2l0' },
      { path: 'handlers/vdisk_fileio/mgmt', value: 'del_device old0' },
      // creations
      {
        path: 'handlers/vdisk_fileio/mgmt',
        value:
          'add_device t1l1 filename=/srv/calypso/iscsi/disk1.img;blocksize=4096;read_only=1;write_through=0',
      },
      { path: 'devices/t1l1/t10_dev_id', value: '00000000000000b1' },
      { path: 'devices/t1l1/usn', value: '00000000000000b1' },
      { path: 'devices/t1l1/naa_id', value: `0x6001405${'b'.repeat(25)}` },
      {
        path: 'handlers/vdisk_blockio/mgmt',
        value: 'add_device t2l0 filename=/dev/zvol/tank/db;blocksize=4096;read_only=0;write_through=1',
      },
      { path: 'devices/t2l0/t10_dev_id', value: '00000000000000d0' },
      { path: 'devices/t2l0/usn', value: '00000000000000d0' },
      { path: 'devices/t2l0/naa_id', value: `0x6001405${'d'.repeat(25)}` },
      { path: 'targets/iscsi/mgmt', value: `add_target_attribute ${STORE} IncomingUser alice secret-alice1` },
      { path: `${T}/luns/mgmt`, value: 'add t1l1 1 read_only=1' },
      { path: `${D}/ini_groups/dbhosts/luns/mgmt`, value: 'add t2l0 0' },
    ]);
  });

  it('from nothing: the whole state, driver enabled first, targets enabled last', () => {
    const empty: ScstRunning = {
      driverEnabled: false,
      devices: new Map(),
      targets: new Map(),
      live: { targets: [], sessions: [] },
    };
    const w = planSysfs(desired(), empty, o);
    assert.deepEqual(w[0], { path: 'targets/iscsi/enabled', value: '1' });
    const targetWrites = w.filter((x) => x.path.startsWith('targets/')).slice(1);
    assert.deepEqual(targetWrites, [
      { path: 'targets/iscsi/mgmt', value: `add_target ${STORE}` },
      { path: `${T}/rel_tgt_id`, value: '1' },
      { path: `${T}/alias`, value: 'store' },
      { path: 'targets/iscsi/mgmt', value: `add_target_attribute ${STORE} allowed_portal 192.0.2.10` },
      { path: 'targets/iscsi/mgmt', value: `add_target_attribute ${STORE} IncomingUser alice secret-alice1` },
      {
        path: 'targets/iscsi/mgmt',
        value: `add_target_attribute ${STORE} OutgoingUser store secret-mutual1`,
      },
      { path: `${T}/luns/mgmt`, value: 'add t1l0 0' },
      { path: `${T}/luns/mgmt`, value: 'add t1l1 1 read_only=1' },
      { path: `${T}/enabled`, value: '1' },
      { path: 'targets/iscsi/mgmt', value: `add_target ${DB}` },
      { path: `${D}/rel_tgt_id`, value: '2' },
      { path: `${D}/ini_groups/mgmt`, value: 'create dbhosts' },
      { path: `${D}/ini_groups/dbhosts/luns/mgmt`, value: 'add t2l0 0' },
      { path: `${D}/ini_groups/dbhosts/initiators/mgmt`, value: 'add iqn.2026-01.com.example:db1' },
      { path: `${D}/ini_groups/dbhosts/initiators/mgmt`, value: 'add iqn.2026-01.com.example:db2' },
      { path: `${D}/enabled`, value: '1' },
    ]);
    assert.equal(w.filter((x) => x.value.startsWith('add_device')).length, 3);
  });

  it('what matches is left alone: only targets and devices no longer wanted are removed', async () => {
    const running = await readScstRunning(SYSROOT);
    // the store target exactly as recorded (LUN 0, CHAP bob with his secret)
    const s = desired();
    s.targets = s.targets.filter((t) => t.iqn === STORE);
    const store = s.targets[0];
    assert.ok(store);
    store.luns = store.luns.filter((l) => l.lun === 0);
    store.chap = { user: 'bob', mutualUser: 'store' };
    const sec = new Map([...secrets, ['ISCSI_T1_CHAP_SECRET', 'secret-bob123']]);
    const w = planSysfs(s, running, { backingPath, secrets: sec });
    assert.deepEqual(w, [
      { path: 'targets/iscsi/iqn.2026-01.com.example:db/enabled', value: '0' },
      { path: 'targets/iscsi/mgmt', value: `del_target ${DB}` },
      { path: 'targets/iscsi/iqn.2026-01.com.example:old/enabled', value: '0' },
      { path: 'targets/iscsi/mgmt', value: 'del_target iqn.2026-01.com.example:old' },
      { path: 'handlers/vdisk_blockio/mgmt', value: 'del_device t2l0' },
      { path: 'handlers/vdisk_fileio/mgmt', value: 'del_device old0' },
    ]);
  });

  it('refuses a value that would break a management command, planning nothing', async () => {
    const running = await readScstRunning(SYSROOT);
    const s = desired();
    s.targets[0]!.luns[0]!.backing = { kind: 'zvol', dataset: 'tank/v;read_only=0' };
    assert.throws(() => planSysfs(s, running, o), { kind: 'invalid' });
  });

  it('hides CHAP secrets in shown plans', async () => {
    const running = await readScstRunning(SYSROOT);
    const shown = JSON.stringify(redactWrites(planSysfs(desired(), running, o)));
    assert.ok(!shown.includes('secret-alice1'));
    assert.match(shown, /IncomingUser alice \*{8}/);
  });

  it('performs the writes in order under a sysroot', async () => {
    const tmp = tempDir('calypso-scst-');
    try {
      cpSync(SYSROOT, tmp.dir, { recursive: true, verbatimSymlinks: true });
      await applySysfsWrites(tmp.dir, [
        { path: 'targets/iscsi/mgmt', value: 'add_target iqn.2026-01.com.example:new' },
        { path: `${T}/enabled`, value: '0' },
      ]);
      const root = path.join(tmp.dir, SCST_ROOT);
      assert.equal(
        readFileSync(path.join(root, 'targets/iscsi/mgmt'), 'utf8'),
        'add_target iqn.2026-01.com.example:new\n',
      );
      assert.equal(readFileSync(path.join(root, T, 'enabled'), 'utf8'), '0\n');
    } finally {
      tmp.cleanup();
    }
  });
});
