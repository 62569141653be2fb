/**
 * Child process for the kill-9 tests: applies `{value}` to the demo target under DIR, pausing
 * in the named step (where the parent kills it). argv: DIR STEP VALUE [effects]; with
 * `staged`, the demo target validates its new files staged beside the live ones. With
 * `effects`, the change also creates DIR/effect (undo: removes it) and sets DEMO_PASSWORD in
 * DIR/secrets.env, as a LUN's zvol and a Bacula client's password are.
 */
import path from 'node:path';
import pino from 'pino';
import { ConfigSet } from '../../agent/config-set/index.js';
import { createRunner } from '../../agent/runner.js';
import { SecretStore } from '../../agent/secrets.js';
import { openStore } from '../../agent/store.js';
import { demoTarget } from './demo-target.js';

const [dir, step, value, withEffects] = process.argv.slice(2) as [
  string,
  'validate' | 'activate',
  string,
  string | undefined,
];
const secrets = SecretStore.load(path.join(dir, 'secrets.env'));
const store = await openStore({ path: path.join(dir, 'lmdb') });
const set = new ConfigSet({
  db: store.db('config'),
  journalDir: path.join(dir, 'journal'),
  runner: createRunner(),
  log: pino({ level: 'silent' }),
  secrets,
});
const m = set.register(demoTarget({ dir, pauseIn: step, secrets, staged: withEffects === 'staged' }));
if (withEffects === 'effects')
  await m.update(
    () => ({
      state: { value },
      effects: [{ argv: ['touch', path.join(dir, 'effect')], undo: ['rm', '-f', path.join(dir, 'effect')] }],
      secrets: [{ key: 'DEMO_PASSWORD', value: `pw-${value}` }],
    }),
    { user: 'child', summary: `set ${value}` },
  );
else await m.apply({ value }, { user: 'child', summary: `set ${value}` });
await store.close();
