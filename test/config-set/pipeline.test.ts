/**
 * The managed-config pipeline's guarantees (agent/config-set), with real files, real LMDB and
 * real commands: a failed validation or activation leaves the previous files and LMDB state
 * byte for byte (and re-activates the old version); history lists versions with redacted diffs;
 * restore brings an old version back; a dry run writes nothing and lists exactly the commands the
 * apply runs; a process killed with SIGKILL at each step leaves files and LMDB consistent after
 * recovery at the next start.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { ConfigSet, type ManagedConfig } from '../../agent/config-set/index.js';
import { readableValue } from '../../agent/config-set/versions.js';
import { createRunner } from '../../agent/runner.js';
import { openStore, type Store } from '../../agent/store.js';
import { waitUntil } from '../../agent/util/time.js';
import { fromSources, repoRoot, tempDir } from '../helpers/paths.js';
import { type DemoOptions, type DemoState, demoTarget, files } from './demo-target.js';

let tmp: { dir: string; cleanup: () => void };
let store: Store;
let set: ConfigSet;
let m: ManagedConfig<DemoState>;
const secrets = new Map<string, string>();

async function open(opts: Partial<DemoOptions> = {}): Promise<void> {
  store = await openStore({ path: path.join(tmp.dir, 'lmdb') });
  set = new ConfigSet({
    db: store.db('config'),
    journalDir: path.join(tmp.dir, 'journal'),
    runner: createRunner(),
    log: pino({ level: 'silent' }),
  });
  m = set.register(demoTarget({ dir: tmp.dir, secrets, ...opts }));
}

/** Everything that must not move: each managed file's bytes and mode, and the whole LMDB db. */
function snapshot() {
  const f = files(tmp.dir);
  const file = (p: string) =>
    existsSync(p) ? { bytes: readFileSync(p).toString('base64'), mode: statSync(p).mode } : null;
  const db = [...store.db('config').getRange({})].map(({ key, value }) => [key, JSON.stringify(value)]);
  return { main: file(f.main), extra: file(f.extra), db };
}

const as = { user: 'tester', summary: 'test' };
const log = () => readFileSync(files(tmp.dir).log, 'utf8').trim().split('\n');

beforeEach(async () => {
  tmp = tempDir('calypso-cs-');
  secrets.clear();
  await open();
});
afterEach(async () => {
  await store.close();
  tmp.cleanup();
});

describe('apply', () => {
  it('writes the files, activates, records the state and a version', async () => {
    secrets.set('DEMO_PASSWORD', 's3cret-one');
    const r = await m.apply({ value: 'one' }, as);
    const f = files(tmp.dir);
    assert.equal(readFileSync(f.main, 'utf8'), 'value = "one"\npassword = "s3cret-one"\n');
    assert.equal(statSync(f.main).mode & 0o777, 0o600);
    assert.equal(r.version, 1);
    assert.deepEqual(r.changed.sort(), [f.extra, f.main].sort());
    assert.deepEqual(m.state(), { value: 'one' });
    assert.deepEqual(log(), ['one']);
    // the committed journal is dropped just after the answer
    await waitUntil(() => !existsSync(path.join(tmp.dir, 'journal', 'demo')), {
      timeoutMs: 5_000,
      what: 'the journal to be dropped',
    });
    // nothing changes: no version, no activation
    const again = await m.apply({ value: 'one' }, as);
    assert.equal(again.version, undefined);
    assert.deepEqual(again.commands, []);
    assert.deepEqual(log(), ['one']);
  });

  it('removes a file the new rendering drops', async () => {
    await m.apply({ value: 'one' }, as);
    await m.apply({ value: 'no-extra' }, as);
    assert.ok(!existsSync(files(tmp.dir).extra));
  });
});

