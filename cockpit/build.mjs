#!/usr/bin/env node
/**
 * Builds the Cockpit package into cockpit/dist/ (manifest.json, index.html, calypso.css and the
 * esbuild bundle). Cockpit's own cockpit.js is not bundled: the page loads it from
 * ../base1/cockpit.js, served by the bridge. xterm.js is split into its own chunk, loaded only
 * when the Terminal page opens.
 *
 *   node cockpit/build.mjs [--dev] [--outdir DIR]
 *
 * Install: copy (or link) dist/ to /usr/share/cockpit/calypso, or for development to
 * ~/.local/share/cockpit/calypso.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Build the package; returns the output directory and esbuild's metafile. `socket`: the agent
 * socket the package talks to (default the appliance's; the demo builds one for its own).
 */
export async function buildPlugin({
  outdir = path.join(here, 'dist'),
  dev = false,
  socket = '/run/calypso/agent.sock',
} = {}) {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: here,
    entryPoints: { main: 'src/main.ts' },
    bundle: true,
    format: 'esm',
    splitting: true,
    chunkNames: 'chunk-[name]-[hash]',
    outdir,
    target: ['chrome100', 'firefox100', 'safari15'],
    minify: !dev,
    sourcemap: dev ? 'inline' : false,
    legalComments: 'none',
    metafile: true,
    tsconfig: path.join(here, 'tsconfig.json'),
    loader: { '.css': 'text' },
    define: {
      'process.env.NODE_ENV': dev ? '"development"' : '"production"',
      __CALYPSO_SOCKET__: JSON.stringify(socket),
    },
    logLevel: 'warning',
  });
  for (const f of ['manifest.json', 'index.html', 'calypso.css']) {
    copyFileSync(path.join(here, f === 'calypso.css' ? 'src/calypso.css' : f), path.join(outdir, f));
  }
  // the metafile is returned (the bench reads it), never written into the package
  return { outdir, metafile: result.metafile };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--outdir');
  const { outdir } = await buildPlugin({
    dev: args.includes('--dev'),
    outdir: i >= 0 ? path.resolve(args[i + 1]) : undefined,
  });
  process.stdout.write(`cockpit plugin built in ${outdir}\n`);
}
