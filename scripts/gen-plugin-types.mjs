#!/usr/bin/env node
// Regenerates cockpit/src/generated/api.ts, the plugin's method types, from the agent's method
// schemas (run after `npm run build`). `--check` exits 1 when the file is out of date.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { renderPluginTypes, PLUGIN_TYPES_FILE } = await import(path.join(root, 'dist/agent/plugin-types.js'));
const file = path.join(root, PLUGIN_TYPES_FILE);
const next = await renderPluginTypes(os.tmpdir());
let current = '';
try {
  current = readFileSync(file, 'utf8');
} catch {
  /* not written yet */
}
if (process.argv.includes('--check')) {
  if (next !== current) {
    console.error(
      `${PLUGIN_TYPES_FILE} is out of date: run \`npm run build && node scripts/gen-plugin-types.mjs\``,
    );
    process.exit(1);
  }
} else {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, next);
}