describe('failures leave the previous version byte for byte', () => {
  it('a failed validation', async () => {
    secrets.set('DEMO_PASSWORD', 'pw-good-123');
    await m.apply({ value: 'good' }, as);
    const before = snapshot();
    await assert.rejects(m.apply({ value: 'BAD' }, as), /validate|exit code|failed/i);
    assert.deepEqual(snapshot(), before);
    assert.deepEqual(log(), ['good'], 'nothing activated');
    assert.ok(!existsSync(path.join(tmp.dir, 'journal', 'demo')));
  });

  it('a failed activation rolls back and re-activates the old version', async () => {
    await m.apply({ value: 'good' }, as);
    const before = snapshot();
    await assert.rejects(m.apply({ value: 'ACTFAIL' }, as));
    assert.deepEqual(snapshot(), before);
    assert.deepEqual(log(), ['good', 'ACTFAIL', 'good']);
  });
});

describe('history, diff, restore, dry run', () => {
  it('lists versions with redacted diffs and restores an old one', async () => {
    secrets.set('DEMO_PASSWORD', 'first-secret');
    await m.apply({ value: 'v1' }, { user: 'ann', summary: 'first' });
    secrets.set('DEMO_PASSWORD', 'second-secret');
    await m.apply({ value: 'v2' }, { user: 'bob', summary: 'second' });
    const h = m.history();
    assert.deepEqual(
      h.map((v) => [v.version, v.user, v.summary]),
      [
        [2, 'bob', 'second'],
        [1, 'ann', 'first'],
      ],
    );
    const d = await m.diff(1, 2);
    const main = d.find((x) => x.path === files(tmp.dir).main)!;
    assert.match(main.diff, /-value = "v1"/);
    assert.match(main.diff, /\+value = "v2"/);
    assert.doesNotMatch(JSON.stringify(d), /first-secret|second-secret/);
    // secrets live in secrets.env only: LMDB never holds them (state, history, head)
    const stored = [...store.db('config').getRange({})].map((e) => readableValue(e.value));
    assert.doesNotMatch(JSON.stringify(stored), /first-secret|second-secret/);
    // against the files in place
    assert.deepEqual(await m.diff(2), []);
    const r = await m.restore(1, { user: 'cat', summary: '' });
    assert.equal(r.version, 3);
    // restore renders the old state with the secrets of today
    assert.equal(readFileSync(files(tmp.dir).main, 'utf8'), 'value = "v1"\npassword = "second-secret"\n');
    assert.deepEqual(m.state(), { value: 'v1' });
    assert.equal(m.history()[0]!.summary, 'restore version 1');
    await assert.rejects(m.diff(99), /does not exist/);
  });

  it('a dry run writes nothing and lists exactly the commands the apply runs', async () => {
    await m.apply({ value: 'one' }, as);
    const before = snapshot();
    secrets.set('DEMO_PASSWORD', 'dry-secret');
    const plan = await m.plan({ value: 'two' }, as);
    assert.deepEqual(snapshot(), before);
    assert.equal(plan.dryRun, true);
    assert.doesNotMatch(JSON.stringify(plan), /dry-secret/);
    assert.match(plan.files.map((f) => f.diff).join('\n'), /\+value = "two"/);
    const real = await m.apply({ value: 'two' }, as);
    assert.deepEqual(real.commands, plan.commands);
    assert.deepEqual(real.files, plan.files);
    assert.ok(plan.commands.length >= 2);
  });

  it('serialises concurrent applies', async () => {
    await Promise.all(['a', 'b', 'c', 'd'].map((v) => m.apply({ value: v }, as)));
    assert.deepEqual(
      m.history().map((v) => v.version),
      [4, 3, 2, 1],
    );
    assert.equal(m.state().value, readFileSync(files(tmp.dir).main, 'utf8').match(/"(.)"/)![1]);
  });
});

