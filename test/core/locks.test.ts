/** Named locks keyed by stable identities (agent/locks.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Locks, lockKey } from '../../agent/locks.js';
import { sleep } from '../../agent/util/time.js';

test('lock keys come from stable identities, never kernel names', () => {
  assert.equal(lockKey('changer', 'scsi-SSTK_L180_XYZZY_A'), 'changer:scsi-SSTK_L180_XYZZY_A');
  for (const bad of ['/dev/sg3', 'sg3', '/dev/nst0', 'nst0', ''])
    assert.throws(() => lockKey('changer', bad));
});

test('work under one key runs one at a time, in order; other keys run alongside', async () => {
  const locks = new Locks();
  const events: string[] = [];
  const job = (key: string, name: string, ms: number) =>
    locks.run(key, name, async () => {
      events.push(`start ${name}`);
      assert.equal(locks.holder(key), name);
      await sleep(ms);
      events.push(`end ${name}`);
      return name;
    });
  const results = await Promise.all([
    job('changer:A', 'move-1', 30),
    job('changer:A', 'label', 10),
    job('changer:B', 'other', 5),
    job('changer:A', 'move-2', 1),
  ]);
  assert.deepEqual(results, ['move-1', 'label', 'other', 'move-2']);
  const onA = events.filter((e) => !e.includes('other'));
  assert.deepEqual(onA, [
    'start move-1',
    'end move-1',
    'start label',
    'end label',
    'start move-2',
    'end move-2',
  ]);
  // B did not wait for A
  assert.ok(events.indexOf('end other') < events.indexOf('end move-1'));
  assert.equal(locks.holder('changer:A'), undefined);
});

test('a waiter that runs out of time gets busy and does not hold up the next', async () => {
  const locks = new Locks();
  const long = locks.run('changer:A', 'inventory', () => sleep(80));
  await assert.rejects(
    locks.run('changer:A', 'move', async () => 'never', 20),
    (e: Error & { kind?: string }) => /inventory/.test(e.message),
  );
  const next = await locks.run('changer:A', 'move-after', async () => 'ran');
  assert.equal(next, 'ran');
  await long;
});

test('a failing holder releases the lock', async () => {
  const locks = new Locks();
  await assert.rejects(locks.run('k', 'boom', async () => Promise.reject(new Error('boom'))));
  assert.equal(await locks.run('k', 'after', async () => 1), 1);
});
