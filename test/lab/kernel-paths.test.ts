/**
 * The kernel lab (scripts/lab, docs/lab.md): what the host's user-space emulations cannot show, on Debian's real
 * 6.1 kernel under QEMU. Each boot runs in-guest node:test files (test/lab/guest/*.ts) as root; their full output
 * is the assertion message when one fails. Two boots: the SCSI/iSCSI/tape/NFS paths, and OpenZFS.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeRun, runGuestTests } from './guest.js';

describe('kernel lab: storage paths on the real kernel', () => {
  it('hardware probes on sysfs, nfsd, the tape path and the iSCSI initiator (one boot)', {
    timeout: 1_800_000,
  }, async () => {
    const r = await runGuestTests(
      [
        'test/lab/guest/hardware',
        'test/lab/guest/nfsd',
        'test/lab/guest/tape',
        'test/lab/guest/iscsi-initiator',
      ],
      { timeoutS: 1500 },
    );
    assert.equal(r.rc, 0, describeRun(r));
    assert.match(r.out, /ℹ fail 0/, describeRun(r));
  });

  it('OpenZFS through the agent process (one boot)', { timeout: 1_800_000 }, async () => {
    const r = await runGuestTests(['test/lab/guest/openzfs'], { timeoutS: 1500 });
    assert.equal(r.rc, 0, describeRun(r));
    assert.match(r.out, /ℹ fail 0/, describeRun(r));
  });
});
