/**
 * In the lab guest: Bacula's storage daemon writes to tape through the kernel — tgt's virtual library reached by
 * open-iscsi, the st driver's /dev/nstN for the drive, the changer's sg node for the real mtx-changer script and mtx
 * (no LD_PRELOAD shim: the daemons get no test environment). The director, storage and file daemons are the real
 * ones under the agent's prefix (test/backup/lab.ts), configured through the agent: barcodes read by `update slots`,
 * cartridges labelled, a Full backup to tape, then a restore compared byte for byte with the source tree.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JobRecord } from '../../../agent/jobs.js';
import { startTapeLab, type TapeLab } from '../../../sandbox/tape.js';
import { compareTrees, type Lab, makeTree, startLab } from '../../backup/lab.js';
import { type ScsiLun, waitLuns } from './scsi-sysfs.js';
import { assertInGuest, labLib, ok, sh } from './sh.js';

let tape: TapeLab;
let lab: Lab;
let luns: ScsiLun[];
let data: string;
const node = (...a: string[]) => ['iscsiadm', '-m', 'node', '-T', tape.iqn, '-p', tape.portal, ...a];
const call = <T>(m: string, p: Record<string, unknown> = {}) => lab.t.call<T>(m, p);
const runJob = async (method: string, params: Record<string, unknown>): Promise<JobRecord> => {
  const { job } = await call<{ job: string }>(method, params);
  return lab.t.waitJob(job);
};

before(async () => {
  assertInGuest();
  tape = await startTapeLab({ slots: 6, mailslots: 1, tapes: 3, preload: false });
  await labLib('lab_iscsid');
  for (const m of ['st', 'sg', 'ch']) await ok(['modprobe', m]);
  await ok(['iscsiadm', '-m', 'discovery', '-t', 'st', '-p', tape.portal]);
  await ok(node('--login'));
  luns = await waitLuns(tape.iqn, (l) => l.filter((x) => x.sg && (x.type !== 1 || x.nst)).length >= 3);
  const changer = luns.find((l) => l.type === 8)!.sg!;
  // the first tape LUN is the library's drive 0 (mtx numbers drives from 0)
  const drive0 = luns.find((l) => l.type === 1)!.nst!;
  // Bacula's storage daemon opens its drive at start (AlwaysOpen): st blocks ~123 s on an empty drive, so the
  // drive holds a cartridge before the daemons start (mtx-changer unloads and loads as Bacula needs)
  await ok(['mtx', '-f', changer, 'load', '3', '0'], 300_000);
  lab = await startLab();
  data = path.join(lab.t.prefix, 'data');
  await makeTree(data, { randomFiles: 3, randomFileMiB: 4, smallFiles: 40, sparseFiles: 1, sparseMiB: 8 });
  await call('backup.storage.set', {
    name: 'lib',
    type: 'tape',
    mediaType: 'LTO-5',
    changerDevice: changer,
    drives: [{ device: drive0, index: 0 }],
  });
  await call('backup.pool.set', { name: 'tapes', storage: 'lib' });
  await call('backup.fileset.set', { name: 'tree', include: [data] });
  await call('backup.job.set', { name: 'to-tape', client: 'calypso-fd', fileset: 'tree', pool: 'tapes' });
  await lab.startAll();
});

after(async () => {
  await lab?.stop();
  await sh(node('--logout'));
  await tape?.stop();
});

describe('Bacula through the kernel tape path: st (/dev/nstN), sg, the real mtx-changer', () => {
  it('update slots reads the barcodes through mtx-changer; label barcodes makes the cartridges volumes', async () => {
    const r = await call<{ message: string }>('backup.volume.updateSlots', { storage: 'lib' });
    assert.match(r.message, /CAL00\dL5/);
    const l = await runJob('backup.volume.labelBarcodes', { storage: 'lib', pool: 'tapes', slots: '1-3' });
    assert.equal(l.state, 'success', JSON.stringify(l.error));
    const vols = await call<{ items: { name: string }[] }>('backup.volume.list', { pool: 'tapes' });
    assert.deepEqual(vols.items.map((v) => v.name).sort(), tape.barcodes);
  });

  it('a Full backup goes to tape through /dev/nstN; the restore is identical byte for byte', async () => {
    const media = () => tape.barcodes.reduce((n, b) => n + statSync(path.join(tape.dir, 'media', b)).size, 0);
    const before = media();
    const full = await runJob('backup.run', { job: 'to-tape', level: 'Full' });
    assert.equal(full.state, 'success', JSON.stringify(full.error));
    // tgt's cartridge images took the data: it went through the kernel's st driver to the emulated drive
    assert.ok(media() - before > 12 * 1024 * 1024, `tape images grew by ${media() - before} bytes`);
    const jobId = (full.result as { jobId: number }).jobId;
    const where = path.join(lab.t.prefix, 'restored');
    const rec = await runJob('backup.restore', { jobId, where });
    assert.equal(rec.state, 'success', JSON.stringify(rec.error));
    assert.deepEqual(await compareTrees(data, path.join(where, data)), []);
  });
});
