/**
 * Each recorded/constructed tree gives the expected inventory; every object matches the
 * published schemas; and where lsblk can read the same tree (`lsblk --sysroot`), the disk list
 * agrees with it on name, size, read-only and removable.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { probeAll } from '../../probes/index.js';
import {
  ChangerSchema,
  DiskSchema,
  EnclosureSchema,
  HbaSchema,
  TapeDriveSchema,
} from '../../probes/schemas.js';
import { FIXTURE_NAMES, fixture, wire } from './fixtures.js';

test('every fixture probes without throwing and matches the result schemas', () => {
  for (const name of FIXTURE_NAMES) {
    const inv = wire(probeAll(fixture(name)));
    const check = (schema: Parameters<typeof Value.Check>[0], items: unknown[], what: string) => {
      for (const it of items) {
        const err = [...Value.Errors(schema, it)][0];
        assert.equal(err, undefined, `${name} ${what}: ${err?.path} ${err?.message}`);
      }
    };
    check(DiskSchema, inv.disks, 'disk');
    check(HbaSchema, inv.hbas, 'hba');
    check(EnclosureSchema, inv.enclosures, 'enclosure');
    check(TapeDriveSchema, inv.tapes, 'tape');
    check(ChangerSchema, inv.changers, 'changer');
    const ids = inv.disks.map((d) => d.id);
    assert.equal(new Set(ids).size, ids.length, `${name}: disk ids unique`);
  }
});

test('virtio tree recorded on this machine: vda with its sysfs serial, zram0, no empty loop', () => {
  const inv = probeAll(fixture('virtio-this-machine'));
  assert.deepEqual(
    inv.disks.map((d) => d.name),
    ['vda', 'zram0'],
  );
  const vda = inv.disks[0]!;
  assert.equal(vda.size, 274877906944);
  assert.equal(vda.transport, 'virtio');
  assert.equal(vda.serial, '17666427119999462');
  assert.equal(vda.id, 'virtio-17666427119999462');
  assert.equal(vda.hba, '0000:00:02.0');
  assert.equal(inv.disks[1]!.virtual, true);
  assert.deepEqual(
    inv.hbas.map((h) => [h.id, h.kind, h.driver, h.vendorId, h.deviceId]),
    [['0000:00:02.0', 'virtio-blk', 'virtio_blk', '1af4', '1042']],
  );
  assert.ok(
    inv.warnings.some((w) => /udev database/.test(w.message)),
    'missing udev db is reported',
  );
});

test('SATA on AHCI: full ATA model from udev, partitions with by-id, DVD as rom', () => {
  const inv = probeAll(fixture('sata-ahci'));
  assert.deepEqual(
    inv.disks.map((d) => [d.name, d.type, d.transport, d.id]),
    [
      ['sda', 'disk', 'sata', 'wwn-0x5000cca267c3d4e5'],
      ['sdb', 'disk', 'sata', 'wwn-0x5002538e40a1b2c3'],
      ['sr0', 'rom', 'sata', 'ata-HL-DT-ST_DVDRAM_GH24NSD1_K1EG9A12345'],
    ],
  );
  const [sda, sdb] = inv.disks;
  assert.equal(sda!.model, 'WDC WD100EFAX-68LHPN0', 'not the 16-byte INQUIRY cut');
  assert.equal(sda!.serial, 'JEK3ABCD');
  assert.equal(sda!.physicalSectorSize, 4096);
  assert.equal(sda!.rotational, true);
  assert.equal(sdb!.rotational, false);
  assert.deepEqual(
    sdb!.partitions.map((p) => [p.name, p.number, p.start, p.size]),
    [
      ['sdb1', 1, 2048 * 512, 1048576 * 512],
      ['sdb2', 2, 1050624 * 512, 975720448 * 512],
    ],
  );
  assert.ok(sdb!.partitions[0]!.byId.includes('/dev/disk/by-id/wwn-0x5002538e40a1b2c3-part1'));
  assert.deepEqual(
    inv.hbas.map((h) => [h.id, h.driver, h.hosts.length, h.disks.length]),
    [['0000:00:17.0', 'ahci', 3, 3]],
  );
});

test('SAS HBA with two expanders: dual-path disks folded by WWN, enclosure slots, phys and ports', () => {
  const inv = probeAll(fixture('sas-expander-enclosure'));
  assert.equal(inv.disks.length, 3, 'six paths, three disks');
  const d = inv.disks.find((x) => x.wwn === '0x5000c500a1b2c3e8')!;
  assert.equal(d.id, 'wwn-0x5000c500a1b2c3e8');
  assert.deepEqual(
    d.paths.map((p) => [p.name, p.hctl, p.sasAddress]),
    [
      ['sdc', '0:0:1:0', '0x5000c500a1b2c3e9'],
      ['sdf', '0:0:5:0', '0x5000c500a1b2c3ea'],
    ],
  );
  assert.equal(d.serial, 'ZA1ABCDF0000C9211ABC');
  assert.equal(d.transport, 'sas');
  assert.deepEqual(d.enclosure, { id: '0x500304800000007f', slot: 1 });
  assert.equal(d.byPath.length, 2);
  const enc = inv.enclosures[0]!;
  assert.equal(enc.id, '0x500304800000007f');
  assert.deepEqual(
    enc.slots.map((s) => [s.slot, s.status, s.locate, s.disk?.id]),
    [
      [0, 'OK', false, 'wwn-0x5000c500a1b2c3d4'],
      [1, 'OK', true, 'wwn-0x5000c500a1b2c3e8'],
      [2, 'OK', false, 'wwn-0x5000c500a1b2c3fc'],
      [3, 'not installed', false, undefined],
    ],
  );
  const hba = inv.hbas[0]!;
  assert.equal(hba.driver, 'mpt3sas');
  assert.equal(hba.phys.length, 8);
  assert.deepEqual(
    hba.ports.map((p) => [p.name, p.phys.length, p.attached?.type, p.attached?.sasAddress]),
    [
      ['port-0:0', 4, 'expander', '0x500304800000007f'],
      ['port-0:1', 4, 'expander', '0x50030480000000bf'],
    ],
  );
  assert.equal(hba.disks.length, 3);
});

test('NVMe, USB and iSCSI trees', () => {
  const nv = probeAll(fixture('nvme')).disks;
  assert.deepEqual(
    nv.map((d) => [d.name, d.transport, d.wwn, d.serial, d.model, d.partitions.length]),
    [['nvme0n1', 'nvme', 'eui.0025385b71b1e2f3', 'S4EWNX0R123456', 'Samsung SSD 970 EVO Plus 1TB', 2]],
  );
  assert.equal(nv[0]!.partitions[1]!.name, 'nvme0n1p2');
  const nvh = probeAll(fixture('nvme')).hbas[0]!;
  assert.deepEqual(
    [nvh.kind, nvh.driver, nvh.model, nvh.firmware],
    ['nvme', 'nvme', 'Samsung SSD 970 EVO Plus 1TB', '2B2QEXM7'],
  );

  const usb = probeAll(fixture('usb')).disks[0]!;
  assert.deepEqual(
    [usb.transport, usb.removable, usb.vendor, usb.model, usb.serial, usb.id],
    [
      'usb',
      true,
      'SanDisk',
      'Extreme',
      'AA010509161249345678',
      'usb-SanDisk_Extreme_AA010509161249345678-0:0',
    ],
  );

  const inv = probeAll(fixture('iscsi'));
  const sdi = inv.disks[0]!;
  assert.deepEqual(
    [sdi.transport, sdi.vendor, sdi.model, sdi.serial, sdi.hctl],
    ['iscsi', 'IET', 'VIRTUAL-DISK', 'beaf11', '7:0:0:1'],
  );
  assert.equal(
    sdi.wwn,
    '0x60000000000000000e00000000010001',
    'ID_WWN_WITH_EXTENSION preferred, as lsblk does',
  );
  assert.deepEqual(
    [inv.hbas[0]!.id, inv.hbas[0]!.driver, inv.hbas[0]!.transport],
    ['host7', 'iscsi_tcp', 'iscsi'],
  );
});

test('SAS tape drive and changer: nodes, serials from udev, drive linked to its changer', () => {
  const inv = probeAll(fixture('tape-sas'));
  assert.equal(inv.disks.length, 0);
  const [t] = inv.tapes;
  const [c] = inv.changers;
  assert.deepEqual(
    [t!.id, t!.st, t!.nst, t!.sg, t!.serial, t!.transport, t!.changer],
    [
      'wwn-0x50014380123abcde',
      '/dev/st0',
      '/dev/nst0',
      '/dev/sg4',
      'HU19487TLK',
      'sas',
      'wwn-0x50014380123abcdf',
    ],
  );
  assert.ok(t!.byId.includes('/dev/tape/by-id/scsi-HU19487TLK-nst'));
  assert.deepEqual(
    [c!.sch, c!.sg, c!.serial, c!.vendor, c!.model],
    ['/dev/sch0', '/dev/sg5', '2A1SL10471', 'TANDBERG', 'StorageLoader'],
  );
});

test('FC tape library without udev: serials from VPD page 0x80, a drive without serial keyed by address', () => {
  const inv = probeAll(fixture('tape-fc-ibm'));
  assert.deepEqual(
    inv.tapes.map((t) => [t.hctl, t.serial, t.id, t.transport]),
    [
      ['2:0:0:0', '6022976126', 'scsi-6022976126', 'fc'],
      ['2:0:1:0', undefined, 'hctl-2:0:1:0', 'fc'],
    ],
  );
  assert.equal(inv.changers[0]!.serial, '0000073921270400');
  assert.ok(inv.warnings.some((w) => w.device === '2:0:1:0' && /not stable/.test(w.message)));
});

const LSBLK_FIXTURES = [
  'virtio-this-machine',
  'lab-tgt-scsi-debug',
  'sata-ahci',
  'sas-expander-enclosure',
  'nvme',
  'usb',
  'iscsi',
];

test('lsblk --sysroot agrees on every fixture: names, sizes, RO, RM, partitions', () => {
  for (const name of LSBLK_FIXTURES) {
    const out = execFileSync('lsblk', ['--sysroot', fixture(name), '-J', '-b', '-o', 'NAME,SIZE,RO,RM'], {
      encoding: 'utf8',
    });
    const ls = (JSON.parse(out) as { blockdevices: LsblkDev[] }).blockdevices;
    const inv = probeAll(fixture(name));
    const ours = new Map<string, { size: number; ro: boolean; rm: boolean; parts: string[] }>();
    for (const d of inv.disks) {
      for (const p of d.paths)
        ours.set(p.name, {
          size: d.size,
          ro: d.readOnly,
          rm: d.removable,
          parts: d.partitions.map((x) => x.name),
        });
    }
    assert.deepEqual([...ours.keys()].sort(), ls.map((l) => l.name).sort(), `${name}: same devices`);
    for (const l of ls) {
      const o = ours.get(l.name)!;
      assert.deepEqual(
        [o.size, o.ro, o.rm, o.parts],
        [l.size, l.ro, l.rm, (l.children ?? []).map((c) => c.name)],
        `${name}: ${l.name}`,
      );
    }
  }
});

interface LsblkDev {
  name: string;
  size: number;
  ro: boolean;
  rm: boolean;
  children?: LsblkDev[];
}
