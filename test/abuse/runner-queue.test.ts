/**
 * Issue #15 item 6: child-process storms. The runner runs at most `maxConcurrent` commands at
 * once (and at most a tool's own limit of that tool); the rest wait in a FIFO queue, can be
 * aborted while waiting, and long-lived spawned commands are not counted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRunner, MAX_WAITING_PER_CALLER } from '../../agent/runner.js';
import { systemInformation } from '../../agent/util/lazy-modules.js';
import { startTestAgent } from '../helpers/agent.js';

/** Each command prints its start and end time (ns): the largest overlap is the concurrency seen. */
function maxOverlap(spans: [number, number][]): number {
  const ev = spans.flatMap(([a, b]) => [
    [a, 1],
    [b, -1],
  ]) as [number, number][];
  ev.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let cur = 0;
  let max = 0;
  for (const [, d] of ev) {
    cur += d;
    max = Math.max(max, cur);
  }
  return max;
}

const timed = ['sh', '-c', 'date +%s%N; sleep 0.15; date +%s%N'];
const span = (stdout: string) => stdout.trim().split('\n').map(Number) as [number, number];

test('at most maxConcurrent run() commands at once; the others wait their turn', async () => {
  const runner = createRunner({ maxConcurrent: 3 });
  const results = await Promise.all(Array.from({ length: 12 }, () => runner.run(timed)));
  const overlap = maxOverlap(results.map((r) => span(r.stdout)));
  assert.ok(overlap <= 3, `${overlap} commands ran at once`);
  assert.ok(overlap >= 2, 'the slots are used in parallel');
  assert.deepEqual(runner.queueStats?.(), { running: 0, waiting: 0 });
});

test('a per-tool limit holds that tool back without blocking other tools', async () => {
  const runner = createRunner({ maxConcurrent: 8, perTool: { sh: 1 } });
  const sh = Promise.all(Array.from({ length: 4 }, () => runner.run(timed)));
  const other = await runner.run(['true']);
  assert.equal(other.code, 0);
  const overlap = maxOverlap((await sh).map((r) => span(r.stdout)));
  assert.equal(overlap, 1);
});

test('a waiting command can be aborted; spawned commands take no slot', async () => {
  const runner = createRunner({ maxConcurrent: 1 });
  const long = runner.spawn(['sleep', '30']);
  try {
    // the spawned sleep does not hold the only slot
    assert.equal((await runner.run(['true'])).code, 0);
    const first = runner.run(['sleep', '0.3']);
    const ac = new AbortController();
    const waiting = runner.run(['true'], { signal: ac.signal });
    assert.equal(runner.queueStats?.().waiting, 1);
    ac.abort();
    await assert.rejects(waiting, { kind: 'aborted' });
    assert.equal(runner.queueStats?.().waiting, 0);
    await first;
  } finally {
    long.child.kill('SIGKILL');
    await long.done.catch(() => {});
  }
});

test('a batch of system.info is one host collection, not one per call', async () => {
  const t = await startTestAgent({ services: [] });
  try {
    // the very module object the agent uses (agent/util/lazy-modules.ts picks the package's
    // exports from the namespace or its default, which tsc's output and the bundle differ on)
    const si = (await systemInformation()) as typeof import('systeminformation');
    let calls = 0;
    const osInfo = si.osInfo;
    si.osInfo = ((...a: Parameters<typeof osInfo>) => {
      calls++;
      return osInfo(...a);
    }) as typeof osInfo;
    try {
      await Promise.all(Array.from({ length: 50 }, () => t.call('system.info', {}, { role: 'auditor' })));
    } finally {
      si.osInfo = osInfo;
    }
    assert.equal(calls, 1);
  } finally {
    await t.stop();
  }
});

test('issue #28 item 4: admins first, round robin across callers, lanes bounded', async () => {
  const runner = createRunner({ maxConcurrent: 1 });
  const order: string[] = [];
  const auditor = { key: 'token flood', admin: false };
  const other = { key: 'uid 1000', admin: false };
  const admin = { key: 'uid 0', admin: true };
  const run = (who: { key: string; admin: boolean }, tag: string) =>
    runner.run(['true'], { caller: who }).then(() => order.push(tag));
  const blocker = runner.run(['sleep', '0.3'], { caller: auditor });
  const flood = Array.from({ length: 40 }, (_, i) => run(auditor, `a${i}`));
  const others = [run(other, 'o0'), run(other, 'o1')];
  const root = run(admin, 'admin');
  // the flood's lane is bounded: past MAX_WAITING_PER_CALLER its commands are refused busy
  const over = await Promise.allSettled(
    Array.from({ length: MAX_WAITING_PER_CALLER }, () => runner.run(['true'], { caller: auditor })),
  );
  const refused = over.filter((r) => r.status === 'rejected');
  assert.equal(refused.length, 40, 'the lane held MAX_WAITING_PER_CALLER commands');
  assert.match(
    String((refused[0] as PromiseRejectedResult).reason.message),
    /of this caller are already waiting/,
  );
  await Promise.all([blocker, ...flood, ...others, root]);
  assert.equal(order[0], 'admin', `admin's command ran first: ${order.slice(0, 6)}`);
  // round robin: the other caller's two commands are not behind the auditor's 40
  assert.ok(order.indexOf('o1') <= 4, `order: ${order.slice(0, 8)}`);
});

test('issue #28 item 4: a call’s commands are in its caller’s lane through ctx.signal', async () => {
  const { Ctx, newSession } = await import('../../rpc/session.js');
  const pino = (await import('pino')).default;
  const runner = createRunner({ maxConcurrent: 1 });
  const ctxOf = (role: 'admin' | 'auditor', uid: number) => {
    const identity = { user: `u${uid}`, uid, role, transport: 'unix' as const };
    return new Ctx(
      identity,
      newSession(identity, () => {}),
      pino({ level: 'silent' }),
      'x',
      false,
    );
  };
  const aud = ctxOf('auditor', 1000);
  const adm = ctxOf('admin', 0);
  const order: string[] = [];
  const blocker = runner.run(['sleep', '0.2'], { signal: aud.signal });
  const flood = Array.from({ length: 10 }, (_, i) =>
    runner.run(['true'], { signal: aud.signal }).then(() => order.push(`a${i}`)),
  );
  const root = runner.run(['true'], { signal: adm.signal }).then(() => order.push('admin'));
  await Promise.all([blocker, ...flood, root]);
  assert.equal(order[0], 'admin');
});
