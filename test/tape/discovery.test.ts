/**
 * Without `tape.changers`, changers and drives come from the hardware inventory of a sysfs tree
 * (test/fixtures/sysfs: constructed trees, and one recorded in the kernel lab): stable ids
 * (WWN, serial), the changer's /dev/tape/by-id path where udev made one, drives at the changer's
 * SCSI target (or every drive, with one changer) in SCSI address order, their nst nodes.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { tapeConfig } from '../../agent/tape/config.js';
import { createTapeService } from '../../agent/tape/service.js';
import { startTestAgent } from '../helpers/agent.js';
import { repoRoot } from '../helpers/paths.js';
import { fakeLibrary, readText } from './fake-library.js';

const tree = (name: string) => path.join(repoRoot(), 'test', 'fixtures', 'sysfs', name);
type Info = {
  id: string;
  device: string;
  source: string;
  model?: string;
  lock: string;
  drives: { id: string; device: string; sg?: string }[];
};

test('an mhvtl host: one SPECTRA PYTHON changer keyed by WWN with its four drives', async () => {
  const lib = fakeLibrary(
    readText(path.join(repoRoot(), 'test', 'fixtures', 'mtx', 'written-4drives-44slots-4ie.txt')),
  );
  const a = await startTestAgent({
    runner: lib,
    sysroot: tree('tape-mhvtl'),
    services: [{ name: 'tape', service: createTapeService(), config: tapeConfig }],
  });
  try {
    const [c, ...more] = (await a.call<{ items: Info[] }>('changer.list')).items;
    assert.equal(more.length, 0);
    assert.equal(c!.id, 'wwn-0x10223344abcdef00');
    assert.equal(c!.source, 'inventory');
    assert.equal(c!.model, 'PYTHON');
    assert.equal(c!.lock, 'changer:wwn-0x10223344abcdef00');
    assert.deepEqual(
      c!.drives.map((d) => [d.id, d.device, d.sg]),
      [
        ['wwn-0x10223344abcdef01', '/dev/nst0', '/dev/sg2'],
        ['wwn-0x10223344abcdef02', '/dev/nst1', '/dev/sg3'],
        ['wwn-0x10223344abcdef03', '/dev/nst2', '/dev/sg4'],
        ['wwn-0x10223344abcdef04', '/dev/nst3', '/dev/sg5'],
      ],
    );
    await a.call('changer.status', { changer: c!.id });
    assert.deepEqual(lib.calls.at(-1), ['mtx', '-f', c!.device, 'status']);
  } finally {
    await a.stop();
  }
});

test('a SAS loader with udev links: the changer by its /dev/tape/by-id path, the drive by its -nst link', async () => {
  const a = await startTestAgent({
    runner: fakeLibrary(
      readText(path.join(repoRoot(), 'test', 'fixtures', 'mtx', 'written-2drives-24slots-4ie-byid.txt')),
    ),
    sysroot: tree('tape-sas'),
    services: [{ name: 'tape', service: createTapeService(), config: tapeConfig }],
  });
  try {
    const [c] = (await a.call<{ items: Info[] }>('changer.list')).items;
    assert.equal(c!.device, '/dev/tape/by-id/scsi-350014380123abcdf');
    assert.deepEqual(
      c!.drives.map((d) => d.device),
      ['/dev/tape/by-id/scsi-350014380123abcde-nst'],
    );
    const drives = (await a.call<{ items: { id: string; changer: string; index: number }[] }>('drive.list'))
      .items;
    assert.deepEqual(drives, [
      {
        id: 'wwn-0x50014380123abcde',
        changer: c!.id,
        index: 0,
        device: '/dev/tape/by-id/scsi-350014380123abcde-nst',
      },
    ]);
  } finally {
    await a.stop();
  }
});
