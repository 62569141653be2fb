/**
 * Child process for the kill-9 tests: applies `{value}` to the demo target under DIR, pausing
 * in the named step (where the parent kills it). argv: DIR STEP VALUE
 */
import path from 'node:path';
import pino from 'pino';
import { ConfigSet } from '../../agent/config-set/index.js';
import { createRunner } from '../../agent/runner.js';
import { openStore } from '../../agent/store.js';
import { demoTarget } from './demo-target.js';

const [dir, step, value] = process.argv.slice(2) as [string, 'validate' | 'activate', string];
const store = await openStore({ path: path.join(dir, 'lmdb') });
const set = new ConfigSet({
  db: store.db('config'),
  journalDir: path.join(dir, 'journal'),
  runner: createRunner(),
  log: pino({ level: 'silent' }),
});
const m = set.register(demoTarget({ dir, pauseIn: step }));
await m.apply({ value }, { user: 'child', summary: `set ${value}` });
await store.close();
