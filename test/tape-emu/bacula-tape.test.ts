/**
 * Bacula to tape through the emulated library: the real bacula-dir/sd/fd (SQLite catalog,
 * loopback) with an Autochanger on tgtd's emulated changer and LTO drives (sandbox/tape.ts),
 * reached by the unmodified mtx-changer script, mtx and mt through the LD_PRELOAD library, which
 * the storage daemon gets in its environment (production code holds nothing test-specific).
 *
 * `update slots` and `label barcodes` go through the agent (backup.volume.updateSlots /
 * labelBarcodes), each first as a dry run whose console commands must be the ones the real run
 * then sends.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JobRecord } from '../../agent/jobs.js';
import { startTapeLab, type TapeLab } from '../../sandbox/tape.js';
import { recordConsole } from '../backup/console-recorder.js';
import { compareTrees, type Lab, makeTree, startLab } from '../backup/lab.js';

describe('Bacula to the emulated tape library', { timeout: 300_000 }, () => {
  let tape: TapeLab;
  let lab: Lab;
  let data: string;
  const call = <T>(m: string, p: Record<string, unknown> = {}) => lab.t.call<T>(m, p);
  const runJob = async (method: string, params: Record<string, unknown>): Promise<JobRecord> => {
    const { job } = await call<{ job: string }>(method, params);
    return lab.t.waitJob(job);
  };

  before(async () => {
    tape = await startTapeLab({ slots: 6, mailslots: 1, tapes: 4 });
    lab = await startLab({ env: { sd: tape.env } });
    data = path.join(lab.t.prefix, 'data');
    await makeTree(data, { randomFiles: 3, randomFileMiB: 4, smallFiles: 60, sparseFiles: 1, sparseMiB: 8 });
    await call('backup.storage.set', {
      name: 'lib',
      type: 'tape',
      mediaType: 'LTO-5',
      changerDevice: tape.changerDevice,
      drives: [{ device: tape.driveDevices[0], index: 0 }],
    });
    await call('backup.pool.set', { name: 'tapes', storage: 'lib' });
    await call('backup.fileset.set', { name: 'tree', include: [data] });
    await call('backup.job.set', { name: 'to-tape', client: 'calypso-fd', fileset: 'tree', pool: 'tapes' });
    await lab.startAll();
  });

  after(async () => {
    await lab?.stop();
    await tape?.stop();
  });

  it('update slots: the dry run lists what the real run sends, and the catalog learns the barcodes', async () => {
    const rec = recordConsole(lab);
    try {
      const plan = await call<{ commands: string[][]; console: string[] }>('backup.volume.updateSlots', {
        storage: 'lib',
        dryRun: true,
      });
      assert.deepEqual(rec.sent(), []);
      const r = await call<{ message: string }>('backup.volume.updateSlots', { storage: 'lib' });
      assert.match(r.message, /CAL00\dL5/);
      assert.deepEqual(rec.sent(), [{ argv: plan.commands[0], lines: plan.console }]);
    } finally {
      rec.stop();
    }
  });

  it('label barcodes: dry run = real run; the data cartridges become Bacula volumes in the pool', async () => {
    const rec = recordConsole(lab);
    try {
      const params = { storage: 'lib', pool: 'tapes', slots: '1-4' };
      const plan = await call<{ commands: string[][]; console: string[] }>('backup.volume.labelBarcodes', {
        ...params,
        dryRun: true,
      });
      assert.deepEqual(rec.sent(), []);
      const r = await runJob('backup.volume.labelBarcodes', params);
      assert.equal(r.state, 'success', JSON.stringify(r.error));
      assert.deepEqual(rec.sent(), [{ argv: plan.commands[0], lines: plan.console }]);
    } finally {
      rec.stop();
    }
    const vols = await call<{ items: { name: string; pool: string; slot?: number; inChanger?: boolean }[] }>(
      'backup.volume.list',
      { pool: 'tapes' },
    );
    assert.deepEqual(vols.items.map((v) => v.name).sort(), tape.barcodes);
  });

  it('backs up to tape through the autochanger and restores identical files', async () => {
    const media = () => tape.barcodes.reduce((n, b) => n + statSync(path.join(tape.dir, 'media', b)).size, 0);
    const before = media();
    const full = await runJob('backup.run', { job: 'to-tape', level: 'Full' });
    assert.equal(full.state, 'success', JSON.stringify(full.error));
    const jobId = (full.result as { jobId: number }).jobId;
    const vols = await call<{ items: { name: string; bytes?: number; status: string }[] }>(
      'backup.volume.list',
      {
        pool: 'tapes',
      },
    );
    assert.ok(
      vols.items.some((v) => (v.bytes ?? 0) > 1_000_000),
      JSON.stringify(vols.items),
    );
    // the emulated cartridges (tgt's tape image files) took the data
    assert.ok(media() - before > 12 * 1024 * 1024, `tape images grew by ${media() - before} bytes`);
    const where = path.join(lab.t.prefix, 'restored');
    const rec = await runJob('backup.restore', { jobId, where });
    assert.equal(rec.state, 'success', JSON.stringify(rec.error));
    assert.deepEqual(await compareTrees(data, path.join(where, data)), []);
  });
});
