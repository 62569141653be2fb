/**
 * The kernel lab (scripts/lab, docs/lab.md): what the host's user-space emulations cannot show, on Debian's real
 * 6.1 kernel under QEMU. One boot runs as root the LIO scenario (test/iscsi/lio-guest.ts, test/iscsi/lio-checks.ts)
 * and the in-guest node:test files (test/lab/guest/*.ts) of the SCSI, NFS, tape and iSCSI-initiator paths, each
 * in its own `node --test`: one test here per file, whose full output is the assertion message when it fails. (The OpenZFS file runs in test/lab/openzfs-suite.test.ts's boot.)
 */
import { describe } from 'node:test';
import { LIO_GUEST, lioChecks } from '../iscsi/lio-checks.js';
import { guestFileTests } from './guest.js';

describe('kernel lab: storage paths on the real kernel (one boot)', () => {
  guestFileTests(
    [
      // first: LIO wants a guest where tgtd does not run (its `auto` backend choice is one of its checks)
      { rel: LIO_GUEST, name: 'LIO in the kernel lab guest, configured by the agent', check: lioChecks },
      { rel: 'test/lab/guest/hardware', name: 'hardware probes on sysfs (scsi_debug disks)' },
      { rel: 'test/lab/guest/nfsd', name: 'nfsd exports a tmpfs directory, mounted back with NFS v4.2' },
      {
        rel: 'test/lab/guest/shares-nfs',
        name: 'NFS shares on the kernel nfsd: exports, squash, read-only, a refused host, a refused change and export-table drift',
      },
      { rel: 'test/lab/guest/tape', name: 'the tape path: tgt VTL over open-iscsi, st/sg, real mtx and mt' },
      {
        rel: 'test/lab/guest/iscsi-initiator',
        name: 'the iSCSI initiator against tgtd configured by the agent',
      },
      {
        rel: 'test/lab/guest/bacula-tape',
        name: 'Bacula to tape through st: label, back up to /dev/nstN and restore byte for byte',
      },
    ],
    { timeoutS: 2700, memMiB: 3072 },
  );
});
