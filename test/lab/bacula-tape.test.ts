/**
 * The kernel lab: Bacula's storage daemon writing and restoring through the kernel's st driver (/dev/nstN) on tgt's
 * virtual library over open-iscsi, with the real mtx-changer (test/lab/guest/bacula-tape.ts), in one boot.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeRun, runGuestTests } from './guest.js';

describe('kernel lab: Bacula to tape through st', () => {
  it('label, back up to /dev/nstN and restore byte for byte (one boot)', { timeout: 1_800_000 }, async () => {
    const r = await runGuestTests(['test/lab/guest/bacula-tape'], { timeoutS: 1500, memMiB: 3072 });
    assert.equal(r.rc, 0, describeRun(r));
    assert.match(r.out, /ℹ fail 0/, describeRun(r));
  });
});
