#!/usr/bin/env node
// npm run build: type-check and compile to dist/ (tsc), then bundle the agent's entry point
// (scripts/bundle.mjs). `--allow-type-errors` bundles even when tsc reports errors.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleAgent } from './bundle.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsc = spawnSync(path.join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], {
  cwd: root,
  stdio: 'inherit',
});
if (tsc.status !== 0 && !process.argv.includes('--allow-type-errors')) process.exit(tsc.status || 1);
await bundleAgent();
