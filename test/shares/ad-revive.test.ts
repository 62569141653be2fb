/**
 * The bounds of the health check's winbindd restart (agent/shares/directory-ad-revive.ts) on a real
 * agent's job manager, alert engine and audit log, with a winbindd stand-in that dies at every start
 * (the restart of a real winbindd is test/shares/ad.test.ts): a restart that fails raises the critical
 * alert and is audited as an error; the next try waits (30 s, then 60 s); at most 3 restarts in an
 * hour, then only the alert; a join or leave holding the lock (`shares.directory.ad`) is never raced;
 * a winbindd running again clears the alert.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AD_LOCK,
  REVIVE_ACTION,
  WINBIND_ALERT,
  WinbindReviver,
} from '../../agent/shares/directory-ad-revive.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';

describe('the health check’s winbindd restart: bounded, under the join’s lock, audited', () => {
  let t: TestAgent;
  let now = Date.parse('2026-12-07T04:00:00Z');
  let alive = false;
  let starts = 0;
  const winbindd = {
    running: () => alive,
    start: async () => {
      starts++;
      throw new Error('winbindd exited: Could not open the log file');
    },
    stop: async () => {},
  };
  let reviver: WinbindReviver;

  before(async () => {
    t = await startTestAgent({ clock: { now: () => now } });
    reviver = new WinbindReviver({
      deps: t.deps,
      alerts: t.deps.alerts,
      winbindd,
      realm: () => 'CALYPSO.TEST',
    });
  });
  after(() => t?.stop());

  const alert = () =>
    t.deps.alerts.query({ source: 'shares' }, { limit: 10 }).alerts.find((a) => a.key === WINBIND_ALERT);

  it('leaves winbindd alone while a join or leave holds the lock', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const id = t.deps.jobs.start(
      { method: 'shares.directory.ad.join', user: 'root', lock: AD_LOCK },
      () => held,
    );
    const r = await reviver.check();
    assert.equal(r.state, 'busy');
    assert.equal(starts, 0, 'not started under a running join');
    release();
    await t.waitJob(id);
  });

  it('a failed restart: critical alert, audited as an error, then a backoff of 30 s, 60 s; at most 3 an hour', async () => {
    assert.deepEqual(await reviver.check(), {
      state: 'failed',
      detail: 'winbindd exited: Could not open the log file',
    });
    assert.equal(alert()?.level, 'critical');
    assert.match(alert()?.detail ?? '', /the next try is in 30 s \(restart 1 of at most 3 an hour\)/);
    assert.equal((await reviver.check()).state, 'waiting', 'not again at once');
    now += 30_000;
    assert.equal((await reviver.check()).state, 'failed');
    assert.match(alert()?.detail ?? '', /the next try is in 60 s \(restart 2 of at most 3 an hour\)/);
    now += 30_000;
    assert.equal((await reviver.check()).state, 'waiting', '60 s now');
    now += 30_000;
    assert.equal((await reviver.check()).state, 'failed');
    now += 120_000;
    assert.deepEqual(await reviver.check(), { state: 'limited', n: 3 });
    assert.equal(starts, 3);
    assert.match(alert()?.title ?? '', /not running and was not restarted/);
    const audit = await t.call<{ items: { user: string; outcome: string }[] }>('audit.query', {
      method: REVIVE_ACTION,
    });
    assert.deepEqual(
      audit.items.map((a) => [a.user, a.outcome]),
      [
        ['agent', 'error'],
        ['agent', 'error'],
        ['agent', 'error'],
      ],
    );
    // an hour after the first restart, one more is allowed
    now += 3_600_000;
    assert.equal((await reviver.check()).state, 'failed');
    assert.equal(starts, 4);
  });

  it('a winbindd that runs again clears the alert', async () => {
    alive = true;
    assert.deepEqual(await reviver.check(), { state: 'running' });
    assert.equal(alert()?.state, 'cleared');
  });
});
