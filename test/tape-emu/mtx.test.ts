/** Real mtx, mt-st, tapeinfo and sg_inq against tgtd's emulated changer and drives, through the preload. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { startTapeLab, type TapeLab } from '../../sandbox/tape.js';

let lab: TapeLab;
before(async () => {
  lab = await startTapeLab({ slots: 6, mailslots: 1, tapes: 4 });
});
after(async () => {
  await lab?.stop();
});

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { env: { ...process.env, ...lab.env }, encoding: 'utf8', timeout: 30_000 });
}

/** slot number → barcode or null, plus drives, from `mtx status`. */
function status(): { slots: Map<number, string | null>; drives: (string | null)[]; mail: number[] } {
  const out = run('mtx', ['-f', lab.changerDevice, 'status']);
  const slots = new Map<number, string | null>();
  const drives: (string | null)[] = [];
  const mail: number[] = [];
  for (const line of out.split('\n')) {
    const s = /Storage Element (\d+)( IMPORT\/EXPORT)?:(Full|Empty)\s*(?::VolumeTag=\s*(\S*))?/.exec(line);
    if (s) {
      const n = Number(s[1]);
      slots.set(n, s[3] === 'Full' ? (s[4] ?? '') : null);
      if (s[2]) mail.push(n);
    }
    const d = /Data Transfer Element (\d+):(Full|Empty)(?:.*VolumeTag = (\S+))?/.exec(line);
    if (d) drives[Number(d[1])] = d[2] === 'Full' ? (d[3] ?? '') : null;
  }
  return { slots, drives, mail };
}

test('mtx status lists the emulated slots, mailslot and barcodes', () => {
  const s = status();
  assert.equal(s.slots.size, lab.slots + lab.mailslots);
  assert.deepEqual(s.mail, [lab.slots + 1]);
  assert.deepEqual(
    lab.barcodes.map((_, i) => s.slots.get(i + 1)),
    lab.barcodes,
  );
  assert.equal(s.slots.get(lab.slots), null);
  assert.deepEqual(s.drives, [null, null]);
});

test('load, transfer, mailslot moves and unload change the emulated state', () => {
  run('mtx', ['-f', lab.changerDevice, 'load', '1', '0']);
  let s = status();
  assert.equal(s.drives[0], lab.barcodes[0]);
  assert.equal(s.slots.get(1), null);
  run('mtx', ['-f', lab.changerDevice, 'transfer', '2', String(lab.slots + 1)]);
  s = status();
  assert.equal(s.slots.get(2), null);
  assert.equal(s.slots.get(lab.slots + 1), lab.barcodes[1]);
  run('mtx', ['-f', lab.changerDevice, 'transfer', String(lab.slots + 1), '2']);
  run('mtx', ['-f', lab.changerDevice, 'unload', '1', '0']);
  s = status();
  assert.equal(s.drives[0], null);
  assert.equal(s.slots.get(1), lab.barcodes[0]);
  assert.equal(s.slots.get(2), lab.barcodes[1]);
});

test('a move from an empty slot is refused and changes nothing', () => {
  const before = status();
  assert.throws(() => run('mtx', ['-f', lab.changerDevice, 'transfer', String(lab.slots), '1']));
  assert.deepEqual(status(), before);
});

test('sg_inq, tapeinfo and mt status answer through the preload', () => {
  assert.match(run('sg_inq', [lab.changerDevice]), /medium changer/);
  assert.match(run('tapeinfo', ['-f', lab.driveSgDevices[0] as string]), /Product Type: Tape Drive/);
  run('mtx', ['-f', lab.changerDevice, 'load', '3', '1']);
  try {
    assert.match(run('mt', ['-f', lab.driveDevices[1] as string, 'status']), /ONLINE/);
  } finally {
    run('mtx', ['-f', lab.changerDevice, 'unload', '3', '1']);
  }
});
