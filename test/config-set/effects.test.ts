/**
 * A change's side effects and secrets belong to the change (ManagedConfig.update): a dry run
 * lists the effects' argv and the secrets it would set and does nothing; a change that its
 * validation refuses, or that a state check refuses, leaves neither the effect (a file created
 * by a real command, as a zvol is for a LUN) nor the secret in secrets.env; and a process killed
 * with SIGKILL in the middle of such a change has both undone at the next start (issue #28
 * item 17: the password of a client that was never created stayed in secrets.env).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { ConfigSet, type ManagedConfig } from '../../agent/config-set/index.js';
import { createRunner } from '../../agent/runner.js';
import { SecretStore } from '../../agent/secrets.js';
import { openStore, type Store } from '../../agent/store.js';
import { waitUntil } from '../../agent/util/time.js';
import { fromSources, repoRoot, tempDir } from '../helpers/paths.js';
import { type DemoState, demoTarget, files } from './demo-target.js';

let tmp: { dir: string; cleanup: () => void };
let store: Store;
let set: ConfigSet;
let secrets: SecretStore;
let m: ManagedConfig<DemoState>;
const as = { user: 'tester', summary: 'test' };
const effectFile = () => path.join(tmp.dir, 'effect');
const secretsFile = () => path.join(tmp.dir, 'secrets.env');
const envText = () => (existsSync(secretsFile()) ? readFileSync(secretsFile(), 'utf8') : '');

async function open(): Promise<void> {
  store = await openStore({ path: path.join(tmp.dir, 'lmdb') });
  secrets = SecretStore.load(secretsFile());
  set = new ConfigSet({
    db: store.db('config'),
    journalDir: path.join(tmp.dir, 'journal'),
    runner: createRunner(),
    log: pino({ level: 'silent' }),
    secrets,
  });
  m = set.register(demoTarget({ dir: tmp.dir, secrets }));
}

const change = (value: string) => () => ({
  state: { value },
  effects: [{ argv: ['touch', effectFile()], undo: ['rm', '-f', effectFile()] }],
  secrets: [{ key: 'DEMO_PASSWORD', value: `pw-${value}` }],
});

beforeEach(async () => {
  tmp = tempDir('calypso-fx-');
  writeFileSync(secretsFile(), '# other subsystems keep their keys\nOTHER_KEY=kept\n', { mode: 0o600 });
  await open();
});
afterEach(async () => {
  await store.close();
  tmp.cleanup();
});

describe('side effects and secrets of a change', () => {
  it('a dry run lists the effect first and the secret by name, and does nothing', async () => {
    const plan = await m.update(change('planned'), { ...as, dryRun: true });
    assert.deepEqual(plan.commands[0], ['touch', effectFile()]);
    assert.ok(plan.notes.some((n) => /DEMO_PASSWORD set \(value not shown\)/.test(n)));
    assert.ok(!JSON.stringify(plan).includes('pw-planned'), 'the value is not shown');
    assert.equal(existsSync(effectFile()), false);
    assert.doesNotMatch(envText(), /DEMO_PASSWORD/);
  });

  it('applied: the effect ran, the secret is written beside the others and rendered', async () => {
    const r = await m.update(change('good'), as);
    assert.deepEqual(r.commands[0], ['touch', effectFile()]);
    assert.ok(existsSync(effectFile()));
    assert.match(envText(), /^DEMO_PASSWORD=pw-good$/m);
    assert.match(envText(), /^OTHER_KEY=kept$/m);
    assert.match(readFileSync(files(tmp.dir).main, 'utf8'), /password = "pw-good"/);
    assert.equal(m.state().value, 'good');
  });

  it('refused by validation: no effect, no secret, nothing committed', async () => {
    const before = envText();
    await assert.rejects(m.update(change('BAD'), as));
    assert.equal(existsSync(effectFile()), false, 'the effect was undone');
    assert.equal(envText(), before, 'secrets.env is as it was');
    assert.equal(secrets.get('DEMO_PASSWORD'), undefined);
    assert.equal(m.head(), undefined);
  });

  it('refused by the state check inside the lock: nothing runs at all', async () => {
    await assert.rejects(
      m.update(() => {
        throw new Error('refused');
      }, as),
      /refused/,
    );
    assert.equal(existsSync(effectFile()), false);
    assert.doesNotMatch(envText(), /DEMO_PASSWORD/);
  });
});

describe('kill -9 in the middle of a change with side effects', () => {
  const child = (step: 'validate' | 'activate', value: string) => {
    const rel = 'test/config-set/apply-child';
    const argv = fromSources
      ? ['--import', 'tsx', path.join(repoRoot(), `${rel}.ts`)]
      : [path.join(repoRoot(), 'dist', `${rel}.js`)];
    return spawn(process.execPath, [...argv, tmp.dir, step, value, 'effects'], { stdio: 'ignore' });
  };

  for (const step of ['validate', 'activate'] as const) {
    it(`killed while ${step === 'validate' ? 'validating' : 'activating'}: neither the effect nor the secret survives the restart`, async () => {
      await m.apply({ value: 'kept' }, as);
      const env = envText();
      await store.close();
      const c = child(step, 'lost');
      await waitUntil(() => existsSync(path.join(tmp.dir, `paused-${step}`)), {
        timeoutMs: 30_000,
        what: `the child to pause in ${step}`,
      });
      assert.ok(existsSync(effectFile()), 'the effect ran');
      assert.match(envText(), /DEMO_PASSWORD=pw-lost/, 'the secret was written');
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
      await open();
      const report = await set.recoverAll();
      assert.deepEqual(
        report.map((r) => [r.target, r.action]),
        [['demo', 'restored']],
      );
      assert.equal(existsSync(effectFile()), false, 'the effect was undone');
      assert.equal(envText(), env, 'secrets.env is byte for byte as before');
      assert.equal(m.state().value, 'kept');
      assert.ok(!existsSync(path.join(tmp.dir, 'journal', 'demo.effects.json')));
    });
  }
});
