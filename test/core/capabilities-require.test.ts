/**
 * `capabilities.require(name)` waits for that capability's own probe, not for every probe of every subsystem:
 * under the kernel lab's TCG the agent's start-up probes take seconds (`radosgw-admin --version` 7 s), and a
 * method's first call waited for all of them. A runner that answers each version command when told to makes
 * the order certain.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Capabilities } from '../../agent/capabilities.js';
import type { Runner, RunResult } from '../../agent/runner.js';

test('require() answers when its own probe is done, while another is still running', {
  timeout: 10_000,
}, async () => {
  const release = new Map<string, () => void>();
  const runner: Runner = {
    which: (name) => `/usr/bin/${name}`,
    spawn: () => {
      throw new Error('not used');
    },
    run: (argv) =>
      new Promise<RunResult>((resolve) => {
        const done = () =>
          resolve({
            argv: [...argv],
            code: 0,
            stdout: `${argv[0]} 1.2.3\n`,
            stderr: '',
            durationMs: 1,
            truncated: false,
          });
        release.set(String(argv[0]), done);
      }),
  };
  const caps = new Capabilities(runner);
  caps.declare({ name: 'fast', bins: ['fasttool'], versionArgs: ['--version'] });
  caps.declare({ name: 'slow', bins: ['slowtool'], versionArgs: ['--version'] });
  let allDone = false;
  const all = caps.all().then(() => {
    allDone = true;
  });
  const fast = caps.require('fast');
  await new Promise((r) => setImmediate(r));
  release.get('fasttool')!();
  const c = await fast;
  assert.equal(c.version, '1.2.3');
  assert.equal(allDone, false, 'the slow probe is still running');
  release.get('slowtool')!();
  await all;
  assert.equal((await caps.require('slow')).available, true);
  await assert.rejects(caps.require('none'), /unknown capability/);
  caps.stop();
});
