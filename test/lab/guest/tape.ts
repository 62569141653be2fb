/**
 * In the lab guest: the kernel tape path with no shim. tgt's virtual tape library (changer + 2 drives + barcoded
 * tapes) reached through open-iscsi gives real sch/sg and st/nst devices; the agent's tape subsystem drives them with
 * the real mtx and mt: inventory, status, load/unload/transfer and drive status, each checked against mtx run
 * directly. (An empty drive is never opened: st waits ~123 s for it to become ready.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseMtxStatus } from '../../../agent/tape/parse-mtx-status.js';
import { startTapeLab, type TapeLab } from '../../../sandbox/tape.js';
import { startTestAgent, type TestAgent } from '../../helpers/agent.js';
import { type ScsiLun, sessionLuns, waitLuns } from './scsi-sysfs.js';
import { assertInGuest, labLib, ok, sh } from './sh.js';

interface Status {
  drives: { index: number; full: boolean; volumeTag?: string }[];
  slots: { index: number; full: boolean; volumeTag?: string; importExport: boolean }[];
}

let lab: TapeLab;
let t: TestAgent;
let luns: ScsiLun[];
let changer: string;
const node = (...a: string[]) => ['iscsiadm', '-m', 'node', '-T', lab.iqn, '-p', lab.portal, ...a];
const direct = async () => parseMtxStatus(await ok(['mtx', '-f', changer, 'status']));

before(async () => {
  assertInGuest();
  lab = await startTapeLab({ slots: 6, mailslots: 1, tapes: 4, preload: false });
  await labLib('lab_iscsid');
  await ok(['modprobe', 'st']);
  await ok(['modprobe', 'sg']);
  await ok(['modprobe', 'ch']);
  await ok(['iscsiadm', '-m', 'discovery', '-t', 'st', '-p', lab.portal]);
  await ok(node('--login'));
  luns = await waitLuns(lab.iqn, (l) => l.filter((x) => x.sg && (x.type !== 1 || x.nst)).length >= 3);
  changer = luns.find((l) => l.type === 8)!.sg!;
  const drives = luns.filter((l) => l.type === 1);
  t = await startTestAgent({
    config: {
      tape: {
        changers: [
          { id: 'kern', device: changer, drives: drives.map((d) => ({ device: d.nst!, sg: d.sg })) },
        ],
      },
    },
  });
});
after(async () => {
  await t?.stop();
  await sh(node('--logout'));
  await lab?.stop();
});

describe('tape through the kernel: tgt VTL over open-iscsi, st/sg devices, real mtx and mt', () => {
  it('the kernel attaches a medium changer and two tape drives (sg, nst)', () => {
    // besides tgt's controller LUN 0 (type 12)
    const types = luns
      .map((l) => l.type)
      .filter((x) => x !== 12)
      .sort((a, b) => a - b);
    assert.deepEqual(types, [1, 1, 8]);
    for (const d of luns.filter((l) => l.type === 1)) {
      assert.match(d.nst ?? '', /^\/dev\/nst\d+$/);
      assert.match(d.model, /VIRTUAL-TAPE/);
    }
    assert.match(luns.find((l) => l.type === 8)!.model, /VIRTUAL-CHANGER/);
  });

  it('inventory and status through the agent match mtx on the changer’s sg node', async () => {
    const { job } = await t.call<{ job: string }>('changer.inventory', { changer: 'kern' });
    const rec = await t.waitJob(job);
    assert.equal(rec.state, 'success', JSON.stringify(rec.error));
    const s = await t.call<Status>('changer.status', { changer: 'kern' });
    const d = await direct();
    assert.equal(s.drives.length, 2);
    assert.equal(s.slots.filter((x) => x.importExport).length, 1);
    assert.deepEqual(
      s.slots.filter((x) => x.full && !x.importExport).map((x) => x.volumeTag),
      lab.barcodes,
    );
    assert.deepEqual(
      s.slots.map((x) => [x.index, x.volumeTag ?? null]),
      d.slots.map((x) => [x.index, x.volumeTag ?? null]),
    );
  });

  it('load: the cartridge is in drive 0 (mtx), drive.status reads it through mt on /dev/nstN', async () => {
    await t.call('changer.load', { changer: 'kern', drive: 0, slot: 1 });
    const d = await direct();
    assert.equal(d.drives[0]?.full, true);
    assert.equal(d.drives[0]?.volumeTag, lab.barcodes[0]);
    const [drive] = (await t.call<{ items: { id: string; device: string }[] }>('drive.list')).items;
    assert.equal(drive?.device, luns.find((l) => l.type === 1)!.nst);
    const st = await t.call<{ loaded: boolean; online: boolean; atBeginning: boolean; file?: number }>(
      'drive.status',
      { drive: drive!.id },
    );
    assert.equal(st.loaded, true, JSON.stringify(st));
    assert.equal(st.online, true, JSON.stringify(st));
    assert.equal((st as { serial?: string }).serial, undefined, 'tgt’s NUL serial is no serial');
    // data through the non-rewinding node reads back after a rewind
    const nst = drive!.device;
    const src = '/etc/services';
    await ok(['dd', `if=${src}`, `of=${nst}`, 'bs=64k']);
    await ok(['mt', '-f', nst, 'rewind']);
    const back = path.join(lab.dir, 'back');
    await ok(['dd', `if=${nst}`, `of=${back}`, 'bs=64k']);
    assert.ok(readFileSync(back).equals(readFileSync(src)), 'what was written to tape reads back');
    // st knows no position right after a load (file -1): after a rewind it is at file 0, at the beginning
    await ok(['mt', '-f', nst, 'rewind']);
    const again = await t.call<{ atBeginning: boolean; file?: number }>('drive.status', { drive: drive!.id });
    assert.equal(again.file, 0, JSON.stringify(again));
    assert.equal(again.atBeginning, true, JSON.stringify(again));
  });

  it('unload puts it back; transfer to the mailslot and back', async () => {
    await t.call('changer.unload', { changer: 'kern', drive: 0 });
    let d = await direct();
    assert.equal(d.drives[0]?.full, false);
    assert.equal(d.slots[0]?.volumeTag, lab.barcodes[0]);
    const mail = d.slots.find((x) => x.importExport)!;
    await t.call('changer.transfer', { changer: 'kern', from: 2, to: mail.index });
    d = await direct();
    assert.equal(d.slots.find((x) => x.index === mail.index)?.volumeTag, lab.barcodes[1]);
    await t.call('changer.transfer', { changer: 'kern', from: mail.index, to: 2 });
    assert.equal((await direct()).slots[1]?.volumeTag, lab.barcodes[1]);
  });

  it('a load from an empty slot is refused and changes nothing', async () => {
    const before = await direct();
    const empty = before.slots.find((x) => !x.full && !x.importExport)!;
    await assert.rejects(
      t.call('changer.load', { changer: 'kern', drive: 0, slot: empty.index }),
      (e: Error & { data?: { kind?: string } }) => e.data?.kind === 'conflict' || /empty/i.test(e.message),
    );
    assert.deepEqual(await direct(), before);
    assert.equal(sessionLuns(lab.iqn).length, luns.length);
  });
});
