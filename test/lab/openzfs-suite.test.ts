/**
 * One ZFS suite, two real implementations: the files of test/zfs/ that run on zfs-fuse on the host run unchanged
 * in the kernel lab guest against OpenZFS 2.1 (Debian contrib's module, zfsutils-linux), in one boot. There
 * `useZfsFuse()` (test/zfs/helpers.ts) loads the zfs module instead of starting zfs-fuse, and the agent detects the
 * OpenZFS dialect by itself. The full spec output is the assertion message when a file fails.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../helpers/paths.js';
import { describeRun, runGuestTests } from './guest.js';

/** every test/zfs/*.test.ts (the pure ones too: they must not depend on which ZFS the machine has) */
const FILES = readdirSync(path.join(repoRoot(), 'test/zfs'))
  .filter((f) => f.endsWith('.test.ts'))
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
