/** Data written with dd to an emulated drive reads back identical after mt rewind. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startTapeLab, type TapeLab } from '../../sandbox/tape.js';

let lab: TapeLab;
before(async () => {
  lab = await startTapeLab({ slots: 4, mailslots: 1, tapes: 2 });
});
after(async () => {
  await lab?.stop();
});

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, {
    env: { ...process.env, ...lab.env },
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test('dd to a loaded drive, weof, rewind, dd back: identical bytes (short last block included)', () => {
  const src = path.join(lab.dir, 'src.bin');
  const back = path.join(lab.dir, 'back.bin');
  const data = randomBytes(100_000); // not a multiple of the block size: the last block is short
  writeFileSync(src, data);
  const drive = lab.driveDevices[0] as string;
  run('mtx', ['-f', lab.changerDevice, 'load', '1', '0']);
  run('dd', [`if=${src}`, `of=${drive}`, 'bs=10240']);
  run('mt', ['-f', drive, 'weof', '1']);
  run('mt', ['-f', drive, 'rewind']);
  run('dd', [`if=${drive}`, `of=${back}`, 'bs=10240']);
  assert.ok(readFileSync(back).equals(data), 'read-back differs');
  run('mt', ['-f', drive, 'rewind']);
  run('mtx', ['-f', lab.changerDevice, 'unload', '1', '0']);
});
