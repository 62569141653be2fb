/**
 * Damaged trees: truncated and unreadable attributes, missing or corrupt udev records, odd
 * bytes and padding in INQUIRY strings, dangling links. The probes must return what they can
 * with warnings naming the damage: never throw, never give one disk another disk's identity.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { probeAll } from '../../probes/index.js';
import { copyFixture, fixture } from './fixtures.js';

const SDA = 'sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0';
const SDB = 'sys/devices/pci0000:00/0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0';

test('truncated and unreadable attributes: partial disk, warnings, others intact', (t) => {
  const tree = copyFixture('sata-ahci');
  t.after(tree.cleanup);
  const root = tree.dir;
  writeFileSync(path.join(root, SDA, 'block/sda/size'), ''); // truncated write
  rmSync(path.join(root, SDB, 'block/sdb/queue/rotational'));
  mkdirSync(path.join(root, SDB, 'block/sdb/queue/rotational')); // read fails with EISDIR
  writeFileSync(path.join(root, SDB, 'block/sdb/sdb2/start'), '10485'); // cut short: still a number
  writeFileSync(path.join(root, SDB, 'block/sdb/sdb1/size'), 'x\n'); // garbage

  const inv = probeAll(root);
  const sda = inv.disks.find((d) => d.name === 'sda')!;
  const sdb = inv.disks.find((d) => d.name === 'sdb')!;
  assert.equal(sda.size, 0, 'unknown size is 0, with a warning');
  assert.equal(sda.serial, 'JEK3ABCD');
  assert.equal(sdb.rotational, undefined);
  assert.equal(sdb.serial, 'S3Z1NB0K123456A');
  assert.deepEqual(
    sdb.partitions.map((p) => p.name),
    ['sdb2'],
    'the partition with a garbage size is skipped, the other kept',
  );
  const w = (re: RegExp, dev: string) =>
    inv.warnings.some((x) => x.device === dev && re.test(`${x.message} ${x.path}`));
  assert.ok(w(/not a number.*block\/sda\/size/, 'sda'), 'empty size warned');
  assert.ok(w(/unreadable \(EISDIR\).*rotational/, 'sdb'), 'unreadable attribute warned');
  assert.ok(w(/partition skipped/, 'sdb1'), 'skipped partition warned');
});

test('missing and corrupt udev records: sysfs identity only, never a neighbour’s', (t) => {
  const tree = copyFixture('sata-ahci');
  t.after(tree.cleanup);
  const root = tree.dir;
  unlinkSync(path.join(root, 'run/udev/data/b8:16')); // sdb: no record
  writeFileSync(path.join(root, 'run/udev/data/b8:0'), Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x45, 0x3a])); // sda: garbage
  writeFileSync(path.join(root, SDA, 'model'), Buffer.from('WDC\x00WD100\xffEFAX\t   ', 'latin1')); // odd bytes, padding

  const inv = probeAll(root);
  const [sda, sdb] = inv.disks;
  assert.equal(sdb!.name, 'sdb');
  assert.equal(sdb!.wwn, '0x5002538e40a1b2c3', 'WWN from the device wwid attribute');
  assert.equal(sdb!.id, 'wwn-0x5002538e40a1b2c3');
  assert.equal(sdb!.model, 'Samsung SSD 860', 'the 16-byte INQUIRY product, padding trimmed');
  assert.notEqual(sdb!.serial, 'JEK3ABCD');
  assert.equal(sdb!.serial, undefined, 'no serial rather than a wrong one');
  assert.deepEqual(
    sdb!.byId,
    [
      '/dev/disk/by-id/ata-Samsung_SSD_860_EVO_500GB_S3Z1NB0K123456A',
      '/dev/disk/by-id/wwn-0x5002538e40a1b2c3',
    ],
    'links found in /dev/disk that point at sdb, and only those',
  );
  assert.equal(sda!.model, 'WDC WD100\uFFFDEFAX', 'NUL and tab become spaces, other odd bytes U+FFFD');
  assert.equal(sda!.id, 'wwn-0x5000cca267c3d4e5');
  const msgs = inv.warnings.map((w) => `${w.device}: ${w.message}`);
  assert.ok(
    msgs.includes('sdb: no udev database record: serial, WWN and links from sysfs only'),
    msgs.join('\n'),
  );
  assert.ok(
    msgs.some((m) => /^sda: udev record has \d+ damaged line/.test(m)),
    msgs.join('\n'),
  );
  assert.ok(msgs.includes('sda: odd bytes in model replaced'), msgs.join('\n'));
});

test('dangling links: a sys/block entry, a device link and a by-id link point nowhere', (t) => {
  const tree = copyFixture('virtio-this-machine');
  t.after(tree.cleanup);
  const root = tree.dir;
  symlinkSync('../devices/pci0000:00/0000:00:09.0/virtio7/block/vdz', path.join(root, 'sys/block/vdz'));
  mkdirSync(path.join(root, 'dev/disk/by-id'), { recursive: true });
  symlinkSync('../../vdq', path.join(root, 'dev/disk/by-id/virtio-GHOST'));
  symlinkSync('../../vda', path.join(root, 'dev/disk/by-id/virtio-17666427119999462'));
  const vda = 'sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda';
  unlinkSync(path.join(root, vda, 'device'));
  symlinkSync('../../../virtio99', path.join(root, vda, 'device'));

  const inv = probeAll(root);
  assert.deepEqual(
    inv.disks.map((d) => d.name),
    ['vda', 'zram0'],
  );
  const d = inv.disks[0]!;
  assert.equal(d.size, 274877906944);
  assert.deepEqual(
    d.byId,
    ['/dev/disk/by-id/virtio-17666427119999462'],
    'links from /dev when udev has no data',
  );
  assert.equal(d.id, 'virtio-17666427119999462');
  const msgs = inv.warnings.map((w) => `${w.device ?? '-'} ${w.message} ${w.path ?? ''}`);
  assert.ok(
    msgs.some((m) => /^vdz skipped/.test(m)),
    msgs.join('\n'),
  );
  assert.ok(
    msgs.some((m) => /dangling link to \.\.\/\.\.\/vdq dev\/disk\/by-id\/virtio-GHOST/.test(m)),
    msgs.join('\n'),
  );
});

test('a tree with nothing in it, and a sysroot that does not exist, give empty lists with warnings', () => {
  for (const root of [fixture('no-such-fixture'), path.join(fixture('tape-sas'), 'run')]) {
    const inv = probeAll(root);
    assert.deepEqual([inv.disks, inv.hbas, inv.tapes, inv.changers, inv.enclosures], [[], [], [], [], []]);
    assert.ok(inv.warnings.some((w) => /sys\/block missing/.test(w.message)));
  }
});

test('odd bytes in tape INQUIRY strings, read from sysfs', (t) => {
  const tree = copyFixture('tape-fc-ibm');
  t.after(tree.cleanup);
  const q = 'sys/devices/pci0000:00/0000:00:03.0/0000:05:00.0/host2/rport-2:0-1/target2:0:1/2:0:1:0';
  writeFileSync(path.join(tree.dir, q, 'model'), Buffer.from('ULTRIUM\x00\x80 4   \n', 'latin1'));
  const inv = probeAll(tree.dir);
  const d = inv.tapes.find((x) => x.hctl === '2:0:1:0')!;
  assert.equal(d.model, 'ULTRIUM \uFFFD 4');
  assert.ok(inv.warnings.some((w) => w.device === '2:0:1:0' && /odd bytes in model/.test(w.message)));
  assert.equal(
    inv.tapes.find((x) => x.hctl === '2:0:0:0')!.model,
    'ULT3580-TD2',
    'the other drive is untouched',
  );
});
