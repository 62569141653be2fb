/**
 * The kernel lab (scripts/lab, docs/lab.md): what the host's user-space emulations cannot show, on Debian's real
 * 6.1 kernel under QEMU. One boot runs the in-guest test files (test/lab/guest/*.ts) with node:test as root; their
 * full output is the assertion message when one fails.
 * - iscsi-initiator: open-iscsi against a tgtd configured by the agent: discovery, CHAP wrong/right, /dev/sdX data
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeRun, runGuestTests } from './guest.js';

describe('kernel lab: storage paths on the real kernel', () => {
  it('iSCSI: the kernel initiator logs in to the agent’s tgtd target', { timeout: 1_200_000 }, async () => {
    const r = await runGuestTests(['test/lab/guest/iscsi-initiator'], { timeoutS: 1000 });
    assert.equal(r.rc, 0, describeRun(r));
    assert.match(r.out, /ℹ fail 0/, describeRun(r));
  });
});
