#!/usr/bin/env node
// Bundles the agent's entry point (after tsc has written dist/): dist/agent/main.js becomes one
// ES module holding the agent and its pure-JS dependencies, with lazily imported parts
// (the WebSocket transport with fastify, systeminformation) split into chunks beside it.
//
// Why: loading ~1,000 small module files (TypeBox, date-fns under pino-roll, yaml, ...) took
// 500-700 ms of the agent's start and several MB of resident module records.
//
// Packages with native code stay external and load from node_modules as before. Code that
// locates files from its own module (`import.meta.url`) keeps doing so: each bundled source
// file's `import.meta.url` is rewritten to the URL its tsc output has in dist/, so
// `new URL('./upgrader.js', import.meta.url)` and "am I the main module" checks are unchanged.
import { readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist/agent');

/** Packages loaded at run time from node_modules: native addons, and code that finds files beside itself. */
export const EXTERNAL = ['lmdb', 'node-pty', 'msgpackr-extract', 'pino', 'thread-stream'];

const OWN = /^(agent|rpc|probes|cli|udev)\//;

/**
 * `import.meta.url` of each bundled source file under `own` becomes the URL its tsc output has in dist/, relative to
 * the bundle's own URL (every output file lies directly in `out`), so the checkout can move.
 */
export function metaUrlPlugin(out, own = OWN) {
  return {
    name: 'calypso-import-meta-url',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        const rel = path.relative(root, args.path);
        let contents = await readFile(args.path, 'utf8');
        if (own.test(rel) && contents.includes('import.meta.url')) {
          const distFile = path.join(root, 'dist', rel.replace(/\.ts$/, '.js'));
          let fromBundle = path.relative(out, distFile).split(path.sep).join('/');
          if (!fromBundle.startsWith('.')) fromBundle = `./${fromBundle}`;
          contents = contents.replaceAll(
            'import.meta.url',
            `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`,
          );
        }
        return { contents, loader: 'ts' };
      });
    },
  };
}

/**
 * pino-roll takes five functions from `require('date-fns')`, which is the whole library (about
 * 250 modules evaluated at start, ~2.5 MB of idle heap: issue #22's RSS goal). Its require gets
 * a module of those five from their own files instead; nothing else imports date-fns.
 */
const DATE_FNS_USED = ['format', 'addDays', 'addHours', 'parse', 'isValid'];
export const dateFnsSlim = {
  name: 'calypso-date-fns-slim',
  setup(build) {
    build.onResolve({ filter: /^date-fns$/ }, (args) =>
      args.importer.includes(`${path.sep}pino-roll${path.sep}`)
        ? { path: 'date-fns (the parts pino-roll uses)', namespace: 'calypso-date-fns' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'calypso-date-fns' }, () => ({
      contents: DATE_FNS_USED.map((f) => `exports.${f} = require('date-fns/${f}').${f};`).join('\n'),
      resolveDir: root,
      loader: 'js',
    }));
  },
};

/** CommonJS dependencies inside an ES module bundle still call require() */
export const REQUIRE_BANNER =
  "import { createRequire as __calypsoCreateRequire } from 'node:module';\nconst require = __calypsoCreateRequire(import.meta.url);";

/** What the agent's release bundle and the lab's in-guest bundles share: ESM for Node with code splitting, native packages external */
const BASE = {
  absWorkingDir: root,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'bundle',
  external: EXTERNAL,
  chunkNames: 'chunk-[hash]',
  tsconfig: 'tsconfig.json',
  banner: { js: REQUIRE_BANNER },
  logLevel: 'warning',
};

/**
 * The kernel lab's in-guest node:test files (test/lab/guest.ts), each bundled with what it imports into `out` (a
 * directory of the checkout, which the guest sees at the same path), shared code in chunks beside them. Under QEMU's
 * TCG, Node's module loader going through ~1,100 files cost each in-guest `node` 20-40 s before its first test; a
 * bundle is a few files. Same plugins as the agent's bundle: `import.meta.url` keeps its dist/ value (test helpers
 * find the checkout from it), native packages load from node_modules. `entries` maps an output name (no extension)
 * to a source file (.ts, relative to the checkout); answers the output file of each name.
 */
export async function bundleGuestFiles(entries, out) {
  await esbuild.build({
    ...BASE,
    entryPoints: entries,
    outdir: out,
    plugins: [metaUrlPlugin(out, /^(agent|rpc|probes|cli|udev|sandbox|test|bench)\//), dateFnsSlim],
  });
  return Object.fromEntries(Object.keys(entries).map((k) => [k, path.join(out, `${k}.js`)]));
}

export async function bundleAgent() {
  // chunks of an earlier bundle (their names carry content hashes)
  for (const f of readdirSync(outdir)) if (f.startsWith('chunk-')) rmSync(path.join(outdir, f));
  const result = await esbuild.build({
    ...BASE,
    entryPoints: { main: 'agent/main.ts' },
    outdir,
    sourcemap: 'linked',
    legalComments: 'linked',
    // Whitespace only (names and syntax as written): V8 keeps a module's whole source text in
    // the heap for lazy compilation, 3.5 MB for this bundle as printed, about 1.3 MB less like
    // this (issue #22: the idle RSS goal). Stack traces keep their function names; their
    // positions map back to the sources through the linked source map
    // (node --enable-source-maps).
    minifyWhitespace: true,
    plugins: [metaUrlPlugin(outdir), dateFnsSlim],
    metafile: true,
  });
  return result.metafile;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const meta = await bundleAgent();
  const outputs = Object.entries(meta.outputs).filter(([f]) => f.endsWith('.js'));
  const kb = outputs.reduce((n, [, o]) => n + o.bytes, 0) / 1024;
  process.stdout.write(`bundled dist/agent/main.js: ${outputs.length} file(s), ${kb.toFixed(0)} KiB\n`);
}
