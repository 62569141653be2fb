/**
 * The e2e harness's guarantees: `runAll` runs every step even when some throw, then throws them;
 * a `cockpitSession` whose start fails stops what it had started (the agent process, the build
 * directory); a session's stop() runs the deferred steps and every stop even when one throws.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers/paths.js';
import { cockpitSession, runAll } from './harness.js';

/** pids of the processes whose command line mentions `text` */
function processesWith(text: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x)))
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text)) pids.push(Number(p));
    } catch {
      /* gone */
    }
  return pids;
}

describe('cockpit e2e harness', { timeout: 120_000 }, () => {
  it('runAll runs every step, in order, and throws what failed', async () => {
    const ran: number[] = [];
    await assert.rejects(
      runAll([
        () => ran.push(1),
        () => {
          throw new Error('two');
        },
        async () => ran.push(3),
        () => Promise.reject(new Error('four')),
        () => ran.push(5),
      ]),
      (e: AggregateError) => e.errors.map((x: Error) => x.message).join() === 'two,four',
    );
    assert.deepEqual(ran, [1, 3, 5]);
    await assert.rejects(
      runAll([
        () => {
          throw new Error('only');
        },
      ]),
      /only/,
    );
    await runAll([]);
  });

  it('a start that fails stops the agent it started and removes the build directory', async () => {
    let dir = '';
    await assert.rejects(
      cockpitSession({
        agent: {},
        beforeBuild: (d) => {
          dir = d;
          throw new Error('build refused');
        },
      }),
      /build refused/,
    );
    assert.ok(dir && !existsSync(dir), 'the build directory is gone');
    // the agent it started (under a prefix of this test's) is no longer running
    const { dir: prefix, cleanup } = tempDir('calypso-harness-');
    try {
      await assert.rejects(
        cockpitSession({
          agent: { prefix },
          beforeBuild: () => {
            throw new Error('again');
          },
        }),
        /again/,
      );
      assert.deepEqual(processesWith(prefix), [], 'no agent left running');
    } finally {
      cleanup();
    }
  });

  it('stop() runs the deferred steps and every stop even when one throws', async () => {
    const s = await cockpitSession({ agent: {} });
    const ran: string[] = [];
    const agentPrefix = s.agent!.prefix;
    s.defer(() => ran.push('first deferred'));
    s.defer(() => {
      throw new Error('a deferred step failed');
    });
    s.defer(() => ran.push('last deferred'));
    await s.open('overview');
    await assert.rejects(s.stop(), /a deferred step failed/);
    assert.deepEqual(ran, ['last deferred', 'first deferred'], 'deferred: last first, all of them');
    assert.ok(!existsSync(s.buildDir), 'the build directory is gone');
    assert.ok(!existsSync(agentPrefix), 'the agent stopped and its prefix is gone');
    assert.equal(s.browser.isConnected(), false, 'chromium is closed');
    await s.stop(); // a second stop does nothing
  });
});
