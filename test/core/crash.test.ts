/**
 * Faults: kill -9 the agent while a job runs. After restart the job is `interrupted`, LMDB
 * opens cleanly, and nothing else (tokens, audit chain, finished jobs) is lost.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startAgentProcess } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';

test('kill -9 during a job: the job is interrupted after restart and nothing else is lost', async () => {
  const tmp = tempDir('calypso-crash-');
  let agent = await startAgentProcess({ prefix: tmp.dir });
  try {
    const c = await agent.client();
    const done = await c.call<{ job: string }>('system.selftest', { seconds: 0.05, steps: 2 });
    const token = await c.call<{ info: { id: string } }>('auth.token.create', {
      name: 'keep',
      role: 'operator',
    });
    // wait for the short job to finish so that a finished job exists before the crash
    for (let i = 0; i < 100; i++) {
      if ((await c.call<{ state: string }>('job.get', { id: done.job })).state === 'success') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const { job } = await c.call<{ job: string }>('system.selftest', { seconds: 60, steps: 600 });
    for (let i = 0; i < 100; i++) {
      const j = await c.call<{ progress: { percent: number } }>('job.get', { id: job });
      if (j.progress.percent > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    c.close();
    await agent.kill9();

    agent = await startAgentProcess({ prefix: tmp.dir });
    const c2 = await agent.client();
    const j = await c2.call<{ state: string; error: { data: { kind: string } } }>('job.get', { id: job });
    assert.equal(j.state, 'interrupted');
    assert.equal(j.error.data.kind, 'aborted');
    assert.equal((await c2.call<{ state: string }>('job.get', { id: done.job })).state, 'success');
    const tokens = (await c2.call<{ items: { id: string }[] }>('auth.token.list')).items;
    assert.ok(
      tokens.some((t) => t.id === token.info.id),
      'token survived',
    );
    const v = await c2.call<{ ok: boolean; checked: number }>('audit.verify');
    assert.equal(v.ok, true);
    assert.ok(v.checked >= 1);
    // the lock of the interrupted job is free again
    const again = await c2.call<{ job: string }>('system.selftest', { seconds: 0.01, steps: 1 });
    assert.ok(again.job);
    c2.close();
    assert.equal(await agent.stop(), 0, 'SIGTERM exits 0');
  } finally {
    await agent.kill9();
    tmp.cleanup();
  }
});
