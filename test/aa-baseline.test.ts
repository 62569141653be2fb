/**
 * The suite's first file (scripts/test.mjs runs files in sorted order): records which daemons
 * and pools were running before any test, so that the last file (zz-leftovers.test.ts) can tell
 * what the suite itself left behind.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { BASELINE_FILE, type Baseline, daemons, pools } from './leftovers.js';

test('record the daemons and pools that ran before the suite', () => {
  const b: Baseline = { pids: daemons().map((p) => p.pid), pools: pools().map((p) => p.name) };
  writeFileSync(BASELINE_FILE, `${JSON.stringify(b)}\n`);
  assert.deepEqual(JSON.parse(readFileSync(BASELINE_FILE, 'utf8')), b);
});
