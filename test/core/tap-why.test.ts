// scripts/tap-why.mjs: the words of a failed file, said again at the end of a suite run (a CI log is read from its tail).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '../../..');
const { whyFailed } = (await import(pathToFileURL(path.join(root, 'scripts/tap-why.mjs')).href)) as {
  whyFailed: (tap: string) => string;
};
const dir = mkdtempSync(path.join(tmpdir(), 'calypso-tapwhy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** node's own TAP for a file holding `body` */
function tapOf(body: string): string {
  const f = path.join(dir, `t${Math.random().toString(36).slice(2)}.test.mjs`);
  writeFileSync(
    f,
    `import { test, describe } from 'node:test';\nimport assert from 'node:assert/strict';\n${body}\n`,
  );
  // without this run's NODE_TEST_CONTEXT: the child then prints TAP, not the runner's inner protocol
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', f], {
    encoding: 'utf8',
    env,
    timeout: 60_000,
  });
  return r.stdout;
}

test('a failed assertion inside a describe: its name and its message, once per level', () => {
  const tap = tapOf(
    `describe('buckets', () => { test('passes', () => {}); test('lists the bucket', () => { assert.equal('a-bucket', 'other', 'the bucket is listed'); }); });`,
  );
  const why = whyFailed(tap);
  assert.match(why, /not ok \d+ - lists the bucket/);
  assert.match(why, /the bucket is listed/);
  assert.doesNotMatch(why, /ok \d+ - passes/, 'a passing test is not said again');
});

test('a passing file says nothing; a long failure is cut with a pointer to the whole output', () => {
  assert.equal(whyFailed(tapOf(`test('fine', () => {});`)), '');
  const many = Array.from(
    { length: 60 },
    (_, i) => `test('t${i}', () => { throw new Error('${'x'.repeat(200)}'); });`,
  ).join('\n');
  const why = whyFailed(tapOf(many));
  assert.ok(why.length < 6200, `cut at 6,000 characters (${why.length})`);
  assert.match(why, /cut; the file's whole output is above/);
});
