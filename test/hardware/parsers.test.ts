/** The pure parsers and helpers under probes/: udev records, VPD pages, strings, smartctl JSON. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { orderKey } from '../../probes/inventory.js';
import { parseSmartctl, smartHasData } from '../../probes/parse-smartctl.js';
import { parseUdevDb } from '../../probes/parse-udev-db.js';
import { normaliseWwn, pathFacts, sdName } from '../../probes/scsi-path.js';
import { cleanText, unescapeUdev } from '../../probes/sysfs.js';
import { decodeVpd80, decodeVpd83 } from '../../probes/vpd.js';
import { fixture, fixtureFile } from './fixtures.js';

test('udev database record: links, properties, tags, damage counted', () => {
  const r = parseUdevDb(readFileSync(`${fixture('sata-ahci')}/run/udev/data/b8:0`, 'utf8'));
  assert.ok(r.links.includes('disk/by-id/wwn-0x5000cca267c3d4e5'));
  assert.equal(r.props['ID_SERIAL_SHORT'], 'JEK3ABCD');
  assert.equal(r.props['ID_MODEL_ENC'], 'WDC\\x20WD100EFAX-68LHPN0');
  assert.deepEqual(r.tags, ['systemd']);
  assert.equal(r.bad, 0);
  assert.equal(parseUdevDb('garbage\nE:NOEQUALS\nS:ok\n').bad, 2);
});

test('VPD page 0x80 and 0x83 decoding (SPC-4)', () => {
  const p80 = Buffer.concat([Buffer.from([0x01, 0x80, 0x00, 0x0c]), Buffer.from('  HU19487TLK', 'latin1')]);
  assert.equal(decodeVpd80(p80), 'HU19487TLK');
  assert.equal(decodeVpd80(Buffer.from([0x01, 0x83, 0, 0])), undefined, 'wrong page code');
  assert.equal(decodeVpd80(Buffer.from([0x01])), undefined, 'truncated');
  // a target-port NAA (association 01b) first, then the LU's NAA and a T10 id
  const tport = [0x61, 0x93, 0x00, 0x08, 0x50, 0x00, 0xc5, 0x00, 0xa1, 0xb2, 0xc3, 0xd5];
  const lu = [0x01, 0x03, 0x00, 0x08, 0x50, 0x00, 0xc5, 0x00, 0xa1, 0xb2, 0xc3, 0xd4];
  const t10 = [0x02, 0x01, 0x00, 0x08, ...Buffer.from('SEAGATE ', 'latin1')];
  const body = [...tport, ...lu, ...t10];
  const p83 = Buffer.from([0x00, 0x83, 0x00, body.length, ...body]);
  assert.deepEqual(decodeVpd83(p83), { naa: '0x5000c500a1b2c3d4', t10: 'SEAGATE' });
  // a descriptor running past the page end is ignored
  assert.deepEqual(
    decodeVpd83(Buffer.from([0x00, 0x83, 0x00, 0x06, 0x01, 0x03, 0x00, 0x08, 0x50, 0x00])),
    {},
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (a) => {
      decodeVpd80(Buffer.from(a));
      decodeVpd83(Buffer.from(a));
    }),
  );
});

test('cleanText trims padding, maps NUL/tab to spaces, flags other odd bytes', () => {
  assert.deepEqual(cleanText('ST8000NM0075    '), { value: 'ST8000NM0075', odd: false });
  assert.deepEqual(cleanText('   '), { value: undefined, odd: false });
  assert.deepEqual(cleanText('A\x00B\tC'), { value: 'A B C', odd: false });
  assert.deepEqual(cleanText('Ult\xffrium'), { value: 'Ult\uFFFDrium', odd: true });
  assert.deepEqual(cleanText(undefined), { value: undefined, odd: false });
  assert.equal(unescapeUdev('WDC\\x20WD100\\x2f'), 'WDC WD100/');
});

test('WWN normalisation and kernel names', () => {
  assert.equal(normaliseWwn('naa.5000C500A1B2C3D4'), '0x5000c500a1b2c3d4');
  assert.equal(normaliseWwn('0x60000000000000000e00000000010001'), '0x60000000000000000e00000000010001');
  assert.equal(normaliseWwn('eui.0025385B71B1E2F3'), 'eui.0025385b71b1e2f3');
  assert.equal(normaliseWwn('t10.ATA     WDC WD100EFAX'), undefined);
  assert.equal(normaliseWwn('nvme.8086-4257'), undefined, 'a vendor-made fallback is no WWN');
  assert.deepEqual([0, 25, 26, 701, 702, 1023].map(sdName), ['sda', 'sdz', 'sdaa', 'sdzz', 'sdaaa', 'sdamj']);
  const names = Array.from({ length: 800 }, (_, i) => sdName(i));
  assert.deepEqual(
    [...names].sort((a, b) => (orderKey(a) < orderKey(b) ? -1 : 1)),
    names,
    'kernel order',
  );
  assert.ok(orderKey('nvme2n1') < orderKey('nvme10n1'));
});

test('transport and SCSI address from device paths', () => {
  const f = pathFacts(
    'sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdh',
  );
  assert.deepEqual([f.transport, f.hctl, f.host, f.pci], ['usb', '6:0:0:0', 'host6', '0000:00:14.0']);
  const n = pathFacts('sys/devices/pci0000:00/0000:00:1d.0/0000:01:00.0/nvme/nvme0/nvme0n1');
  assert.deepEqual([n.transport, n.nvmeCtrl, n.pci, n.hctl], ['nvme', 'nvme0', '0000:01:00.0', undefined]);
  const i = pathFacts('sys/devices/platform/host7/session1/target7:0:0/7:0:0:1/block/sdi');
  assert.deepEqual([i.transport, i.pci], ['iscsi', undefined]);
  assert.equal(pathFacts('sys/devices/virtual/block/loop0').virtual, true);
});

test('smartctl JSON: a recorded failure and a constructed ATA self-test', () => {
  const vda = parseSmartctl(readFileSync(fixtureFile('smartctl', 'virtio-vda', 'a.json'), 'utf8'));
  assert.equal(vda.exitStatus, 1);
  assert.equal(smartHasData(vda.exitStatus), false);
  assert.deepEqual(vda.messages, ['/dev/vda: Unable to detect device type']);
  const run = parseSmartctl(readFileSync(fixtureFile('smartctl', 'ata-constructed', 'running.json'), 'utf8'));
  assert.deepEqual(run.selfTest, {
    status: 'in progress, 90% remaining',
    inProgress: true,
    remainingPercent: 90,
  });
  const done = parseSmartctl(readFileSync(fixtureFile('smartctl', 'ata-constructed', 'done.json'), 'utf8'));
  assert.deepEqual(
    [
      done.model,
      done.serial,
      done.firmware,
      done.passed,
      done.temperature,
      done.powerOnHours,
      done.selfTest?.inProgress,
    ],
    ['WDC WD100EFAX-68LHPN0', 'JEK3ABCD', '83.H0A83', true, 34, 21873, false],
  );
  assert.deepEqual(parseSmartctl('not json').messages, ['smartctl output is not JSON']);
  assert.equal(smartHasData(4), true, 'bit 2 (a SMART command failed) still carries data');
  assert.equal(smartHasData(2), false);
});
