/**
 * What the probes derive from the sysfs tree recorded in the kernel lab (test/fixtures/sysfs/lab-tgt-scsi-debug)
 * against what the real tools printed in the same guest at the same moment (test/fixtures/{lsscsi,sg3-utils,mtx}/
 * lab-tgt, all by scripts/lab/record-fixtures.sh): where they overlap (SCSI address, type, vendor, model, revision,
 * device nodes, serial), they must agree. The parsers also read the fixtures written in the tools' layouts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { probeAll } from '../../probes/index.js';
import { parseMtxInquiry, parseSgInq } from '../../probes/parse-inquiry.js';
import { type LsscsiDevice, parseLsscsi } from '../../probes/parse-lsscsi.js';
import type { Changer, TapeDrive } from '../../probes/types.js';
import { repoRoot } from '../helpers/paths.js';
import { fixture } from './fixtures.js';

const read = (...rel: string[]) => readFileSync(path.join(repoRoot(), 'test', 'fixtures', ...rel), 'utf8');
const LAB = 'lab-tgt-scsi-debug';

/** lsscsi's view of a probed tape drive or changer. */
function asLsscsi(d: TapeDrive | Changer, type: 'tape' | 'mediumx'): LsscsiDevice {
  const node = type === 'tape' ? (d as TapeDrive).st : (d as Changer).sch;
  return {
    hctl: d.hctl,
    type,
    vendor: d.vendor ?? '',
    model: d.model ?? '',
    revision: d.revision ?? '',
    node,
    sg: d.sg,
  };
}

test('the recorded tree probes without a warning: two disks, two tape drives and a changer over iSCSI', () => {
  const inv = probeAll(fixture(LAB));
  assert.deepEqual(inv.warnings, []);
  assert.equal(inv.disks.length, 2);
  assert.equal(inv.tapes.length, 2);
  assert.equal(inv.changers.length, 1);
  for (const t of inv.tapes) assert.equal(t.changer, inv.changers[0]!.id, 'the drives belong to the changer');
  assert.ok(
    [...inv.tapes, ...inv.changers].every((d) => d.transport === 'iscsi' && d.byId.length > 0),
    'iSCSI transport and udev by-id links',
  );
});

test('lsscsi -g recorded in the guest agrees with the probed tape drives and changer', () => {
  const lines = parseLsscsi(read('lsscsi', 'lab-tgt', 'lsscsi-g.txt')).filter(
    (l) => l.type === 'tape' || l.type === 'mediumx',
  );
  assert.equal(lines.length, 3);
  const inv = probeAll(fixture(LAB));
  const probed = [
    ...inv.tapes.map((t) => asLsscsi(t, 'tape')),
    ...inv.changers.map((c) => asLsscsi(c, 'mediumx')),
  ];
  const sort = (a: LsscsiDevice, b: LsscsiDevice) => a.hctl.localeCompare(b.hctl);
  assert.deepEqual(probed.sort(sort), lines.sort(sort));
});

test('lsscsi -g recorded in the guest agrees with the probed disks (H:C:T:L, model, node)', () => {
  const lines = parseLsscsi(read('lsscsi', 'lab-tgt', 'lsscsi-g.txt')).filter((l) => l.type === 'disk');
  const disks = probeAll(fixture(LAB)).disks;
  assert.deepEqual(
    disks.map((d) => [d.paths[0]?.hctl, d.model, `/dev/${d.name}`]),
    lines.map((l) => [l.hctl, l.model, l.node]),
  );
});

test('sg_inq recorded in the guest (changer, drive) agrees with the probed devices', () => {
  const inv = probeAll(fixture(LAB));
  const all = [...inv.tapes, ...inv.changers];
  const records = [
    ...parseSgInq(read('sg3-utils', 'lab-tgt', 'sg_inq.changer.txt')),
    ...parseSgInq(read('sg3-utils', 'lab-tgt', 'sg_inq.drive.txt')),
  ];
  assert.equal(records.length, 2);
  const sgOf = { 8: '/dev/sg5', 1: '/dev/sg3' } as Record<number, string>;
  for (const r of records) {
    const d = all.find((x) => x.sg === sgOf[r.pdt!]);
    assert.ok(d, `a probed device of type ${r.pdt}`);
    assert.equal(r.pdt === 8, inv.changers.includes(d as Changer), `type ${r.pdt}`);
    assert.deepEqual(
      [d.vendor, d.model, d.revision, d.serial],
      [r.vendor, r.product, r.revision, r.serial],
      d.sg,
    );
  }
});

test('mtx inquiry recorded in the guest agrees with the probed changer and drive', () => {
  const inv = probeAll(fixture(LAB));
  const c = parseMtxInquiry(read('mtx', 'lab-tgt', 'mtx-inquiry.changer.txt'));
  const d = parseMtxInquiry(read('mtx', 'lab-tgt', 'mtx-inquiry.drive.txt'));
  assert.equal(c.productType, 'Medium Changer');
  assert.equal(d.productType, 'Tape Drive');
  const ch = inv.changers[0]!;
  const t = inv.tapes[0]!;
  assert.deepEqual([ch.vendor, ch.model, ch.revision], [c.vendor, c.product, c.revision]);
  assert.deepEqual([t.vendor, t.model, t.revision], [d.vendor, d.product, d.revision]);
});

test('sg_inq in both layouts (written): Device_type= with padding and a transcript; PDT= without a serial', () => {
  const older = parseSgInq(read('sg3-utils', 'written-transcript-older-layout.txt'));
  assert.deepEqual(
    older.map((i) => [i.device, i.pdt, i.vendor, i.product, i.serial]),
    [
      ['/dev/sg7', 8, 'HPE', 'MSL G3 Series', 'DEC9410C2W'],
      ['/dev/sg8', 1, 'HP', 'Ultrium 8-SCSI', 'CZ2810KL4T'],
    ],
  );
  const newer = parseSgInq(read('sg3-utils', 'written-newer-layout-no-serial.txt'));
  assert.deepEqual([newer[0]!.pdt, newer[0]!.product, newer[0]!.serial], [1, 'LTO-6 HH', undefined]);
});

test('lsscsi -g of two libraries (written): a prompt line, a cd/dvd, models with spaces', () => {
  const l = parseLsscsi(read('lsscsi', 'written-two-libraries.txt'));
  assert.deepEqual(
    l
      .filter((x) => x.type !== 'disk')
      .map((x) => [x.hctl, x.type, x.vendor, x.model, x.revision, x.node, x.sg]),
    [
      ['1:0:0:0', 'cd/dvd', 'QEMU', 'QEMU DVD-ROM', '2.5+', '/dev/sr0', '/dev/sg2'],
      ['5:0:0:0', 'tape', 'HP', 'Ultrium 8-SCSI', 'K4H1', '/dev/st0', '/dev/sg3'],
      ['5:0:0:1', 'mediumx', 'HPE', 'MSL G3 Series', '7.10', '/dev/sch0', '/dev/sg4'],
      ['6:0:0:0', 'tape', 'HP', 'Ultrium 8-SCSI', 'K4H2', '/dev/st1', '/dev/sg5'],
      ['6:0:0:1', 'mediumx', 'HPE', 'MSL G3 Series', '7.10', '/dev/sch1', '/dev/sg6'],
    ],
  );
  assert.equal(l.filter((x) => x.type === 'disk').length, 2);
});
