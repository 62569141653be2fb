/**
 * Dialect detection: `zfs version` answering means OpenZFS, an unknown command means zfs-fuse, and a
 * `zfs version` that timed out says nothing — detection fails (and is retried) instead of settling for zfs-fuse,
 * which the kernel lab saw the agent do on OpenZFS when its start took over 10 s under TCG.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Runner, RunResult } from '../../agent/runner.js';
import { detectDialect } from '../../agent/zfs/dialect.js';
import { ZfsDriver } from '../../agent/zfs/driver.js';
import { RpcError } from '../../rpc/errors.js';

function runner(answer: () => Promise<Partial<RunResult>>): Runner {
  return {
    run: async (argv) => ({
      argv: [...argv],
      code: 0,
      stdout: '',
      stderr: '',
      durationMs: 1,
      truncated: false,
      ...(await answer()),
    }),
    spawn: () => {
      throw new Error('not used');
    },
    which: () => '/usr/sbin/zfs',
  };
}

test('zfs version answering: OpenZFS with its version', async () => {
  const d = await detectDialect(
    runner(async () => ({ stdout: 'zfs-2.1.11-1+deb12u1\nzfs-kmod-2.1.11-1+deb12u1\n' })),
  );
  assert.equal(d.name, 'openzfs');
});

test('zfs version unknown (zfs-fuse): the legacy dialect', async () => {
  const d = await detectDialect(
    runner(async () => ({ code: 2, stderr: "unrecognized command 'version'\n" })),
  );
  assert.equal(d.name, 'zfs-fuse');
});

test('zfs version timed out: detection fails rather than guess zfs-fuse', async () => {
  await assert.rejects(
    detectDialect(
      runner(async () => {
        throw new RpcError('timeout', 'zfs: timed out after 60000 ms');
      }),
    ),
    (e: RpcError) => e.kind === 'timeout',
  );
});

test('a version the capability probe read (zpool version on OpenZFS) settles the dialect without zfs version', async () => {
  const ran: string[][] = [];
  const counting = (stdout: string): Runner => ({
    ...runner(async () => ({ stdout })),
    run: async (argv) => {
      ran.push([...argv]);
      return { argv: [...argv], code: 0, stdout, stderr: '', durationMs: 1, truncated: false };
    },
  });
  const known = new ZfsDriver({ runner: counting('zfs-2.1.11-1\n') });
  known.knownVersion('2.1.11-1+deb12u1');
  const d = await known.dialect();
  assert.equal(d.name, 'openzfs');
  assert.equal(d.version, '2.1.11');
  assert.deepEqual(ran, [], 'no zfs version was run');
  // zfs-fuse's zpool prints no version: the driver asks `zfs version` as before
  const unknown = new ZfsDriver({ runner: counting('zfs-2.2.4-1\n') });
  unknown.knownVersion(undefined);
  assert.equal((await unknown.dialect()).version, '2.2.4');
  assert.deepEqual(ran, [['zfs', 'version']]);
});
