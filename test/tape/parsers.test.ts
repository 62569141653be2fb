/**
 * The tape parsers on real captures (../shared/samples (reading material beside the checkout): mtx, mt-st, sg_inq, lsscsi) and on
 * handwritten tolerance cases (test/fixtures/mtx: sense noise, padding, Phys Loc, mailslots,
 * cleaning and unlabelled cartridges).
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
import { parseSgInq } from '../../probes/parse-inquiry.js';
import { parseLsscsi } from '../../probes/parse-lsscsi.js';
import { repoRoot, samplesDir } from '../helpers/paths.js';

const sample = (...p: string[]) => readFileSync(path.join(samplesDir(), ...p), 'utf8');
const fixture = (...p: string[]) => readFileSync(path.join(repoRoot(), 'test', 'fixtures', ...p), 'utf8');

test('mtx status of mhvtl (INSTALL): 4 drives, 33 storage slots and one mailslot numbered after them', () => {
  const s = parseMtxStatus(sample('mtx', 'mtx-status.mhvtl-INSTALL-4drives-37slots.txt'));
  assert.equal(s.device, '/dev/sg6');
  assert.deepEqual(s.declared, { drives: 4, slots: 37, importExport: 4 });
  assert.deepEqual(
    s.drives.map((d) => [d.index, d.full]),
    [
      [0, false],
      [1, false],
      [2, false],
      [3, false],
    ],
  );
  assert.equal(s.slots.length, 34);
  assert.deepEqual(s.slots[0], { index: 1, full: true, volumeTag: 'SDLT01S3', importExport: false });
  assert.deepEqual(s.slots[9], { index: 10, full: false, importExport: false });
  assert.deepEqual(s.slots[33], { index: 34, full: false, importExport: true });
  assert.equal(s.slots.filter((x) => x.full).length, 25);
  assert.deepEqual(
    s.slots.filter((x) => mediaOf(x.volumeTag).cleaning).map((x) => x.index),
    [31, 32, 33],
  );
});

test('mtx status of the PBS test changer: short tag, CLN…CU cleaning tapes, four mailslots 21–24', () => {
  const s = parseMtxStatus(sample('mtx', 'mtx-status.pbs-test-2drives-24slots.txt'));
  assert.equal(s.device, '/dev/tape/by-id/scsi-387408F60F0000');
  assert.equal(s.drives.length, 2);
  assert.equal(s.slots.length, 24);
  assert.equal(s.slots[4]!.volumeTag, 'test1');
  assert.deepEqual(
    s.slots.filter((x) => x.importExport).map((x) => x.index),
    [21, 22, 23, 24],
  );
  assert.equal(mediaOf('CLN002CU').cleaning, true);
  assert.equal(mediaOf('test22L1').type, 'LTO-1');
  assert.equal(mediaOf('test1').type, 'unknown');
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
  assert.throws(() => parseMtxStatus(sample('mtx', 'mtx-inquiry.hp-ultrium5.txt')), MtxParseError);
  assert.throws(() => parseMtxStatus(''), MtxParseError);
});

test('mt-st status: empty drive (DR_OPEN) and a loaded write-protected cartridge at BOT', () => {
  const empty = parseMtStatus(sample('scsi-tools', 'mt-st-status.hp-ultrium5-no-tape.txt'));
  assert.equal(empty.empty, true);
  assert.equal(empty.online, false);
  assert.equal(empty.fileNumber, -1);
  assert.equal(empty.blockSize, 0);
  assert.equal(empty.densityCode, 0);
  assert.equal(empty.densityName, undefined);
  assert.deepEqual(empty.flags, ['DR_OPEN', 'IM_REP_EN']);
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

test('sg_inq and lsscsi captures (probes/ parsers, reused here) find the tape drives and changers', () => {
  const inq = parseSgInq(sample('scsi-tools', 'sg_inq.ibm-03584L32-changer_and_ULT3580-TD2.txt'));
  assert.deepEqual(
    inq.map((i) => [i.pdt, i.product, i.serial]),
    [
      [8, '03584L32', '0000073921270400'],
      [1, 'ULT3580-TD2', '6022976126'],
    ],
  );
  const newer = parseSgInq(sample('scsi-tools', 'sg_inq.quantum-ultrium4-newer-sg3utils.txt'));
  assert.deepEqual([newer[0]!.pdt, newer[0]!.product, newer[0]!.serial], [1, 'ULTRIUM 4', undefined]);
  const ts4300 = parseLsscsi(sample('scsi-tools', 'lsscsi-g.ibm-ts4300-td9-2libs.txt'));
  assert.deepEqual(
    ts4300.filter((d) => d.type === 'mediumx').map((d) => d.sg),
    ['/dev/sg5', '/dev/sg7'],
  );
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
