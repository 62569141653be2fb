/**
 * The suite's last file (scripts/test.mjs runs files in sorted order): nothing the tests started
 * survives them — no ZFS pool, no daemon (zfs-fuse, tgtd, bacula-*, ceph-*, radosgw, cockpit-ws,
 * chromium, prometheus, an agent), no mount under a test's temporary directory. See
 * test/leftovers.ts for how a leftover is told from what ran before the suite.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
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

test('what the run started counts, and only that: its tag, not "started meanwhile"', async () => {
  // outside the test temp roots: only the tag can tell these apart
  const dir = mkdtempSync(path.join(os.tmpdir(), 'unrelated-'));
  const fake = path.join(dir, 'tgtd');
  copyFileSync('/bin/sleep', fake);
  const start = (env: Record<string, string>) => spawn(fake, ['60'], { stdio: 'ignore', env });
  const ours = start({ CALYPSO_SUITE_RUN: 'run-A' });
  const other = start({ CALYPSO_SUITE_RUN: 'run-B' });
  const untagged = start({}); // a tgtd in another terminal
  const everything = [ours, other, untagged];
  try {
    await sleep(200);
    const noBaseline = { pids: [], pools: [] };
    const seen = leftovers(noBaseline, 'run-A').join('\n');
    assert.match(seen, new RegExp(`daemon tgtd \\(pid ${ours.pid}\\) started by this run`), seen);
    assert.doesNotMatch(seen, new RegExp(`pid ${other.pid}\\b`), "another run's daemon is not ours");
    assert.doesNotMatch(seen, new RegExp(`pid ${untagged.pid}\\b`), 'an untagged daemon is not ours');
    // run by hand (no tag), a daemon that started after the baseline counts, as before
    assert.match(leftovers(noBaseline, '').join('\n'), new RegExp(`pid ${untagged.pid}\\)`));
  } finally {
    for (const c of everything) c.kill('SIGKILL');
    await Promise.all(
      everything.map((c) => new Promise((r) => (c.exitCode === null ? c.once('exit', r) : r(0)))),
    );
    rmSync(dir, { recursive: true, force: true });
  }
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