describe('a target that validates its new files staged beside the live ones', () => {
  const stagedMain = () => path.join(tmp.dir, 'etc', '.demo.conf.calypso-new');

  it('the check reads the staged file (the plan says so); a refused rendering never touches the live files', async () => {
    await store.close();
    await open({ staged: true });
    await m.apply({ value: 'good' }, as);
    const f = files(tmp.dir);
    const before = snapshot();
    const inode = statSync(f.main).ino;
    const plan = await m.plan({ value: 'BAD' }, as);
    assert.equal(plan.commands[0]?.at(-1), stagedMain(), 'the plan validates the staged file');
    await assert.rejects(m.apply({ value: 'BAD' }, as), /validate|exit code|failed/i);
    assert.deepEqual(snapshot(), before);
    assert.equal(statSync(f.main).ino, inode, 'the live file was never replaced, not even for a moment');
    assert.ok(!existsSync(stagedMain()), 'the refused file is gone');
    assert.ok(!existsSync(path.join(tmp.dir, 'journal', 'demo')));
    assert.deepEqual(log(), ['good'], 'nothing activated');
    // a good one: the same commands as its plan, the live file replaced, nothing left staged
    const dry = await m.plan({ value: 'next' }, as);
    const r = await m.apply({ value: 'next' }, as);
    assert.deepEqual(r.commands, dry.commands);
    assert.equal(readFileSync(f.main, 'utf8'), 'value = "next"\n');
    assert.notEqual(statSync(f.main).ino, inode);
    assert.ok(!existsSync(stagedMain()));
    assert.equal(r.version, 2);
    assert.deepEqual(log(), ['good', 'next']);
  });

  it('killed while the staged files are checked: the live ones never changed, the staged one is cleared at the next start', async () => {
    await store.close();
    await open({ staged: true });
    await m.apply({ value: 'kept' }, as);
    const before = snapshot();
    await store.close();
    const rel = 'test/config-set/apply-child';
    const argv = fromSources
      ? ['--import', 'tsx', path.join(repoRoot(), `${rel}.ts`)]
      : [path.join(repoRoot(), 'dist', `${rel}.js`)];
    const c = spawn(process.execPath, [...argv, tmp.dir, 'validate', 'lost', 'staged'], { stdio: 'ignore' });
    await waitUntil(() => existsSync(path.join(tmp.dir, 'paused-validate')), {
      timeoutMs: 30_000,
      what: 'the child to pause in validate',
    });
    assert.match(readFileSync(stagedMain(), 'utf8'), /lost/);
    assert.match(readFileSync(files(tmp.dir).main, 'utf8'), /kept/, 'the live file is the old one');
    c.kill('SIGKILL');
    await new Promise((r) => c.once('exit', r));
    await open({ staged: true });
    await set.recoverAll();
    assert.deepEqual(snapshot(), before);
    assert.ok(!existsSync(stagedMain()), 'the staged file is cleared');
    assert.ok(!existsSync(path.join(tmp.dir, 'journal', 'demo')));
    assert.deepEqual(log(), ['kept']);
    await m.apply({ value: 'after' }, as);
    assert.equal(m.state().value, 'after');
  });
});

/** The last apply's journal dropped (after its answer): a test may then lay out one of its own. */
const settled = (j: string) =>
  waitUntil(() => !existsSync(j), { timeoutMs: 5_000, what: 'the last journal to be dropped' });

