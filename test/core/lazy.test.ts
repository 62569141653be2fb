/**
 * agent/util/lazy.ts: a module loaded on first use is found in either shape Node and the bundle
 * give it, and one that cannot be loaded is `unavailable` with the reason (never an internal
 * error), and is tried again on the next call.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { exportsOf, lazyModule } from '../../agent/util/lazy.js';
import { RpcError } from '../../rpc/errors.js';
import { tempDir } from '../helpers/paths.js';

const tmp = tempDir('calypso-lazy-');
after(() => tmp.cleanup());

const file = (name: string, text: string) => {
  const f = path.join(tmp.dir, name);
  writeFileSync(f, text);
  return pathToFileURL(f).href;
};

test('the export is found on the namespace or on its default (the bundle chunk of a CommonJS package)', async () => {
  // what esbuild writes for a CommonJS package split into a chunk: `export default require_x()`
  const chunk = file('chunk.mjs', 'export default { S3Client: class S3Client {}, tag: "default" };\n');
  const named = file('named.mjs', 'export class S3Client {}\nexport const tag = "named";\n');
  const onlyDefault = lazyModule<{ S3Client: new () => object; tag: string }>(
    'x',
    () => import(chunk),
    'S3Client',
  );
  const m = await onlyDefault();
  assert.equal(typeof m.S3Client, 'function');
  assert.equal(m.tag, 'default');
  assert.equal(onlyDefault.ifLoaded(), m);
  const both = lazyModule<{ S3Client: unknown; tag: string }>('y', () => import(named), 'S3Client');
  assert.equal((await both()).tag, 'named');
  assert.equal(exportsOf({ default: { a: 1 } }, 'b'), undefined);
});

test('a module that cannot be loaded is unavailable with the reason, and is tried again', async () => {
  const target = path.join(tmp.dir, 'later.mjs');
  let attempts = 0;
  const lazy = lazyModule<{ hello: () => string }>(
    'the test library',
    () => {
      attempts++;
      return import(pathToFileURL(target).href);
    },
    'hello',
  );
  const err = await lazy().then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof RpcError, `an RpcError, not ${String(err)}`);
  assert.equal(err.kind, 'unavailable');
  assert.match(err.message, /^the test library could not be loaded: Cannot find module .*later\.mjs/);
  assert.match(err.message, /install the release again/);
  assert.equal(lazy.ifLoaded(), undefined);
  // a module without the export the callers need is as unusable as a missing one
  const wrong = lazyModule<{ hello: unknown }>(
    'the wrong library',
    () => import(file('w.mjs', 'export const x = 1;\n')),
    'hello',
  );
  await assert.rejects(
    wrong(),
    (e: RpcError) => e.kind === 'unavailable' && /has no export hello/.test(e.message),
  );
  // repaired: the next call loads it (a failure is not cached)
  writeFileSync(target, 'export const hello = () => "hi";\n');
  assert.equal((await lazy()).hello(), 'hi');
  assert.equal(attempts, 2);
});

test('concurrent first calls share one load', async () => {
  let loads = 0;
  const lazy = lazyModule<{ v: number }>(
    'z',
    async () => {
      loads++;
      return { default: { v: 7 } };
    },
    'v',
  );
  const all = await Promise.all([lazy(), lazy(), lazy()]);
  assert.deepEqual(
    all.map((m) => m.v),
    [7, 7, 7],
  );
  assert.equal(loads, 1);
});
