/**
 * The repository depends on nothing outside it: no file a clone contains reads, links or cites the workspace's
 * shared directory beside the checkout or its design notes file. Tests read fixtures under test/fixtures (recorded
 * in the kernel lab or written here, docs/testing.md), the docs explain the design in docs/design.md, and CI links
 * nothing in. The file list is git's (tracked and new, ignored ones excluded), or a walk when there is no git.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/paths.js';

const root = repoRoot();
// spelt in pieces so that this file does not match itself
const FORBIDDEN: [string, RegExp][] = [
  ['the shared directory beside the checkout', new RegExp(['\\.\\.', 'shared'].join('/'))],
  ['the shared directory by its absolute path', new RegExp(['', 'work', 'shared'].join('/'))],
  ['the workspace design notes', new RegExp(`${'DESIGN'}\\.md`)],
];
const SKIP_DIRS = new Set(['.git', 'node_modules', 'dist', 'build', '.demo', 'artifacts', 'release-out']);

function files(): string[] {
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 << 20,
    });
    return out.split('\0').filter(Boolean);
  } catch {
    const out: string[] = [];
    const walk = (rel: string) => {
      for (const e of readdirSync(path.join(root, rel), { withFileTypes: true })) {
        const r = path.join(rel, e.name);
        if (e.isDirectory() && !SKIP_DIRS.has(e.name)) walk(r);
        else if (e.isFile()) out.push(r);
      }
    };
    walk('');
    return out;
  }
}

/** `file:line: what` for each forbidden reference in `text` */
export function offences(file: string, text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const [what, re] of FORBIDDEN) if (re.test(line)) out.push(`${file}:${i + 1}: ${what}`);
  });
  return out;
}

test('no file of the repository depends on the shared directory or the workspace design notes', () => {
  const found: string[] = [];
  let checked = 0;
  for (const f of files()) {
    const p = path.join(root, f);
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch {
      continue; // deleted in the work tree, or a dangling fixture link
    }
    if (!st.isFile() || st.size > 4 << 20) continue;
    checked++;
    found.push(...offences(f, readFileSync(p, 'latin1')));
  }
  assert.ok(checked > 500, `only ${checked} files checked: the file list is wrong`);
  assert.deepEqual(found, [], `references to outside the repository:\n${found.join('\n')}`);
});

test('the check finds each kind of reference (a line naming them is caught, a clean one is not)', () => {
  const bad = [
    `readFileSync(path.join(root, '..', 'shared'))`.replace(`'..', 'shared'`, ['..', 'shared'].join('/')),
    ['', 'work', 'shared', 'samples'].join('/'),
    `see ${'DESIGN'}.md`,
  ].join('\n');
  assert.equal(offences('x', bad).length, 3);
  assert.deepEqual(offences('x', 'docs/design.md and test/fixtures/mtx'), []);
});
