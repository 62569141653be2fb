/**
 * The tape service over a fake library (test/tape/fake-library.ts) that starts from an `mtx status`
 * written in mtx's layout (test/fixtures/mtx: a 44-slot vendor library): moves change the state, refusals come before any command, moves on one
 * robot never overlap (and wait for a Bacula label holding the same lock), the tools get
 * tape.toolEnv, dry runs list the argv of the real run, inventory is a job, TapeAlert flags
 * become alerts and go, cleaning finds the CLN cartridge by barcode.
 * The real mtx against tgt's emulated changer is test/tape/emulated-library.test.ts.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tapeConfig } from '../../agent/tape/config.js';
import { changerLockKey } from '../../agent/tape/locks.js';
import { createTapeService } from '../../agent/tape/service.js';
import { RpcError } from '../../rpc/errors.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { repoRoot } from '../helpers/paths.js';
import { type FakeLibrary, fakeLibrary, readText } from './fake-library.js';

const LIB44 = path.join(repoRoot(), 'test', 'fixtures', 'mtx', 'written-4drives-44slots-4ie.txt');
const NOISE = path.join(repoRoot(), 'test', 'fixtures', 'mtx', 'handwritten-noise-padded-ie.txt');
const TAPEINFO = path.join(repoRoot(), 'test', 'fixtures', 'mtx', 'tapeinfo.handwritten-ibm-td5-alerts.txt');
const MT_EMPTY = path.join(repoRoot(), 'test', 'fixtures', 'mt-st', 'lab-tgt', 'mt-status.empty.txt');

const ID = 'lib1';
const drives = [0, 1, 2, 3].map((i) => ({
  device: `/dev/tape/by-id/scsi-DRV${i}-nst`,
  sg: `/dev/sg${i + 2}`,
}));

async function agentWith(lib: FakeLibrary, extra: Record<string, unknown> = {}): Promise<TestAgent> {
  return startTestAgent({
    runner: lib,
    services: [{ name: 'tape', service: createTapeService({ lockWaitMs: 5000 }), config: tapeConfig }],
    config: {
      tape: {
        toolEnv: { LD_PRELOAD: '/opt/emu/libtape-emu.so', CALYPSO_EMU_CONFIG: '/tmp/emu.json' },
        changers: [{ id: ID, device: '/dev/tape/by-id/scsi-LIB1', drives }],
        cleaningSeconds: 0,
        ...extra,
      },
    },
  });
}

async function refused(p: Promise<unknown>, kind: string, re?: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof RpcError, String(e));
    assert.equal(e.kind, kind, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

type Status = {
  drives: { index: number; full: boolean; volumeTag?: string; sourceSlot?: number }[];
  slots: { index: number; full: boolean; volumeTag?: string; importExport: boolean; mediaType?: string }[];
};

describe('tape service on a fake library', () => {
  let lib: FakeLibrary;
  let a: TestAgent;
  before(async () => {
    lib = fakeLibrary(readText(LIB44), { tapeinfo: readText(TAPEINFO), mtStatus: readText(MT_EMPTY) });
    a = await agentWith(lib);
  });
  after(() => a.stop());

  it('lists the configured changer, its drives in mtx order and its lock key', async () => {
    const list = (
      await a.call<{ items: { id: string; lock: string; drives: { id: string; index: number }[] }[] }>(
        'changer.list',
      )
    ).items;
    assert.equal(list.length, 1);
    assert.equal(list[0]!.lock, `changer:${ID}`);
    assert.equal(list[0]!.lock, changerLockKey(ID));
    assert.deepEqual(
      list[0]!.drives.map((d) => [d.id, d.index]),
      [
        ['lib1:0', 0],
        ['lib1:1', 1],
        ['lib1:2', 2],
        ['lib1:3', 3],
      ],
    );
  });

  it('status: the recorded slots and barcodes, media types, and the tools got tape.toolEnv', async () => {
    const s = await a.call<Status>('changer.status', { changer: ID });
    assert.equal(s.slots.length, 44);
    assert.deepEqual(s.slots[10], {
      index: 11,
      full: true,
      volumeTag: 'F02011L7',
      importExport: false,
      mediaType: 'LTO-7',
    });
    assert.deepEqual(lib.calls.at(-1), ['mtx', '-f', '/dev/tape/by-id/scsi-LIB1', 'status']);
    assert.equal(lib.envs.at(-1)!.LD_PRELOAD, '/opt/emu/libtape-emu.so');
    assert.equal(lib.envs.at(-1)!.CALYPSO_EMU_CONFIG, '/tmp/emu.json');
  });

  it('load, unload (back to its source slot), transfer, export and import change the library', async () => {
    const seen: Status[] = [];
    const off = a.events.on(['changer.changed'], (ev) => seen.push(ev.data as Status));
    let s = await a.call<Status>('changer.load', { changer: ID, slot: 11, drive: 0 });
    off();
    const { moved, ...view } = s as Status & { moved?: unknown };
    assert.deepEqual(seen, [view], 'other viewers are told the new status');
    assert.deepEqual(
      moved,
      { volumeTag: 'F02011L7', from: { slot: 11 }, to: { drive: 0 } },
      'the answer says what moved',
    );
    assert.deepEqual(s.drives[0], {
      index: 0,
      full: true,
      volumeTag: 'F02011L7',
      sourceSlot: 11,
      mediaType: 'LTO-7',
    });
    assert.equal(s.slots[10]!.full, false);
    assert.deepEqual(lib.moves().at(-1), ['mtx', '-f', '/dev/tape/by-id/scsi-LIB1', 'load', '11', '0']);
    s = await a.call<Status>('changer.unload', { changer: ID, drive: 0 });
    assert.equal(s.slots[10]!.volumeTag, 'F02011L7');
    assert.deepEqual(lib.moves().at(-1), ['mtx', '-f', '/dev/tape/by-id/scsi-LIB1', 'unload', '11', '0']);
    s = await a.call<Status>('changer.transfer', { changer: ID, from: 1, to: 10 });
    assert.equal(s.slots[9]!.volumeTag, 'E01001L8');
    s = await a.call<Status>('changer.export', { changer: ID, barcode: 'E01001L8' });
    assert.deepEqual(s.slots[40], {
      index: 41,
      full: true,
      volumeTag: 'E01001L8',
      importExport: true,
      mediaType: 'LTO-8',
    });
    s = await a.call<Status>('changer.import', { changer: ID, from: 41 });
    // the first empty storage slot
    assert.equal(s.slots[0]!.volumeTag, 'E01001L8');
    assert.equal(s.slots[40]!.full, false);
    assert.equal(lib.state.slots[0]!.volumeTag, 'E01001L8');
  });

  it('a refused move runs no command and changes nothing', async () => {
    const before = JSON.stringify(lib.state);
    const n = lib.moves().length;
    await refused(
      a.call('changer.load', { changer: ID, slot: 10, drive: 1 }),
      'conflict',
      /slot 10 is empty/,
    );
    await refused(
      a.call('changer.unload', { changer: ID, drive: 1, slot: 12 }),
      'conflict',
      /drive 1 is empty/,
    );
    await refused(
      a.call('changer.transfer', { changer: ID, from: 2, to: 3 }),
      'conflict',
      /slot 3 is full \(E01003L8\)/,
    );
    await refused(a.call('changer.import', { changer: ID, from: 3 }), 'invalid', /not a mailslot/);
    await refused(a.call('changer.import', { changer: ID, from: 41 }), 'conflict', /mailslot 41 is empty/);
    await refused(a.call('changer.load', { changer: ID, slot: 99, drive: 0 }), 'not_found');
    await refused(a.call('changer.load', { changer: ID, slot: 2, drive: 9 }), 'not_found');
    await refused(a.call('changer.status', { changer: 'nope' }), 'not_found');
    await a.call('changer.load', { changer: ID, slot: 2, drive: 1 });
    await refused(a.call('changer.load', { changer: ID, slot: 3, drive: 1 }), 'conflict', /drive 1 is full/);
    await a.call('changer.unload', { changer: ID, drive: 1 });
    assert.equal(lib.moves().length, n + 2, 'only the accepted load and unload ran');
    assert.equal(JSON.stringify(lib.state), before);
  });

  it('a dry run returns the argv of the real run and moves nothing', async () => {
    const n = lib.moves().length;
    const plan = await a.call<{ dryRun: true; commands: string[][] }>('changer.load', {
      changer: ID,
      barcode: 'F02012L7',
      drive: 2,
      dryRun: true,
    });
    assert.deepEqual(plan, {
      dryRun: true,
      commands: [['mtx', '-f', '/dev/tape/by-id/scsi-LIB1', 'load', '12', '2']],
    });
    assert.equal(lib.moves().length, n);
    await a.call('changer.load', { changer: ID, barcode: 'F02012L7', drive: 2 });
    assert.deepEqual(lib.moves().at(-1), plan.commands[0]);
    await a.call('changer.unload', { changer: ID, drive: 2 });
    // a refusal is a refusal in a dry run too
    await refused(a.call('changer.load', { changer: ID, slot: 10, drive: 0, dryRun: true }), 'conflict');
  });

  it('inventory is a job with progress; its result is the status', async () => {
    const { job } = await a.call<{ job: string }>('changer.inventory', { changer: ID });
    const rec = await a.waitJob(job);
    assert.equal(rec.state, 'success');
    assert.equal((rec.result as Status).slots.length, 44);
    assert.match(rec.progress.description, /cartridges|done/);
    assert.ok(lib.calls.some((c) => c[3] === 'inventory'));
  });

  it('drive status: TapeAlert flags become alerts, and are cleared once the drive drops them', async () => {
    const s = await a.call<{ alerts: { flag: number }[]; loaded: boolean }>('drive.status', {
      drive: 'lib1:0',
    });
    assert.deepEqual(
      s.alerts.map((x) => x.flag),
      [3, 20],
    );
    assert.equal(s.loaded, false);
    assert.deepEqual(lib.calls.at(-1), ['tapeinfo', '-f', '/dev/sg2']);
    assert.equal(a.deps.alerts.get('tape.alert:lib1:0:20')?.state, 'active');
    assert.equal(a.deps.alerts.get('tape.alert:lib1:0:20')?.level, 'critical');
    lib.tapeinfo = lib.tapeinfo.replace(/^TapeAlert.*$/gm, '');
    await a.call('drive.status', { drive: 'lib1:0' });
    assert.equal(a.deps.alerts.get('tape.alert:lib1:0:20')?.state, 'cleared');
  });

  it('drive.clean loads the CLN cartridge found by barcode and puts it back', async () => {
    const plan = await a.call<{ commands: string[][] }>('drive.clean', { drive: 'lib1:3', dryRun: true });
    assert.deepEqual(plan.commands, [
      ['mtx', '-f', '/dev/tape/by-id/scsi-LIB1', 'load', '38', '3'],
      ['mtx', '-f', '/dev/tape/by-id/scsi-LIB1', 'unload', '38', '3'],
    ]);
    const n = lib.moves().length;
    const { job } = await a.call<{ job: string }>('drive.clean', { drive: 'lib1:3' });
    const rec = await a.waitJob(job);
    assert.equal(rec.state, 'success', JSON.stringify(rec.error));
    assert.deepEqual(rec.result, { cartridge: 'CLN001CU', slot: 38 });
    assert.deepEqual(lib.moves().slice(n), plan.commands);
    assert.equal(lib.state.slots[37]!.volumeTag, 'CLN001CU');
  });

  it('rewind and eject: mt argv on the configured node; dry runs show them', async () => {
    const plan = await a.call<{ commands: string[][] }>('drive.eject', { drive: 'lib1:1', dryRun: true });
    assert.deepEqual(plan.commands, [['mt', '-f', '/dev/tape/by-id/scsi-DRV1-nst', 'offline']]);
    await a.call('drive.rewind', { drive: 'lib1:1' });
    assert.deepEqual(lib.calls.at(-1), ['mt', '-f', '/dev/tape/by-id/scsi-DRV1-nst', 'rewind']);
  });

  it('media.list: every cartridge with its type and place', async () => {
    const r = await a.call<{
      items: {
        barcode: string;
        where: string;
        index: number;
        mediaType: string;
        cleaning: boolean;
        seen: string;
      }[];
    }>('media.list', { refresh: true });
    assert.equal(r.items.length, 26);
    assert.deepEqual(
      r.items.find((i) => i.barcode === 'CLN002L8'),
      {
        barcode: 'CLN002L8',
        mediaType: 'LTO-8',
        cleaning: true,
        worm: false,
        changer: ID,
        where: 'slot',
        index: 39,
        seen: r.items[0]!.seen,
      },
    );
  });
});

describe('tape service: locks', () => {
  it('two moves on one robot never overlap; a move waits for a Bacula label holding the changer lock', async () => {
    const lib = fakeLibrary(readText(NOISE), { moveDelayMs: 60 });
    const a = await agentWith(lib, {
      changers: [{ id: ID, device: '/dev/sg9', drives: drives.slice(0, 3) }],
    });
    try {
      const loads = await Promise.all([
        a.call<Status>('changer.load', { changer: ID, slot: 1, drive: 1 }),
        a.call<Status>('changer.transfer', { changer: ID, from: 7, to: 8 }),
        a.call<Status>('changer.export', { changer: ID, from: 4 }),
      ]);
      assert.equal(loads.length, 3);
      assert.equal(lib.maxConcurrentMoves, 1, 'moves ran one at a time');
      assert.equal(lib.state.slots[9]!.volumeTag, 'CLN001CU');
      // the Bacula side takes the same key around `label barcodes`
      let release!: () => void;
      const held = a.deps.locks.run(
        changerLockKey(ID),
        'bacula label barcodes',
        () => new Promise<void>((r) => (release = r)),
      );
      const order = [] as string[];
      const move = a.call('changer.unload', { changer: ID, drive: 1 }).then(() => order.push('move'));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(order.length, 0, 'the move waits while the label holds the robot');
      const list = (await a.call<{ items: { holder?: string }[] }>('changer.list')).items;
      assert.equal(list[0]!.holder, 'bacula label barcodes');
      order.push('label done');
      release();
      await held;
      await move;
      assert.deepEqual(order, ['label done', 'move']);
      // two refusals on the padded/noisy library: nothing runs
      const n = lib.moves().length;
      await refused(a.call('changer.load', { changer: ID, slot: 3, drive: 1 }), 'conflict');
      await refused(a.call('changer.unload', { changer: ID, drive: 2 }), 'invalid', /give slot/);
      assert.equal(lib.moves().length, n);
    } finally {
      await a.stop();
    }
  });

  it('without mtx the methods answer unavailable with the reason', async () => {
    const lib = fakeLibrary(readText(LIB44));
    lib.missing.add('mtx');
    const a = await agentWith(lib);
    try {
      await refused(a.call('changer.status', { changer: ID }), 'unavailable', /mtx/);
      assert.equal(lib.calls.filter((c) => c[0] === 'mtx').length, 0);
    } finally {
      await a.stop();
    }
  });
});
