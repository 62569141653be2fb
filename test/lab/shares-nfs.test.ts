/**
 * The kernel lab: NFS shares made by the agent, exported by the kernel's nfsd with the agent's exports file and
 * `exportfs -ra`, mounted back over loopback by the kernel client with NFS v4.2 and v3 (test/lab/guest/shares-nfs.ts):
 * root squashed to the anon ids, a read-only export, a host that is not a client, an exportfs complaint, an export
 * removed with `exportfs -u` reported by shares.drift and put back by shares.apply, wildcard and netgroup clients.
 * One boot.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeRun, runGuestTests } from './guest.js';

describe('kernel lab: NFS shares on the kernel nfsd', () => {
  it('exports, squash, read-only, a refused host, a refused change and export-table drift (one boot)', {
    timeout: 1_800_000,
  }, async (t) => {
    const r = await runGuestTests(['test/lab/guest/shares-nfs'], { timeoutS: 1200 });
    // the guest's own verdicts and the boot's timing, in the report even when it passes
    for (const l of r.out.split('\n').filter((x) => /^\s*(✔|✖|ℹ (pass|fail|duration_ms))/.test(x)))
      t.diagnostic(l.trim());
    t.diagnostic(`wall ${(r.ms / 1000).toFixed(0)} s`);
    assert.equal(r.rc, 0, describeRun(r));
    assert.match(r.out, /ℹ fail 0/, describeRun(r));
  });
});
