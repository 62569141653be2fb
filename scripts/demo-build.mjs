// Whether the build in dist/ is older than its inputs (make-style), so that `npm run demo` builds
// only when something changed. Inputs: what tsconfig.json includes, the build scripts,
// package.json and tsconfig.json themselves. The output: dist/agent/main.js, written last.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** Newest modification time (ms) of the build's inputs under `root`. */
export function newestSource(root) {
  let newest = 0;
  const visit = (p) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (!st.isDirectory()) {
      if (/\.(ts|mts|json|mjs)$/.test(p)) newest = Math.max(newest, st.mtimeMs);
      return;
    }
    // real directories only: test fixtures hold recorded sysfs trees full of looping links
    for (const e of readdirSync(p, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name === 'build' || e.name === 'fixtures') continue;
      if (e.isDirectory() || e.isFile()) visit(path.join(p, e.name));
    }
  };
  const tsconfig = JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8'));
  for (const d of tsconfig.include ?? []) visit(path.join(root, d));
  for (const f of ['package.json', 'tsconfig.json', 'scripts/build.mjs', 'scripts/bundle.mjs'])
    visit(path.join(root, f));
  return newest;
}

/** True when dist/agent/main.js exists and is newer than every input. */
export function upToDate(root) {
  const built = statSync(path.join(root, 'dist/agent/main.js'), { throwIfNoEntry: false });
  return Boolean(built) && newestSource(root) <= built.mtimeMs;
}
