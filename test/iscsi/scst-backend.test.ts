/**
 * The SCST backend on the managed-config pipeline, with the recorded sysfs tree as sysroot and
 * the suite's fake runner (SCST cannot run here): probe says why it is or is not available; an
 * apply writes scst.conf (mode 0600, secrets only in the file, redacted in the diff) and runs
 * exactly `scstadmin -check_config` then `scstadmin -noprompt -force -config`; a dry run lists
 * the same argv and writes nothing; a failing check leaves no file; live() and the sysfs plan
 * read the recorded tree.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { ConfigSet } from '../../agent/config-set/index.js';
import { createScstBackend } from '../../agent/iscsi/backend-scst.js';
import type { IscsiState } from '../../agent/iscsi/model.js';
import { renderScstConf } from '../../agent/iscsi/scst-conf.js';
import { openStore, type Store } from '../../agent/store.js';
import { type FakeRunner, fakeRunner } from '../helpers/fake-runner.js';
import { tempDir } from '../helpers/paths.js';
import { backingPath, desired, SYSROOT, secrets } from './scst-state.js';

let tmp: { dir: string; cleanup: () => void };
let store: Store;
let runner: FakeRunner;
let failCheck = false;

function setup(sysroot = SYSROOT, which?: (n: string) => string | undefined) {
  runner = fakeRunner(
    (argv) =>
      failCheck && argv[1] === '-check_config' ? { code: 1, stderr: 'Unknown attribute naa_id' } : '',
    which ? { which } : {},
  );
  const backend = createScstBackend({
    sysroot,
    runner,
    configDir: path.join(tmp.dir, 'etc', 'calypso', 'system', 'scst'),
    secrets,
    backingPath,
  });
  const set = new ConfigSet({
    db: store.db('config'),
    journalDir: path.join(tmp.dir, 'journal'),
    runner,
    log: pino({ level: 'silent' }),
  });
  return { backend, m: set.register(backend.configTarget()) };
}

const as = { user: 'tester', summary: 'test' };

beforeEach(async () => {
  tmp = tempDir('calypso-scst-');
  failCheck = false;
  store = await openStore({ path: path.join(tmp.dir, 'lmdb') });
});
afterEach(async () => {
  await store.close();
  tmp.cleanup();
});

describe('SCST backend', () => {
  it('probe: available with the tree and scstadmin; otherwise says which is missing', async () => {
    assert.deepEqual(await setup().backend.probe(), { available: true });
    const none = await setup(tmp.dir).backend.probe();
    assert.equal(none.available, false);
    assert.match(none.reason ?? '', /SCST is not loaded/);
    const noTool = await setup(SYSROOT, () => undefined).backend.probe();
    assert.deepEqual(noTool, { available: false, reason: 'scstadmin is not installed' });
  });

  it('apply: writes scst.conf and runs exactly scstadmin -check_config, then -config', async () => {
    const { backend, m } = setup();
    const r = await m.apply(desired(), as);
    const conf = backend.confPath;
    assert.equal(readFileSync(conf, 'utf8'), renderScstConf(desired(), { backingPath, secrets }));
    assert.equal(statSync(conf).mode & 0o777, 0o600);
    assert.deepEqual(runner.calls, [
      ['scstadmin', '-check_config', conf],
      ['scstadmin', '-noprompt', '-force', '-config', conf],
    ]);
    assert.deepEqual(r.commands, runner.calls);
    assert.deepEqual(r.changed, [conf]);
    const diff = r.files[0]?.diff ?? '';
    assert.match(diff, /\+\t\tIncomingUser "alice \*{8}"/);
    assert.ok(!diff.includes('secret-alice1'), 'no secret in the diff');
    assert.equal(r.version, 1);
    // the same state again: nothing to do
    runner.clear();
    const again = await m.apply(desired(), as);
    assert.deepEqual(again.commands, []);
    assert.deepEqual(runner.calls, []);
  });

  it('dry run: the same argv, no file, no command', async () => {
    const { backend, m } = setup();
    const plan = await m.plan(desired(), as);
    assert.deepEqual(plan.commands, [
      ['scstadmin', '-check_config', backend.confPath],
      ['scstadmin', '-noprompt', '-force', '-config', backend.confPath],
    ]);
    assert.deepEqual(runner.calls, []);
    assert.ok(!existsSync(backend.confPath));
  });

  it('a failing check leaves no file and no state', async () => {
    const { backend, m } = setup();
    failCheck = true;
    await assert.rejects(m.apply(desired(), as), /Unknown attribute naa_id/);
    assert.ok(!existsSync(backend.confPath));
    assert.deepEqual(m.state(), { targets: [] } satisfies IscsiState);
    assert.deepEqual(runner.calls, [['scstadmin', '-check_config', backend.confPath]]);
  });

  it('live() and the sysfs plan read the recorded tree', async () => {
    const { backend } = setup();
    const live = await backend.live();
    assert.equal(live.targets.length, 3);
    assert.equal(live.sessions.length, 2);
    const plan = await backend.sysfsPlan(desired());
    assert.ok(plan.some((w) => w.value === 'add t1l1 1 read_only=1'));
    assert.ok(!JSON.stringify(plan).includes('secret-alice1'));
    assert.ok(JSON.stringify(await backend.sysfsPlan(desired(), true)).includes('secret-alice1'));
    await assert.rejects(setup(tmp.dir).backend.live(), { kind: 'unavailable' });
  });
});
