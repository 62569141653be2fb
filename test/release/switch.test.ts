/**
 * The release primitives under SIGKILL: a child switches `current`, commits and removes releases
 * in a loop and is killed at random moments. Every time, `current` must point at a complete
 * release and every directory with a release name must be complete; the leftovers (staging,
 * trash, temp links) are dot-named and cleanLeftovers removes them. Also: pruning and the state
 * backup/restore round trip on a real LMDB environment.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createLayout, type Layout } from '../../agent/layout.js';
import { verifyTree } from '../../agent/release/manifest.js';
import {
  cleanLeftovers,
  commitStaged,
  currentVersion,
  listReleases,
  pruneReleases,
  readManifest,
  stageDirectory,
  switchCurrent,
} from '../../agent/release/releases.js';
import { backupState, listBackups, pruneBackups, restoreState } from '../../agent/release/state-backup.js';
import { openStore } from '../../agent/store.js';
import { entry, tempDir } from '../helpers/paths.js';
import { makeTinyRelease } from './helpers.js';

const tmp = tempDir('calypso-switch-');
after(() => tmp.cleanup());

async function place(layout: Layout, version: string, now?: number): Promise<void> {
  const src = path.join(tmp.dir, `src-${version}-${Math.random().toString(36).slice(2)}`);
  await makeTinyRelease(src, version);
  const s = await stageDirectory(layout, src, {});
  await commitStaged(layout, s.staging, s.manifest, now);
  rmSync(src, { recursive: true, force: true });
}

async function assertConsistent(layout: Layout): Promise<string> {
  const cur = currentVersion(layout);
  assert.ok(cur, `current resolves (${readlinkSync(layout.current)})`);
  for (const r of await listReleases(layout)) {
    assert.ok(r.manifest, `${r.version} has a manifest`);
    assert.deepEqual(await verifyTree(r.path, r.manifest), [], `${r.version} is complete`);
  }
  assert.ok(existsSync(path.join(layout.releases, cur, 'manifest.json')));
  return cur;
}

describe('release primitives under SIGKILL', () => {
  it('always leave current on a complete release', async () => {
    const layout = createLayout(path.join(tmp.dir, 'kill'));
    await place(layout, '1.0.0');
    await place(layout, '1.1.0');
    await switchCurrent(layout, '1.0.0');
    const source = path.join(tmp.dir, 'source-1.2.0');
    await makeTinyRelease(source, '1.2.0');
    const seen = new Set<string>();
    for (let round = 0; round < 15; round++) {
      const child = spawn(process.execPath, [...entry('test/release/switch-child'), layout.prefix, source], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      // Killed after a random number of switches (then a random few ms): counted in the child's
      // progress, not in time, since how long each step takes varies with the Node.js version
      // (on Node 24 a switch is ~15 times faster and staging slower than on Node 20, so fixed
      // delays of 20-170 ms all fell in the first staging, while 1.1.0 was current).
      const switches = 1 + Math.floor(Math.random() * 12);
      await new Promise<void>((resolve) => {
        let lines = 0;
        child.stdout.on('data', (b: Buffer) => {
          lines += b.toString().split('\n').length - 1;
          if (lines > switches) resolve(); // the first line is 'ready'
        });
        child.once('exit', () => resolve());
      });
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 20)));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      seen.add(await assertConsistent(layout));
      await cleanLeftovers(layout);
      const names = readdirSync(layout.releases);
      assert.ok(
        names.every((n) => !n.startsWith('.')),
        `cleaned: ${names}`,
      );
      assert.ok(
        readdirSync(path.dirname(layout.current)).every((n) => !n.startsWith('current.')),
        'no temp link left',
      );
    }
    // Killed at random moments of a loop that alternates them, both releases were found current.
    assert.deepEqual([...seen].sort(), ['1.0.0', '1.1.0']);
  });

  it('prunes the oldest releases but never current or a protected one', async () => {
    const layout = createLayout(path.join(tmp.dir, 'prune'));
    for (const [i, v] of ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0'].entries())
      await place(layout, v, 1000 + i);
    await switchCurrent(layout, '1.1.0');
    const removed = await pruneReleases(layout, 3, ['1.0.0']);
    assert.deepEqual(removed.sort(), ['1.2.0', '1.3.0']);
    assert.deepEqual(readdirSync(layout.releases).sort(), ['1.0.0', '1.1.0', '1.4.0']);
    assert.equal(currentVersion(layout), '1.1.0');
    assert.equal(readManifest(path.join(layout.releases, '1.4.0'))?.version, '1.4.0');
  });
});

describe('state backup', () => {
  it('restores exactly the LMDB state it copied', async () => {
    const layout = createLayout(path.join(tmp.dir, 'state'));
    let store = await openStore({ path: layout.lmdbDir });
    await store.db('settings').put('k', { v: 'before' });
    await store.close();
    const dir = backupState(layout, 'u1', { version: '1.0.0', schema: 1 });
    assert.deepEqual(readdirSync(dir).sort(), ['backup.json', 'data.mdb']);
    assert.equal(backupState(layout, 'u1', { version: '1.0.0', schema: 1 }), dir, 'idempotent');
    store = await openStore({ path: layout.lmdbDir });
    await store.db('settings').put('k', { v: 'after' });
    await store.db('settings').put('new', { v: 1 });
    await store.close();
    restoreState(layout, dir);
    restoreState(layout, dir); // a resumed rollback restores again: same result
    store = await openStore({ path: layout.lmdbDir });
    assert.deepEqual(store.db('settings').get('k'), { v: 'before' });
    assert.equal(store.db('settings').get('new'), undefined);
    await store.close();
    backupState(layout, 'u2', { version: '1.1.0', schema: 1 }, Date.now() + 1);
    assert.deepEqual(
      listBackups(layout).map((b) => b.id),
      ['u1', 'u2'],
    );
    assert.deepEqual(pruneBackups(layout, 1), ['u1']);
    assert.throws(() => restoreState(layout, path.join(tmp.dir, 'nope')), /incomplete/);
  });
});
