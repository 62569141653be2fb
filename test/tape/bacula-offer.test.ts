/**
 * tape.bacula.offer: a library becomes a Bacula Autochanger with one Device per drive (stable
 * nst paths, Drive Index = mtx number), a tape pool on it and the console lines for
 * `update slots` and `label barcodes` (data cartridges only: cleaning tapes and mailslots left
 * out), through the backup subsystem's own configuration pipeline. The library is the fake one
 * (recorded mtx status); the director is not running, so the console part becomes a note.
 * Bacula writing to the emulated library for real is test/tape/emulated-library.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { backupSubsystem } from '../../agent/backup/service.js';
import { dataSlots, dominantMediaType } from '../../agent/tape/bacula-offer.js';
import { tapeConfig } from '../../agent/tape/config.js';
import { parseMtxStatus } from '../../agent/tape/parse-mtx-status.js';
import { createTapeService } from '../../agent/tape/service.js';
import type { RpcError } from '../../rpc/errors.js';
import { startTestAgent } from '../helpers/agent.js';
import { repoRoot } from '../helpers/paths.js';
import { fakeLibrary, readText } from './fake-library.js';

const NOISE = path.join(repoRoot(), 'test', 'fixtures', 'mtx', 'handwritten-noise-padded-ie.txt');

test('data slots and media type from a status: cleaning tapes, unlabelled cartridges and mailslots left out', () => {
  const s = parseMtxStatus(readText(NOISE));
  assert.equal(dataSlots(s), '1,5,7');
  assert.equal(dominantMediaType(s), 'LTO-8');
  const big = parseMtxStatus(
    readText(path.join(repoRoot(), 'test', 'fixtures', 'mtx', 'written-4drives-44slots-4ie.txt')),
  );
  assert.equal(dataSlots(big), '1-9,11-24,37');
});

test('tape.bacula.offer: Autochanger, Devices and pool through the Bacula pipeline; dry run first', async () => {
  const lib = fakeLibrary(readText(NOISE));
  const drives = [0, 1, 2].map((i) => ({ device: `/dev/tape/by-id/scsi-D${i}-nst` }));
  const a = await startTestAgent({
    runner: lib,
    services: [{ name: 'tape', service: createTapeService(), config: tapeConfig }, backupSubsystem],
    config: { tape: { changers: [{ id: 'lib1', device: '/dev/tape/by-id/scsi-LIB1', drives }] } },
  });
  try {
    const plan = await a.call<{ dryRun: true; files: { path: string; diff: string }[]; console: string[] }>(
      'tape.bacula.offer',
      { changer: 'lib1', storage: 'Lib1', pool: 'Tapes', dryRun: true },
    );
    const sd = plan.files.find((f) => f.path.endsWith('devices.conf'));
    assert.ok(sd, plan.files.map((f) => f.path).join(' '));
    assert.match(sd.diff, /Changer Device = "\/dev\/tape\/by-id\/scsi-LIB1"/);
    assert.match(sd.diff, /Archive Device = "\/dev\/tape\/by-id\/scsi-D2-nst"/);
    assert.match(sd.diff, /Drive Index = 2/);
    assert.match(sd.diff, /Media Type = "?LTO-8"?/);
    assert.deepEqual(plan.console, [
      'update slots storage=Lib1 drive=0',
      'label barcodes storage=Lib1 pool=Tapes slots=1,5,7 drive=0',
      'yes',
    ]);
    const r = await a.call<{ changed: string[]; notes: string[]; mediaType: string }>('tape.bacula.offer', {
      changer: 'lib1',
      storage: 'Lib1',
      pool: 'Tapes',
    });
    assert.equal(r.mediaType, 'LTO-8');
    const written = r.changed.find((f) => f.endsWith('devices.conf'))!;
    assert.match(readFileSync(written, 'utf8'), /Autochanger \{[\s\S]*Name = "?Lib1"?/);
    assert.ok(
      r.notes.some((n) => /director/.test(n)),
      r.notes.join(' | '),
    );
    // a name that would break the Bacula file is refused by the schema
    await assert.rejects(
      a.call('tape.bacula.offer', { changer: 'lib1', storage: 'x"y', pool: 'Tapes', dryRun: true }),
      (e: RpcError) => e.kind === 'invalid',
    );
  } finally {
    await a.stop();
  }
});
