/**
 * The suite's last file (scripts/test.mjs runs files in sorted order): nothing the tests started
 * survives them — no ZFS pool, no daemon (zfs-fuse, tgtd, bacula-*, ceph-*, radosgw, cockpit-ws,
 * chromium, prometheus, an agent), no mount under a test's temporary directory. See
 * test/leftovers.ts for how a leftover is told from what ran before the suite.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from './helpers/paths.js';
import { BASELINE_FILE, leftovers } from './leftovers.js';

test('the check can fail: it sees a "tgtd" started from a test temp dir, and not once it is gone', async () => {
  const tmp = tempDir('calypso-leftover-');
  const fake = path.join(tmp.dir, 'tgtd');
  copyFileSync('/bin/sleep', fake);
  const child = spawn(fake, ['60'], { stdio: 'ignore' });
  try {
    await sleep(200);
    assert.ok(
      leftovers().some((l) => l.startsWith(`daemon tgtd (pid ${child.pid})`)),
      'the fake daemon is reported',
    );
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    tmp.cleanup();
  }
  assert.ok(!leftovers().some((l) => l.includes(`(pid ${child.pid})`)), 'gone once stopped');
});

test('the suite leaves no pool, daemon or mount behind', async () => {
  // a daemon told to stop by the previous file may take a moment to exit
  let found = leftovers();
  for (let i = 0; i < 20 && found.length; i++) {
    await sleep(250);
    found = leftovers();
  }
  rmSync(BASELINE_FILE, { force: true });
  assert.deepEqual(found, [], `left behind by the suite:\n${found.join('\n')}`);
});
