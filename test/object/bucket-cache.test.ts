/** The sampled bucket listing: fresh, stale while one refresh runs, dropped by a change. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BucketCache } from '../../agent/object/bucket-cache.js';
import type { Bucket } from '../../agent/object/model.js';

const bucket = (name: string, bytes: number): Bucket => ({
  name,
  owner: 'o',
  usage: { bytes, objects: 1 },
  quota: { enabled: false },
});

test('fresh, then stale-while-revalidate, then a change drops it', async () => {
  let now = 0;
  let loads = 0;
  let bytes = 1;
  let release: (() => void) | undefined;
  const cache = new BucketCache(
    async () => {
      loads++;
      if (release === undefined) await new Promise<void>((r) => (release = r));
      return [bucket('a', bytes)];
    },
    { freshMs: 1000, staleMs: 10_000, now: () => now },
  );
  const first = cache.list();
  release!();
  assert.equal((await first).buckets[0]!.usage.bytes, 1);
  assert.equal(loads, 1);
  now = 500;
  await cache.list();
  assert.equal(loads, 1, 'fresh: no reload');
  now = 2000;
  bytes = 2;
  const stale = await cache.list();
  assert.equal(stale.buckets[0]!.usage.bytes, 1, 'stale sample served at once');
  assert.equal(stale.at, 0);
  await new Promise((r) => setImmediate(r));
  assert.equal(loads, 2, 'one refresh in the background');
  assert.equal((await cache.list()).buckets[0]!.usage.bytes, 2);
  cache.invalidate();
  bytes = 3;
  assert.equal((await cache.list()).buckets[0]!.usage.bytes, 3, 'after a change: read again');
  now = 20_000;
  bytes = 4;
  assert.equal((await cache.list()).buckets[0]!.usage.bytes, 4, 'too old: waits for the refresh');
});

test('a refresh begun before a change does not store its result', async () => {
  let n = 0;
  let release: (() => void) | undefined;
  const cache = new BucketCache(async () => {
    const mine = ++n;
    if (mine === 1) await new Promise<void>((r) => (release = r));
    return [bucket(`v${mine}`, mine)];
  });
  const p = cache.list();
  await new Promise((r) => setImmediate(r));
  cache.invalidate();
  release!();
  await p;
  assert.equal((await cache.list()).buckets[0]!.name, 'v2');
});
