/**
 * The pipeline's LMDB values across the change of their format (agent/config-set/versions.ts):
 * versions recorded before it (the state as a plain object, under `state` and in each version
 * record; then the state packed in both places) read after an upgrade — state, history, diff,
 * versionState and restore. A new version stores its state once, packed under its own key, and
 * its record the files packed; a version staged and never committed is not read and the next
 * start removes it; the committed state is one frozen object.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, it } from 'node:test';
import pino from 'pino';
import { ConfigSet, type ManagedConfig } from '../../agent/config-set/index.js';
import { packState, readableValue } from '../../agent/config-set/versions.js';
import { createRunner } from '../../agent/runner.js';
import { openStore, type Store } from '../../agent/store.js';
import { tempDir } from '../helpers/paths.js';
import { type DemoState, demoTarget, files } from './demo-target.js';

let tmp: { dir: string; cleanup: () => void };
let store: Store;
let m: ManagedConfig<DemoState>;

const key = (...parts: string[]) => ['config-set', 'demo', ...parts].join('\u0000');
const text = (v: string) => ({ main: `value = "${v}"\n`, extra: `# extra for ${v}\n` });

beforeEach(async () => {
  tmp = tempDir('calypso-cs-format-');
  store = await openStore({ path: path.join(tmp.dir, 'lmdb') });
  const set = new ConfigSet({
    db: store.db('config'),
    journalDir: path.join(tmp.dir, 'journal'),
    runner: createRunner(),
    log: pino({ level: 'silent' }),
  });
  m = set.register(demoTarget({ dir: tmp.dir }));
});
afterEach(async () => {
  await store.close();
  tmp.cleanup();
});

/**
 * What an agent of an earlier format left: two versions, the state under `state` and inside each record in the
 * form `stored` gives it (the files as an object), and the files of version 2 in place.
 */
async function earlierFormat(agent: string, stored: (state: { value: string }) => unknown): Promise<void> {
  const f = files(tmp.dir);
  const db = store.db('config');
  const version = (n: number, value: string) => ({
    version: n,
    time: `2026-12-0${n}T00:00:00.000Z`,
    user: `${agent}-agent`,
    summary: `${agent} ${n}`,
    changed: [f.main, f.extra],
    state: stored({ value }),
    files: { [f.main]: text(value).main, [f.extra]: text(value).extra },
  });
  await db.transaction(() => {
    db.put(key('state'), stored({ value: 'two' }));
    db.put(key('head'), { version: 2, paths: [f.main, f.extra] });
    db.put(key('v', '00000001'), version(1, 'one'));
    db.put(key('v', '00000002'), version(2, 'two'));
  });
  mkdirSync(path.dirname(f.extra), { recursive: true });
  writeFileSync(f.main, text('two').main);
  writeFileSync(f.extra, text('two').extra);
}

/** Before the packed format: the state as plain objects. */
const oldFormat = () => earlierFormat('old', (s) => s);
/** The format before this one: the state packed, under `state` and in each record. */
const packedFormat = () => earlierFormat('packed', packState);

it('versions recorded before the packed format read after the upgrade', async () => {
  await oldFormat();
  assert.deepEqual(m.state(), { value: 'two' });
  assert.deepEqual(
    m.history().map((v) => [v.version, v.user, v.summary]),
    [
      [2, 'old-agent', 'old 2'],
      [1, 'old-agent', 'old 1'],
    ],
  );
  assert.deepEqual(m.versionState(1), { value: 'one' });
  const d = await m.diff(1, 2);
  assert.match(d.find((x) => x.path === files(tmp.dir).main)!.diff, /-value = "one"\n\+value = "two"/);
  assert.deepEqual(await m.diff(2), [], 'the files on disk are version 2');

  const r = await m.restore(1, { user: 'tester', summary: '' });
  assert.equal(r.version, 3);
  assert.equal(readFileSync(files(tmp.dir).main, 'utf8'), text('one').main);
  assert.deepEqual(m.state(), { value: 'one' });
  // the old records still read beside the new one
  assert.deepEqual(m.versionState(2), { value: 'two' });
  assert.deepEqual(
    m.history().map((v) => v.version),
    [3, 2, 1],
  );
  assert.deepEqual(await m.diff(1, 3), [], 'version 3 (new format) has the files of version 1 (old)');
});

