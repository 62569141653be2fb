/**
 * The agent's tape service against tgt's emulated library, through the real mtx and the
 * LD_PRELOAD library (`tape.toolEnv`): its inventory matches the emulated slots and barcodes,
 * its moves change the emulated state (read back with mtx directly), a refused move changes
 * nothing and runs no move command, and concurrent moves on one robot are serialised.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { createMetrics, readSources } from '../../agent/metrics/exposition.js';
import { parseMtxStatus } from '../../agent/tape/parse-mtx-status.js';
import { startTapeLab, type TapeLab } from '../../sandbox/tape.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';

interface Status {
  drives: { index: number; full: boolean; volumeTag?: string; sourceSlot?: number }[];
  slots: { index: number; full: boolean; volumeTag?: string; importExport: boolean }[];
}

describe('the agent drives the emulated library', { timeout: 240_000 }, () => {
  let lab: TapeLab;
  let t: TestAgent;
  /** what the real mtx says, run directly (not through the agent) */
  const direct = () =>
    parseMtxStatus(
      execFileSync('mtx', ['-f', lab.changerDevice, 'status'], {
        env: { ...process.env, ...lab.env },
        encoding: 'utf8',
      }),
    );

  before(async () => {
    lab = await startTapeLab({ slots: 6, mailslots: 1, tapes: 4 });
    t = await startTestAgent({
      config: {
        tape: {
          changers: [
            {
              id: 'emu',
              device: lab.changerDevice,
              drives: lab.driveDevices.map((d, i) => ({ device: d, sg: lab.driveSgDevices[i] })),
            },
          ],
          toolEnv: lab.env,
        },
      },
    });
  });
  after(async () => {
    await t?.stop();
    await lab?.stop();
  });

  it('inventory matches the emulated slots and barcodes', async () => {
    const { job } = await t.call<{ job: string }>('changer.inventory', { changer: 'emu' });
    const rec = await t.waitJob(job);
    assert.equal(rec.state, 'success', JSON.stringify(rec.error));
    const s = await t.call<Status>('changer.status', { changer: 'emu' });
    const storage = s.slots.filter((x) => !x.importExport);
    assert.equal(storage.length, lab.slots);
    assert.equal(s.slots.filter((x) => x.importExport).length, lab.mailslots);
    assert.deepEqual(
      storage.filter((x) => x.full).map((x) => x.volumeTag),
      lab.barcodes,
    );
    assert.equal(s.drives.length, lab.driveDevices.length);
  });

  it('load and unload through the agent change the emulated state', async () => {
    await t.call('changer.load', { changer: 'emu', drive: 0, slot: 1 });
    let d = direct();
    assert.equal(d.drives[0]?.full, true);
    assert.equal(d.drives[0]?.volumeTag, lab.barcodes[0]);
    assert.equal(d.slots[0]?.full, false);
    // the metrics endpoint's reading of the same state
    const sources = () => t.deps.metrics.list();
    const m = createMetrics(sources, () => readSources(sources()), Date.now);
    const text = await m.scrape();
    assert.match(text, /calypso_tape_drive_loaded\{changer="emu",drive="0"\} 1/);
    assert.match(text, /calypso_tape_drive_loaded\{changer="emu",drive="1"\} 0/);
    assert.match(text, new RegExp(`calypso_tape_cartridges ${lab.barcodes.length}`));
    await t.call('changer.unload', { changer: 'emu', drive: 0 });
    d = direct();
    assert.equal(d.drives[0]?.full, false);
    assert.equal(d.slots[0]?.volumeTag, lab.barcodes[0]);
  });

  it('transfer to the mailslot and back', async () => {
    const mail = direct().slots.find((x) => x.importExport)!;
    await t.call('changer.transfer', { changer: 'emu', from: 2, to: mail.index });
    assert.equal(direct().slots.find((x) => x.index === mail.index)?.volumeTag, lab.barcodes[1]);
    await t.call('changer.transfer', { changer: 'emu', from: mail.index, to: 2 });
    assert.equal(direct().slots[1]?.volumeTag, lab.barcodes[1]);
  });

  it('a move from an empty slot is refused with conflict and changes nothing', async () => {
    const before = direct();
    const empty = before.slots.find((x) => !x.full && !x.importExport)!;
    await assert.rejects(
      t.call('changer.load', { changer: 'emu', drive: 0, slot: empty.index }),
      (e: Error & { kind?: string; data?: { kind?: string } }) =>
        (e.kind ?? e.data?.kind) === 'conflict' || /empty/i.test(e.message),
    );
    assert.deepEqual(direct(), before);
  });

  it('concurrent moves on one robot are serialised and all land', async () => {
    // two loads at once into the two drives: both must end loaded, each from its own slot
    await Promise.all([
      t.call('changer.load', { changer: 'emu', drive: 0, slot: 1 }),
      t.call('changer.load', { changer: 'emu', drive: 1, slot: 2 }),
    ]);
    const d = direct();
    assert.deepEqual(
      d.drives.map((x) => x.volumeTag),
      [lab.barcodes[0], lab.barcodes[1]],
    );
    await Promise.all([
      t.call('changer.unload', { changer: 'emu', drive: 0 }),
      t.call('changer.unload', { changer: 'emu', drive: 1 }),
    ]);
    assert.deepEqual(
      direct().drives.map((x) => x.full),
      [false, false],
    );
  });
});
