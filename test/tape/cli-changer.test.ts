/**
 * `calypsoctl changer parse FILE --json` (cli/changer.ts): the published shape, exactly, on the
 * `mtx status` fixtures of test/fixtures/mtx; run through commander as the CLI runs it.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { registerChangerCommands } from '../../cli/changer.js';
import { repoRoot } from '../helpers/paths.js';

async function run(args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  let out = '';
  registerChangerCommands(program, (t) => {
    out += t;
  });
  await program.parseAsync(['node', 'calypsoctl', ...args]);
  return out;
}

test('changer parse --json prints exactly {drives, slots} with mailslots numbered after storage slots', async () => {
  const file = path.join(repoRoot(), 'test', 'fixtures', 'mtx', 'written-2drives-24slots-4ie-byid.txt');
  const j = JSON.parse(await run(['changer', 'parse', file, '--json']));
  assert.deepEqual(Object.keys(j), ['drives', 'slots']);
  assert.deepEqual(j.drives, [
    { index: 0, full: false },
    { index: 1, full: false },
  ]);
  assert.equal(j.slots.length, 24);
  assert.deepEqual(j.slots[0], { index: 1, full: true, volumeTag: 'CLN003CU', importExport: false });
  assert.deepEqual(j.slots[4], { index: 5, full: true, volumeTag: 'arc5', importExport: false });
  assert.deepEqual(j.slots[5], { index: 6, full: false, importExport: false });
  assert.deepEqual(j.slots[23], { index: 24, full: false, importExport: true });
});

test('changer parse --json keeps sourceSlot of loaded drives and drops parser-only fields', async () => {
  const file = path.join(repoRoot(), 'test', 'fixtures', 'mtx', 'handwritten-phys-loc.txt');
  const j = JSON.parse(await run(['changer', 'parse', file, '--json']));
  assert.deepEqual(j.drives, [
    { index: 0, full: false },
    { index: 1, full: true, volumeTag: 'B00002L6', sourceSlot: 2 },
  ]);
  assert.deepEqual(j.slots.at(-1), { index: 6, full: false, importExport: true });
});

test('changer parse without --json prints a table for people', async () => {
  const file = path.join(repoRoot(), 'test', 'fixtures', 'mtx', 'written-4drives-44slots-4ie.txt');
  const t = await run(['changer', 'parse', file]);
  assert.match(t, /^DRIVE\s+STATE/m);
  assert.match(t, /^41\s+empty\s+-\s+yes$/m);
  assert.match(t, /^38\s+full\s+CLN001CU$/m);
  assert.match(t, /^37\s+full\s+BACKUP 037$/m);
});
