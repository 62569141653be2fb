/**
 * The batched read-ahead (native reader, probes/native) is only an optimisation: a probe with
 * it gives exactly what a probe without it gives — disks, HBAs, tapes and every warning — on
 * every recorded tree, on damaged trees and on a synthetic JBOD. And it does read ahead what a
 * probe reads: the reads still made one by one do not grow with the number of disks.
 * And probes/ (the native reader included) does not depend on the agent.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { HardwareInventory, probeAll } from '../../probes/index.js';
import { loadSysread, sysreadError } from '../../probes/native.js';
import { type SyntheticTree, syntheticTree } from '../../probes/synthetic.js';
import { repoRoot } from '../helpers/paths.js';
import { copyFixture, FIXTURE_NAMES, fixture, wire } from './fixtures.js';

const same = (root: string, what: string) => {
  const batched = wire(probeAll(root, { readAhead: 'always' }));
  const direct = wire(probeAll(root, { readAhead: 'never' }));
  assert.deepEqual(batched, direct, `${what}: read-ahead changed the result`);
  return batched;
};

test('the native batch reader is built and loads', () => {
  assert.ok(loadSysread(), `probes/native addon: ${sysreadError()}`);
});

test('every recorded tree probes the same with and without read-ahead', () => {
  for (const name of FIXTURE_NAMES) same(fixture(name), name);
});

test('damaged trees: the same values and the same warnings', (t) => {
  const tree = copyFixture('sata-ahci');
  t.after(tree.cleanup);
  const root = tree.dir;
  const sda = path.join(root, 'sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda');
  const sdb = path.join(root, 'sys/devices/pci0000:00/0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0/block/sdb');
  writeFileSync(path.join(sda, 'size'), ''); // truncated
  rmSync(path.join(sdb, 'queue/rotational'));
  mkdirSync(path.join(sdb, 'queue/rotational')); // EISDIR
  writeFileSync(path.join(sdb, 'sdb1/size'), 'x\n'); // garbage
  writeFileSync(path.join(sdb, 'dev'), 'nonsense\n'); // no udev match
  rmSync(path.join(root, 'run/udev/data/b8:0')); // no udev record
  symlinkSync('../devices/nowhere/block/sdz', path.join(root, 'sys/block/sdz')); // dangling
  const inv = same(root, 'damaged sata-ahci');
  const messages = inv.warnings.map((w) => `${w.device} ${w.message}`);
  for (const re of [/sda not a number/, /sdb unreadable \(EISDIR\)/, /sdb bad dev attribute/, /sdz skipped/])
    assert.ok(
      messages.some((m) => re.test(m)),
      `${re} among ${messages.join('; ')}`,
    );
});

let small: SyntheticTree;
let large: SyntheticTree;
before(() => {
  small = syntheticTree({ disks: 80 });
  large = syntheticTree({ disks: 320 });
});
after(() => {
  small.remove();
  large.remove();
});

test('a synthetic JBOD probes the same with and without read-ahead', () => {
  const inv = same(large.root, '320-disk JBOD');
  assert.equal(inv.disks.length, 320);
  assert.deepEqual(inv.warnings, []);
});

test('io_uring and plain system calls read the same', () => {
  const withUring = wire(probeAll(large.root, { readAhead: 'always' }));
  const mode = loadSysread()!.readerMode();
  // where the kernel offers io_uring to everyone, the reader must have used it
  if (uringOpen()) assert.equal(mode, 'io_uring', 'io_uring is enabled here but the reader did not use it');
  const saved = process.env.CALYPSO_PROBE_URING;
  process.env.CALYPSO_PROBE_URING = '0';
  try {
    const withSyscalls = wire(probeAll(large.root, { readAhead: 'always' }));
    assert.equal(loadSysread()!.readerMode(), 'syscalls');
    assert.deepEqual(withSyscalls, withUring);
  } finally {
    if (saved === undefined) delete process.env.CALYPSO_PROBE_URING;
    else process.env.CALYPSO_PROBE_URING = saved;
  }
});

/**
 * The reader can use io_uring here: Linux ≥ 5.19 (sparse direct-descriptor tables) and
 * kernel.io_uring_disabled 0 (the sysctl exists from 6.6; before it io_uring is open to all).
 */
function uringOpen(): boolean {
  const [major = 0, minor = 0] = release().split('.').map(Number);
  if (major < 5 || (major === 5 && minor < 19)) return false;
  try {
    return readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim() === '0';
  } catch {
    return true;
  }
}

test('read-ahead covers the per-disk reads: direct reads do not grow with the disk count', () => {
  const direct = (root: string, readAhead: 'auto' | 'never') => {
    const inv = new HardwareInventory(root, { readAhead });
    inv.refreshAll();
    return inv.blockDirectReads;
  };
  assert.ok(direct(large.root, 'never') > 320 * 10, 'without read-ahead every attribute is a direct read');
  const few = direct(small.root, 'auto');
  const many = direct(large.root, 'auto');
  assert.equal(many, few, `80 disks: ${few} direct reads, 320 disks: ${many}`);
  assert.ok(many <= 2, `only the two top-level listings (sys/block, run/udev/data) are direct: ${many}`);
});

test('probes/ stays pure of the agent: no module under it imports agent code', () => {
  const dir = path.join(repoRoot(), 'probes');
  const offenders = readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .filter((f) =>
      /from '\.\.\/agent\//.test(readFileSync(path.join(dir, f), 'utf8').replace(/^import type .*$/gm, '')),
    );
  assert.deepEqual(offenders, []);
});