describe('kill -9 during an apply, then recovery at the next start', () => {
  const child = (step: 'validate' | 'activate', value: string) => {
    const rel = 'test/config-set/apply-child';
    const argv = fromSources
      ? ['--import', 'tsx', path.join(repoRoot(), `${rel}.ts`)]
      : [path.join(repoRoot(), 'dist', `${rel}.js`)];
    return spawn(process.execPath, [...argv, tmp.dir, step, value], { stdio: 'ignore' });
  };

  for (const step of ['validate', 'activate'] as const) {
    it(`killed while the new files ${step === 'validate' ? 'are validated' : 'are activated'}: the previous version comes back`, async () => {
      await m.apply({ value: 'kept' }, as);
      const before = snapshot();
      await store.close();
      const c = child(step, 'lost');
      await waitUntil(() => existsSync(path.join(tmp.dir, `paused-${step}`)), {
        timeoutMs: 30_000,
        what: `the child to pause in ${step}`,
      });
      // the new files are in place, LMDB still has the old state
      assert.match(readFileSync(files(tmp.dir).main, 'utf8'), /lost/);
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
      await open();
      const report = await set.recoverAll();
      assert.deepEqual(
        report.map((r) => [r.target, r.action]),
        [['demo', 'restored']],
      );
      assert.deepEqual(snapshot(), before);
      assert.ok(!existsSync(path.join(tmp.dir, 'journal', 'demo')));
      // killed during activation: the old version is activated again
      if (step === 'activate') assert.deepEqual(log(), ['kept', 'kept']);
      else assert.deepEqual(log(), ['kept']);
      // and the pipeline works on
      await m.apply({ value: 'after' }, as);
      assert.equal(m.state().value, 'after');
    });
  }

  it('killed after LMDB committed, before the journal went: the apply is completed', async () => {
    await m.apply({ value: 'old' }, as);
    await m.apply({ value: 'new' }, as);
    // reconstruct the moment between the LMDB commit (version 2) and the journal's removal
    const j = path.join(tmp.dir, 'journal', 'demo');
    await settled(j);
    await mkdir(j, { recursive: true });
    writeFileSync(path.join(j, 'prev-0'), 'value = "old"\n');
    writeFileSync(
      path.join(j, 'journal.json'),
      JSON.stringify({
        target: 'demo',
        nextVersion: 2,
        step: 'activating',
        files: [{ path: files(tmp.dir).main, existed: true, backup: 'prev-0' }],
        time: new Date().toISOString(),
      }),
    );
    const before = snapshot();
    await store.close();
    await open();
    const report = await set.recoverAll();
    assert.deepEqual(
      report.map((r) => r.action),
      ['completed'],
    );
    assert.deepEqual(snapshot(), before);
    assert.equal(readFileSync(files(tmp.dir).main, 'utf8'), 'value = "new"\n');
    assert.ok(!existsSync(j));
  });

  it('killed while writing the journal (journal.json cut short): nothing was touched, nothing is undone', async () => {
    await m.apply({ value: 'old' }, as);
    const before = snapshot();
    // journal.json is written in place (not renamed): cut short, it does not parse
    const j = path.join(tmp.dir, 'journal', 'demo');
    await settled(j);
    await mkdir(j, { recursive: true });
    writeFileSync(path.join(j, 'prev-0'), readFileSync(files(tmp.dir).main));
    const whole = JSON.stringify({ target: 'demo', nextVersion: 2, step: 'writing', files: [], time: '' });
    writeFileSync(path.join(j, 'journal.json'), whole.slice(0, whole.length - 7));
    await store.close();
    await open();
    assert.deepEqual(await set.recoverAll(), []);
    assert.deepEqual(snapshot(), before);
    assert.deepEqual(log(), ['old'], 'nothing activated');
    assert.ok(!existsSync(j), 'the journal is dropped');
  });

  it('killed while writing the new files: the files already written are put back', async () => {
    await m.apply({ value: 'old' }, as);
    const before = snapshot();
    const f = files(tmp.dir);
    // the journal is complete and one file of two has been replaced when the process dies
    const j = path.join(tmp.dir, 'journal', 'demo');
    await settled(j);
    await mkdir(j, { recursive: true });
    writeFileSync(path.join(j, 'prev-0'), readFileSync(f.main));
    writeFileSync(path.join(j, 'prev-1'), readFileSync(f.extra));
    writeFileSync(
      path.join(j, 'journal.json'),
      JSON.stringify({
        target: 'demo',
        nextVersion: 2,
        step: 'writing',
        files: [
          { path: f.main, existed: true, backup: 'prev-0' },
          { path: f.extra, existed: true, backup: 'prev-1' },
        ],
        time: new Date().toISOString(),
      }),
    );
    writeFileSync(f.main, 'value = "half"\n');
    await store.close();
    await open();
    assert.deepEqual(
      (await set.recoverAll()).map((r) => r.action),
      ['restored'],
    );
    assert.deepEqual(snapshot(), before);
    assert.deepEqual(log(), ['old'], 'not activated: the crash came before activation');
  });
});
