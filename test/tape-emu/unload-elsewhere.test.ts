/**
 * An unload never goes elsewhere silently (issue #22), on tgt's emulated library with the real
 * mtx: when the cartridge's home slot has been filled meanwhile, the unload goes to the first
 * empty storage slot and says so — in the answer (`moved.elsewhere`), the dry run's notes and
 * the audit record; a slot the caller named that is full is refused with `conflict` in plain
 * words, and nothing moves.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { parseMtxStatus } from '../../agent/tape/parse-mtx-status.js';
import { startTapeLab, type TapeLab } from '../../sandbox/tape.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';

interface Moved {
  volumeTag?: string;
  from: { drive?: number; slot?: number };
  to: { drive?: number; slot?: number };
  home?: number;
  elsewhere?: string;
}

describe('an unload says where the cartridge went', { timeout: 240_000 }, () => {
  let lab: TapeLab;
  let t: TestAgent;
  const direct = () =>
    parseMtxStatus(
      execFileSync('mtx', ['-f', lab.changerDevice, 'status'], {
        env: { ...process.env, ...lab.env },
        encoding: 'utf8',
      }),
    );
  const tagIn = (slot: number) => direct().slots.find((x) => x.index === slot)?.volumeTag;
  const lastAudit = () => t.deps.audit.query({ method: 'changer.unload', limit: 1 }).items[0];

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

  it('home slot filled meanwhile: goes to the first empty slot and says so everywhere', async () => {
    const [tape1] = lab.barcodes;
    await t.call('changer.load', { changer: 'emu', drive: 0, slot: 1 });
    // someone puts a cartridge into slot 1 by hand while tape1 is in the drive
    lab.insert(1, 'HAND01L5');
    assert.equal(tagIn(1), 'HAND01L5');
    // tgt's emulation reports a drive's source as the first empty slot (5 now), not the slot
    // the cartridge came from: the agent goes by the home it recorded when it loaded it
    assert.equal(direct().drives[0]?.sourceSlot, 5);

    const dry = await t.call<{ commands: string[][]; notes?: string[] }>('changer.unload', {
      changer: 'emu',
      drive: 0,
      dryRun: true,
    });
    assert.deepEqual(dry.commands, [['mtx', '-f', lab.changerDevice, 'unload', '5', '0']]);
    assert.match(dry.notes?.[0] ?? '', /goes to slot 5, not to its home: its home slot 1 has been filled/);

    const r = await t.call<{ moved: Moved }>('changer.unload', { changer: 'emu', drive: 0 });
    assert.equal(r.moved.volumeTag, tape1);
    assert.deepEqual(r.moved.from, { drive: 0 });
    assert.deepEqual(r.moved.to, { slot: 5 });
    assert.equal(r.moved.home, 1);
    assert.match(r.moved.elsewhere ?? '', new RegExp(`cartridge ${tape1} from drive 0 goes to slot 5`));
    assert.match(r.moved.elsewhere ?? '', /home slot 1 has been filled meanwhile \(by HAND01L5\)/);
    assert.equal(tagIn(5), tape1, 'the real library has it in slot 5');
    assert.equal(direct().drives[0]?.full, false);

    const rec = lastAudit();
    assert.equal(rec?.outcome, 'ok');
    const detail = rec?.detail as { moved?: Moved } | undefined;
    assert.deepEqual(detail?.moved?.to, { slot: 5 });
    assert.equal(detail?.moved?.elsewhere, r.moved.elsewhere);
  });

  it('home free: goes home, and the answer says so without a note', async () => {
    await t.call('changer.load', { changer: 'emu', drive: 0, slot: 2 });
    const r = await t.call<{ moved: Moved }>('changer.unload', { changer: 'emu', drive: 0 });
    assert.deepEqual(r.moved.to, { slot: 2 });
    assert.equal(r.moved.home, 2);
    assert.equal(r.moved.elsewhere, undefined);
  });

  it('a named slot that is full is refused with conflict in plain words, and nothing moves', async () => {
    await t.call('changer.load', { changer: 'emu', drive: 0, slot: 2 });
    const before = direct();
    await assert.rejects(
      t.call('changer.unload', { changer: 'emu', drive: 0, slot: 1 }),
      (e: Error & { data?: { kind?: string } }) => {
        assert.equal(e.data?.kind, 'conflict');
        assert.match(
          e.message,
          /^slot 1 is full \(.+\): cartridge .+ in drive 0 was not unloaded; name an empty slot/,
        );
        return true;
      },
    );
    assert.deepEqual(direct(), before);
    const rec = lastAudit();
    assert.equal(rec?.outcome, 'error');
    await t.call('changer.unload', { changer: 'emu', drive: 0 });
    assert.equal(direct().drives[0]?.full, false);
  });
});
