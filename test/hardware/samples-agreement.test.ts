/**
 * Real captures in ../shared/samples (reading material beside the checkout) (lsscsi -g, sg_inq, mtx inquiry) against what the probes
 * derive from the fixture trees built after those machines: where the two overlap (SCSI
 * address, type, vendor, model, revision, device nodes, serial), they must agree.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { probeAll } from '../../probes/index.js';
import { parseMtxInquiry, parseSgInq } from '../../probes/parse-inquiry.js';
import { type LsscsiDevice, parseLsscsi } from '../../probes/parse-lsscsi.js';
import type { Changer, TapeDrive } from '../../probes/types.js';
import { samplesDir } from '../helpers/paths.js';
import { fixture } from './fixtures.js';

const sample = (...rel: string[]) => readFileSync(path.join(samplesDir(), ...rel), 'utf8');

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

function compareLsscsi(samplePath: string[], tree: string): number {
  const lines = parseLsscsi(sample(...samplePath)).filter((l) => l.type === 'tape' || l.type === 'mediumx');
  assert.ok(lines.length > 0, 'the sample has tape or changer lines');
  const inv = probeAll(fixture(tree));
  const probed = [
    ...inv.tapes.map((t) => asLsscsi(t, 'tape')),
    ...inv.changers.map((c) => asLsscsi(c, 'mediumx')),
  ];
  const sort = (a: LsscsiDevice, b: LsscsiDevice) => a.hctl.localeCompare(b.hctl);
  assert.deepEqual(probed.sort(sort), lines.sort(sort));
  return lines.length;
}

test('lsscsi --generic (HP Ultrium 5 + Tandberg loader) agrees with the tape-sas tree', () => {
  assert.equal(
    compareLsscsi(['scsi-tools', 'lsscsi-generic.hp-ultrium5-tandberg-loader.txt'], 'tape-sas'),
    2,
  );
});

test('lsscsi -g of an mhvtl library (mhvtl INSTALL) agrees with the tape-mhvtl tree', () => {
  assert.equal(compareLsscsi(['mhvtl', 'INSTALL-lsscsi-and-mtx-status.txt'], 'tape-mhvtl'), 5);
  // the same capture is also kept alone
  assert.equal(compareLsscsi(['scsi-tools', 'lsscsi-g.mhvtl-INSTALL-example.txt'], 'tape-mhvtl'), 5);
});

test('sg_inq (IBM 03584L32 changer, ULT3580-TD2 drive; Quantum without serial) agrees with tape-fc-ibm', () => {
  const inv = probeAll(fixture('tape-fc-ibm'));
  const all = [...inv.tapes, ...inv.changers];
  const records = [
    ...parseSgInq(sample('scsi-tools', 'sg_inq.ibm-03584L32-changer_and_ULT3580-TD2.txt')),
    ...parseSgInq(sample('scsi-tools', 'sg_inq.quantum-ultrium4-newer-sg3utils.txt')),
  ];
  assert.equal(records.length, 3);
  for (const r of records) {
    const d = all.find((x) => x.sg === r.device);
    assert.ok(d, `a probed device on ${r.device}`);
    assert.equal(r.pdt === 8, inv.changers.includes(d as Changer), `${r.device}: type ${r.pdt}`);
    assert.deepEqual(
      [d.vendor, d.model, d.revision, d.serial],
      [r.vendor, r.product, r.revision, r.serial],
      r.device,
    );
  }
});

test('mtx inquiry of the HP Ultrium 5 agrees with the tape-sas drive', () => {
  const m = parseMtxInquiry(sample('mtx', 'mtx-inquiry.hp-ultrium5.txt'));
  assert.equal(m.productType, 'Tape Drive');
  const t = probeAll(fixture('tape-sas')).tapes[0]!;
  assert.deepEqual([t.vendor, t.model, t.revision], [m.vendor, m.product, m.revision]);
});

test('parsers read the other captures too (IBM TS4300 two libraries)', () => {
  const l = parseLsscsi(sample('scsi-tools', 'lsscsi-g.ibm-ts4300-td9-2libs.txt'));
  assert.deepEqual(
    l
      .filter((x) => x.type !== 'disk')
      .map((x) => [x.hctl, x.type, x.vendor, x.model, x.revision, x.node, x.sg]),
    [
      ['2:0:0:0', 'cd/dvd', 'NECVMWar', 'VMware IDE CDR10', '1.00', '/dev/sr0', '/dev/sg3'],
      ['3:0:0:0', 'tape', 'IBM', 'ULT3580-TD9', 'PA60', '/dev/st0', '/dev/sg4'],
      ['3:0:0:1', 'mediumx', 'IBM', '03584L32', '1B00', '/dev/sch0', '/dev/sg5'],
      ['4:0:0:0', 'tape', 'IBM', 'ULT3580-TD9', 'P370', '/dev/st1', '/dev/sg6'],
      ['4:0:0:1', 'mediumx', 'IBM', '03584L32', '1B00', '/dev/sch1', '/dev/sg7'],
    ],
  );
  assert.equal(l.filter((x) => x.type === 'disk').length, 3);
});
