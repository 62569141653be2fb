#!/usr/bin/env node
// npm test: everything CI checks, in order. Works on a fresh clone: installs npm dependencies
// when node_modules is missing and, as root, the Debian packages the real-component tests drive.
// Extra arguments select test files by substring: `npm test -- zfs roles`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const filters = process.argv.slice(2);

function step(name, cmd, args, opts = {}) {
  const t0 = Date.now();
  process.stdout.write(`\n== ${name}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    process.stdout.write(`== ${name} FAILED (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status || 1);
  }
  process.stdout.write(`== ${name}: ok (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
}

if (process.getuid?.() === 0 && !process.env.CALYPSO_SKIP_APT) {
  step('debian packages', 'bash', [path.join(root, 'scripts/install-test-deps.sh')]);
}
if (!existsSync(path.join(root, 'node_modules/.package-lock.json'))) step('npm ci', 'npm', ['ci']);
if (
  !existsSync(path.join(root, 'rpc/peercred/build/Release/peercred.node')) ||
  !existsSync(path.join(root, 'probes/native/build/Release/sysread.node'))
) {
  step('native addon', 'npm', ['run', 'install']);
}
step('type check + build (tsc, agent bundle)', 'node', ['scripts/build.mjs']);
step('lint + format (biome)', 'npx', ['biome', 'check', '.']);
if (existsSync(path.join(root, 'cockpit/build.mjs')))
  step('cockpit plugin build', 'node', ['cockpit/build.mjs']);

function find(dir) {
  const out = [];
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (e.endsWith('.test.js')) out.push(p);
  }
  return out;
}
let files = find(path.join(root, 'dist/test')).sort();
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
step(`tests (${files.length} files)`, process.execPath, ['--test', '--test-concurrency=1', ...files], {
  env: { ...process.env, CALYPSO_CHECK_RESULTS: '1' },
});