it('versions recorded with the state packed inside each record read after the upgrade', async () => {
  await packedFormat();
  assert.deepEqual(m.state(), { value: 'two' });
  assert.deepEqual(m.versionState(1), { value: 'one' });
  assert.match((await m.diff(1, 2)).find((x) => x.path === files(tmp.dir).main)!.diff, /\+value = "two"/);
  const r = await m.restore(1, { user: 'tester', summary: '' });
  assert.equal(r.version, 3);
  assert.deepEqual(m.state(), { value: 'one' });
  assert.equal(store.db('config').get(key('state')), undefined, 'the old state key is gone');
  assert.deepEqual(m.versionState(2), { value: 'two' });
  assert.deepEqual(await m.diff(1, 3), []);
});

it('a version stores its state once under its own key, its record the files packed', async () => {
  await m.apply({ value: 'packed' }, { user: 'tester', summary: 'new' });
  const db = store.db('config');
  const state = db.get(key('s', '00000001')) as Uint8Array;
  const rec = db.get(key('v', '00000001')) as { state?: unknown; files: Uint8Array };
  assert.ok(state instanceof Uint8Array, 'the state is stored packed');
  assert.deepEqual(readableValue(state), { value: 'packed' });
  assert.equal(rec.state, undefined, 'not a second copy in the record');
  assert.ok(rec.files instanceof Uint8Array, 'the files are packed');
  assert.equal(
    (readableValue(rec) as { files: Record<string, string> }).files[files(tmp.dir).main],
    text('packed').main,
  );
  assert.equal(db.get(key('state')), undefined, 'no state key of the format before');
  assert.deepEqual(m.versionState(1), { value: 'packed' });
  assert.deepEqual(m.history()[0]?.summary, 'new');
});

it('a staged version the head does not name is not read, and the next start removes it', async () => {
  await m.apply({ value: 'one' }, { user: 'tester', summary: 'one' });
  // what an apply killed between its staging and its commit leaves (versions.ts)
  const db = store.db('config');
  await db.transaction(() => {
    db.put(key('s', '00000002'), packState({ value: 'never' }));
    db.put(key('v', '00000002'), {
      version: 2,
      time: '2026-12-07T00:00:00.000Z',
      user: 'killed',
      summary: 'never committed',
      changed: [],
      files: packState({}),
    });
  });
  assert.deepEqual(m.state(), { value: 'one' });
  assert.deepEqual(
    m.history().map((v) => v.version),
    [1],
  );
  assert.throws(() => m.versionState(2), /version 2 does not exist/);
  await assert.rejects(m.diff(2), /version 2 does not exist/);
  // the next start's recovery removes it; the next apply takes the number
  const set = new ConfigSet({
    db,
    journalDir: path.join(tmp.dir, 'journal'),
    runner: createRunner(),
    log: pino({ level: 'silent' }),
  });
  const again = set.register(demoTarget({ dir: tmp.dir }));
  await set.recoverAll();
  assert.equal(db.get(key('s', '00000002')), undefined);
  assert.equal(db.get(key('v', '00000002')), undefined);
  assert.equal((await again.apply({ value: 'two' }, { user: 'tester', summary: 'two' })).version, 2);
  assert.deepEqual(again.versionState(2), { value: 'two' });
});

it('the committed state is one frozen object: a reader that changes it throws', async () => {
  const next = { value: 'frozen' };
  await m.apply(next, { user: 'tester', summary: 'frozen' });
  const a = m.state();
  assert.equal(m.state(), a, 'the same object for every reader');
  assert.deepEqual(a, { value: 'frozen' });
  assert.throws(() => {
    (a as { value: string }).value = 'changed';
  }, TypeError);
  assert.deepEqual(m.state(), { value: 'frozen' });
});
