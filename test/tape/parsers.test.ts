/**
 * The tape parsers on output recorded in the kernel lab (test/fixtures/{mtx,mt-st,lsscsi,sg3-utils}/lab-tgt: tgt's
 * library through the kernel's st/sg/ch drivers, the real mtx, mt, tapeinfo, lsscsi and sg_inq) and on fixtures
 * written here in the tools' formats (test/fixtures/mtx: vendor libraries with many slots and mailslots, sense
 * noise, padding, Phys Loc, cleaning and unlabelled cartridges, a tag with a space).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { mediaOf } from '../../agent/tape/media.js';
import { parseMtStatus } from '../../agent/tape/parse-mt-status.js';
import { MtxParseError, parseMtxStatus, publicStatus } from '../../agent/tape/parse-mtx-status.js';
import { parseTapeinfo } from '../../agent/tape/parse-tapeinfo.js';
import { describeAlert, needsCleaning } from '../../agent/tape/tapealert.js';
import { parseMtxInquiry, parseSgInq } from '../../probes/parse-inquiry.js';
import { parseLsscsi } from '../../probes/parse-lsscsi.js';
import { repoRoot } from '../helpers/paths.js';

const fixture = (...p: string[]) => readFileSync(path.join(repoRoot(), 'test', 'fixtures', ...p), 'utf8');
const lab = (tool: string, file: string) => fixture(tool, 'lab-tgt', file);

test('mtx status recorded in the lab: tgt’s library through sg, padded tags, two mailslots after eight slots', () => {
  const s = parseMtxStatus(lab('mtx', 'mtx-status.full.txt'));
  assert.equal(s.device, '/dev/sg5');
  assert.deepEqual(s.declared, { drives: 2, slots: 10, importExport: 2 });
  assert.deepEqual(s.drives, [
    { index: 0, full: false },
    { index: 1, full: false },
  ]);
  assert.equal(s.slots.length, 10);
  assert.deepEqual(s.slots[0], { index: 1, full: true, volumeTag: 'CAL001L5', importExport: false });
  assert.deepEqual(s.slots[4], { index: 5, full: false, importExport: false }, 'an empty tag is no tag');
  assert.deepEqual(
    s.slots.filter((x) => x.importExport).map((x) => [x.index, x.full]),
    [
      [9, false],
      [10, false],
    ],
  );
  assert.deepEqual(
    s.slots.filter((x) => mediaOf(x.volumeTag).cleaning).map((x) => x.index),
    [6],
  );
});

test('mtx status recorded after load and transfer: the drive names its source slot, a mailslot holds a cartridge', () => {
  const loaded = parseMtxStatus(lab('mtx', 'mtx-status.drive0-loaded.txt'));
  assert.deepEqual(loaded.drives[0], { index: 0, full: true, volumeTag: 'CAL001L5', sourceSlot: 1 });
  assert.deepEqual(loaded.slots[0], { index: 1, full: false, importExport: false });
  const mail = parseMtxStatus(lab('mtx', 'mtx-status.drive0-loaded-mailslot-full.txt'));
  assert.deepEqual(mail.slots[8], { index: 9, full: true, volumeTag: 'CAL002L5', importExport: true });
  assert.deepEqual(mail.slots[1], { index: 2, full: false, importExport: false });
  const back = parseMtxStatus(lab('mtx', 'mtx-status.unloaded.txt'));
  assert.deepEqual(back.drives[0], { index: 0, full: false });
  assert.equal(back.slots[0]!.volumeTag, 'CAL001L5');
  assert.equal(back.slots[8]!.volumeTag, 'CAL002L5');
});

test('mtx status of a vendor library (written): 4 drives, 40 slots, 4 mailslots, a tag with a space', () => {
  const s = parseMtxStatus(fixture('mtx', 'written-4drives-44slots-4ie.txt'));
  assert.equal(s.device, '/dev/sg6');
  assert.deepEqual(s.declared, { drives: 4, slots: 44, importExport: 4 });
  assert.deepEqual(
    s.drives.map((d) => [d.index, d.full]),
    [
      [0, false],
      [1, false],
      [2, false],
      [3, false],
    ],
  );
  assert.equal(s.slots.length, 44);
  assert.deepEqual(s.slots[0], { index: 1, full: true, volumeTag: 'E01001L8', importExport: false });
  assert.deepEqual(s.slots[9], { index: 10, full: false, importExport: false });
  assert.deepEqual(s.slots[36], { index: 37, full: true, volumeTag: 'BACKUP 037', importExport: false });
  assert.deepEqual(s.slots[40], { index: 41, full: false, importExport: true });
  assert.equal(s.slots.filter((x) => x.full).length, 26);
  assert.deepEqual(
    s.slots.filter((x) => x.importExport).map((x) => x.index),
    [41, 42, 43, 44],
  );
  assert.deepEqual(
    s.slots.filter((x) => mediaOf(x.volumeTag).cleaning).map((x) => x.index),
    [38, 39],
  );
  assert.equal(mediaOf('BACKUP 037').type, 'unknown');
});

test('mtx status of a loader by its by-id path (written): short tag, CLN…CU cleaning tapes, mailslots 21–24', () => {
  const s = parseMtxStatus(fixture('mtx', 'written-2drives-24slots-4ie-byid.txt'));
  assert.equal(s.device, '/dev/tape/by-id/scsi-3500110a00104d2f0');
  assert.equal(s.drives.length, 2);
  assert.equal(s.slots.length, 24);
  assert.equal(s.slots[4]!.volumeTag, 'arc5');
  assert.deepEqual(
    s.slots.filter((x) => x.importExport).map((x) => x.index),
    [21, 22, 23, 24],
  );
  assert.equal(mediaOf(s.slots[0]!.volumeTag).cleaning, true);
  assert.equal(mediaOf(s.slots[1]!.volumeTag).type, 'LTO-6');
  assert.equal(mediaOf('arc5').type, 'unknown');
  assert.equal(mediaOf('test22L1').type, 'LTO-1');
});

test('mtx status tolerance: sense noise, padded tags, unknown source, unlabelled, alternate tag, mailslots', () => {
  const s = parseMtxStatus(fixture('mtx', 'handwritten-noise-padded-ie.txt'));
  assert.deepEqual(s.declared, { drives: 3, slots: 10, importExport: 2 });
  assert.deepEqual(s.drives, [
    { index: 0, full: true, volumeTag: 'A00003L8', sourceSlot: 3 },
    { index: 1, full: false },
    { index: 2, full: true, sourceUnknown: true },
  ]);
  assert.deepEqual(s.slots[1], { index: 2, full: true, importExport: false });
  assert.deepEqual(s.slots[4], {
    index: 5,
    full: true,
    volumeTag: 'W00005LY',
    alternateTag: 'ALT5',
    importExport: false,
  });
  assert.deepEqual(s.slots[5], { index: 6, full: false, importExport: false });
  assert.equal(s.slots[6]!.volumeTag, 'A00007L7');
  assert.deepEqual(s.slots[8], { index: 9, full: true, volumeTag: 'A00009L8', importExport: true });
  assert.deepEqual(s.slots[9], { index: 10, full: false, importExport: true });
  assert.equal(mediaOf('W00005LY').type, 'LTO-8 WORM');
  assert.equal(mediaOf('CLN001CU').cleaning, true);
});

test('mtx status with Phys Loc columns', () => {
  const s = parseMtxStatus(fixture('mtx', 'handwritten-phys-loc.txt'));
  assert.deepEqual(s.drives[1], {
    index: 1,
    full: true,
    volumeTag: 'B00002L6',
    sourceSlot: 2,
    physicalLocation: '257',
  });
  assert.deepEqual(s.slots[5], { index: 6, full: false, importExport: true, physicalLocation: '16' });
  assert.deepEqual(publicStatus(s).slots[5], { index: 6, full: false, importExport: true });
});

test('a text without element lines is refused, not read as an empty library', () => {
  assert.throws(() => parseMtxStatus(lab('mtx', 'mtx-inquiry.changer.txt')), MtxParseError);
  assert.throws(() => parseMtxStatus(''), MtxParseError);
});

test('mt-st status: empty drive (DR_OPEN, recorded) and a loaded cartridge at BOT (recorded; written: write-protected)', () => {
  const empty = parseMtStatus(lab('mt-st', 'mt-status.empty.txt'));
  assert.equal(empty.empty, true);
  assert.equal(empty.online, false);
  assert.equal(empty.fileNumber, -1);
  assert.equal(empty.blockSize, 0);
  assert.equal(empty.densityCode, 0);
  assert.equal(empty.densityName, undefined);
  assert.deepEqual(empty.flags, ['DR_OPEN', 'IM_REP_EN']);
  const bot = parseMtStatus(lab('mt-st', 'mt-status.loaded-bot.txt'));
  assert.deepEqual(
    [bot.online, bot.writeProtected, bot.bot, bot.empty, bot.fileNumber, bot.densityCode],
    [true, false, true, false, 0, 0],
  );
  const loaded = parseMtStatus(
    readFileSync(
      path.join(repoRoot(), 'test', 'tape', 'fixtures', 'mt-st.handwritten-lto6-loaded-bot-wp.txt'),
      'utf8',
    ),
  );
  assert.deepEqual(
    [loaded.online, loaded.writeProtected, loaded.bot, loaded.empty, loaded.densityCode, loaded.densityName],
    [true, true, true, false, 0x5a, 'LTO-6'],
  );
});

test('tapeinfo: identity, position, compression and TapeAlert flags (20 asks for cleaning)', () => {
  const t = parseTapeinfo(fixture('mtx', 'tapeinfo.handwritten-ibm-td5-alerts.txt'));
  assert.equal(t.vendor, 'IBM');
  assert.equal(t.product, 'ULT3580-TD5');
  assert.equal(t.serial, '1068000073');
  assert.equal(t.densityCode, 0x58);
  assert.equal(t.blockPosition, 42);
  assert.equal(t.compression, true);
  assert.deepEqual(
    t.tapeAlerts.map((a) => a.flag),
    [3, 20],
  );
  assert.equal(needsCleaning(t.tapeAlerts.map((a) => a.flag)), true);
  assert.equal(needsCleaning([3]), false);
  assert.equal(describeAlert(20).severity, 'critical');
  assert.equal(describeAlert(63, 'Vendor: x').name, 'Vendor');
});

test('sg_inq, lsscsi and mtx inquiry recorded in the lab find the tape drives and the changer', () => {
  const [chg] = parseSgInq(lab('sg3-utils', 'sg_inq.changer.txt'));
  const [drv] = parseSgInq(lab('sg3-utils', 'sg_inq.drive.txt'));
  assert.deepEqual(
    [chg!.pdt, chg!.vendor, chg!.product, chg!.revision, chg!.serial],
    [8, 'IET', 'VIRTUAL-CHANGER', '0001', 'beaf13'],
  );
  assert.deepEqual([drv!.pdt, drv!.product, drv!.serial], [1, 'VIRTUAL-TAPE', 'beaf11']);
  const l = parseLsscsi(lab('lsscsi', 'lsscsi-g.txt'));
  assert.deepEqual(
    l.filter((d) => d.type === 'tape' || d.type === 'mediumx').map((d) => [d.hctl, d.type, d.node, d.sg]),
    [
      ['2:0:0:1', 'tape', '/dev/st0', '/dev/sg3'],
      ['2:0:0:2', 'tape', '/dev/st1', '/dev/sg4'],
      ['2:0:0:3', 'mediumx', '/dev/sch0', '/dev/sg5'],
    ],
  );
  assert.deepEqual(
    l.filter((d) => d.type === 'disk').map((d) => [d.model, d.node]),
    [
      ['scsi_debug', '/dev/sda'],
      ['scsi_debug', '/dev/sdb'],
    ],
  );
  const m = parseMtxInquiry(lab('mtx', 'mtx-inquiry.changer.txt'));
  assert.deepEqual(
    [m.productType, m.vendor, m.product, m.revision],
    ['Medium Changer', 'IET', 'VIRTUAL-CHANGER', '0001'],
  );
});

test('tapeinfo recorded in the lab: tgt’s NUL serial is no serial, and a position glued to the next field', () => {
  const t = parseTapeinfo(lab('mtx', 'tapeinfo.drive0-loaded.txt'));
  assert.equal(t.vendor, 'IET');
  assert.equal(t.product, 'VIRTUAL-TAPE');
  assert.equal(t.serial, undefined);
  assert.equal(t.densityCode, 0);
  assert.equal(t.compression, false);
  assert.equal(t.ready, true);
  // tapeinfo 1.3.12 prints "Block Position: -1ActivePartition: 0" (no newline): no position, not a wrong one
  assert.equal(t.blockPosition, undefined);
  assert.deepEqual(t.tapeAlerts, []);
});

test('barcode suffixes: LTO generations, WORM, Type M, other families', () => {
  assert.deepEqual(mediaOf('E01001L8'), { type: 'LTO-8', generation: 8, cleaning: false, worm: false });
  assert.equal(mediaOf('ABC123LZ').type, 'LTO-9 WORM');
  assert.equal(mediaOf('ABC123M8').type, 'LTO-7 Type M');
  assert.equal(mediaOf('CLN101L8').cleaning, true);
  assert.equal(mediaOf('CLN101L8').type, 'LTO-8');
  assert.equal(mediaOf('G03001TA').type, 'T10000');
  assert.equal(mediaOf('SDLT01S3').type, 'SDLT600');
  assert.equal(mediaOf(undefined).type, 'unknown');
});

test('tapeinfo: a serial of NUL bytes (tgt’s virtual drive, seen in the kernel lab) is no serial', () => {
  const t = parseTapeinfo(
    "Product Type: Tape Drive\nVendor ID: 'IET     '\nProduct ID: 'VIRTUAL-TAPE    '\nSerialNumber: '\u0000\u0000\u0000\u0000'\n",
  );
  assert.equal(t.vendor, 'IET');
  assert.equal(t.serial, undefined);
});
