/**
 * Synthetic trees: a 128-disk JBOD probes completely (agreeing with lsblk --sysroot), and the
 * incremental refresh after removals, additions and changes always ends where a full probe of
 * the same tree does.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { HardwareInventory, probeAll } from '../../probes/index.js';
import { type SyntheticTree, syntheticTree, wwnOf } from '../../probes/synthetic.js';
import { wire } from './fixtures.js';

let tree: SyntheticTree;
before(() => {
  tree = syntheticTree({ disks: 128 });
});
after(() => tree.remove());

test('128 SAS disks: all found, ids unique and stable, lsblk agrees', () => {
  const inv = probeAll(tree.root);
  assert.equal(inv.disks.length, 128);
  assert.deepEqual(inv.warnings, []);
  assert.deepEqual(
    inv.disks.map((d) => d.name),
    tree.names,
  );
  assert.deepEqual(
    inv.disks.map((d) => d.id),
    tree.names.map((_, i) => `wwn-${wwnOf(i)}`),
  );
  assert.ok(
    inv.disks.every((d) => d.partitions.length === 2 && d.hba === '0000:03:00.0' && d.transport === 'sas'),
  );
  const ls = JSON.parse(
    execFileSync('lsblk', ['--sysroot', tree.root, '-J', '-b', '-o', 'NAME,SIZE'], { encoding: 'utf8' }),
  ) as {
    blockdevices: { name: string; size: number }[];
  };
  assert.deepEqual(
    ls.blockdevices.map((b) => [b.name, b.size]),
    inv.disks.map((d) => [d.name, d.size]),
  );
});

test('incremental refreshes end where a full probe does', () => {
  const inv = new HardwareInventory(tree.root);
  inv.refreshAll();
  const hide = (name: string) =>
    renameSync(path.join(tree.root, 'sys/block', name), path.join(tree.root, `hidden-${name}`));
  const show = (name: string) =>
    renameSync(path.join(tree.root, `hidden-${name}`), path.join(tree.root, 'sys/block', name));
  const sizeFile = (name: string) => path.join(tree.root, 'sys/block', name, 'size');

  hide('sdj');
  let ch = inv.refreshBlock('sdj');
  assert.deepEqual(
    ch.removed.map((d) => d.name),
    ['sdj'],
  );
  assert.deepEqual([ch.added, ch.changed], [[], []]);
  assert.deepEqual(wire(inv.snapshot().disks), wire(probeAll(tree.root).disks));

  show('sdj');
  ch = inv.refreshBlock('sdj');
  assert.deepEqual(
    ch.added.map((d) => d.id),
    [`wwn-${wwnOf(9)}`],
  );
  assert.equal(inv.diskList[9]!.name, 'sdj', 'back in kernel order');

  writeFileSync(sizeFile('sdcv'), '1000\n');
  ch = inv.refreshBlock('sdcv');
  assert.deepEqual(
    ch.changed.map((d) => [d.name, d.size]),
    [['sdcv', 512000]],
  );
  assert.deepEqual(wire(inv.snapshot().disks), wire(probeAll(tree.root).disks));

  ch = inv.refreshBlock('sdzz'); // an event for a device that does not exist
  assert.deepEqual([ch.added, ch.removed, ch.changed], [[], [], []]);
});
