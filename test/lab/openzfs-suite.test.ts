/**
 * One ZFS suite, two real implementations: the files of test/zfs/ that run on zfs-fuse on the host run in the
 * kernel lab guest against OpenZFS 2.1 (Debian contrib's module, zfsutils-linux), in one boot. There
 * `useZfsFuse()` (test/zfs/helpers.ts) loads the zfs module instead of starting zfs-fuse, and the agent detects the
 * OpenZFS dialect by itself. The full spec output is the assertion message when a file fails.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../helpers/paths.js';
import { describeRun, runGuestTests } from './guest.js';

/**
 * the files of test/zfs that run on the real ZFS (they call useZfsFuse); the others read recordings or a fake
 * runner and say nothing about the machine's ZFS (they run on the host)
 */
const dir = path.join(repoRoot(), 'test/zfs');
const FILES = readdirSync(dir)
  .filter((f) => f.endsWith('.test.ts') && readFileSync(path.join(dir, f), 'utf8').includes('useZfsFuse('))
  .sort()
  .map((f) => `test/zfs/${f.replace(/\.ts$/, '')}`);

describe('kernel lab: the ZFS suite on OpenZFS', () => {
  it(`test/zfs (${FILES.length} files) passes on OpenZFS 2.1 in the guest (one boot)`, {
    timeout: 1_800_000,
  }, async () => {
    const r = await runGuestTests(FILES, { timeoutS: 1500, memMiB: 3072 });
    assert.equal(r.rc, 0, describeRun(r));
    assert.match(r.out, /ℹ fail 0/, describeRun(r));
  });
});
