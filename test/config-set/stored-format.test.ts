/**
 * The pipeline's LMDB values across the change of their format (agent/config-set/versions.ts):
 * versions recorded before it (the state as a plain object, under `state` and in each version
 * record) read after an upgrade — state, history, diff, versionState and restore — and a new
 * commit stores the state packed once, the same bytes under `state` and in its version record.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, it } from 'node:test';
import pino from 'pino';
import { ConfigSet, type ManagedConfig } from '../../agent/config-set/index.js';
import { readableValue } from '../../agent/config-set/versions.js';
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

/** What an agent before the packed format left: two versions, the state as plain objects. */
async function oldFormat(): Promise<void> {
  const f = files(tmp.dir);
  const db = store.db('config');
  const version = (n: number, value: string) => ({
    version: n,
    time: `2026-12-0${n}T00:00:00.000Z`,
    user: 'old-agent',
    summary: `old ${n}`,
    changed: [f.main, f.extra],
    state: { value },
    files: { [f.main]: text(value).main, [f.extra]: text(value).extra },
  });
  await db.transaction(() => {
    db.put(key('state'), { value: 'two' });
    db.put(key('head'), { version: 2, paths: [f.main, f.extra] });
    db.put(key('v', '00000001'), version(1, 'one'));
    db.put(key('v', '00000002'), version(2, 'two'));
  });
  mkdirSync(path.dirname(f.extra), { recursive: true });
  writeFileSync(f.main, text('two').main);
  writeFileSync(f.extra, text('two').extra);
}

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

it('a commit stores the state packed once: the same bytes under state and in its version', async () => {
  await m.apply({ value: 'packed' }, { user: 'tester', summary: 'new' });
  const db = store.db('config');
  const state = db.get(key('state')) as Uint8Array;
  const rec = db.get(key('v', '00000001')) as { state: Uint8Array; files: Record<string, string> };
  assert.ok(state instanceof Uint8Array, 'the state is stored packed');
  assert.ok(rec.state instanceof Uint8Array, 'the version holds it packed');
  assert.ok(Buffer.from(state).equals(Buffer.from(rec.state)), 'the same bytes in both');
  assert.deepEqual(readableValue(state), { value: 'packed' });
  assert.deepEqual(readableValue(rec), { ...rec, state: { value: 'packed' } });
  // the files stay text (redacted) in the record, readable by any tool reading the database
  assert.equal(rec.files[files(tmp.dir).main], text('packed').main);
  assert.deepEqual(m.versionState(1), { value: 'packed' });
});
