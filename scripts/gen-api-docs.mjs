#!/usr/bin/env node
// Regenerates docs/api.md's method reference from rpc.discover (run after `npm run build`).
// `--check` exits 1 when docs/api.md is out of date (the test suite runs that).
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { renderApiSection } = await import(path.join(root, 'dist/agent/api-docs.js'));
const readme = path.join(root, 'docs/api.md');
const text = readFileSync(readme, 'utf8');
const start = '<!-- api:start -->';
const end = '<!-- api:end -->';
const i = text.indexOf(start);
const j = text.indexOf(end);
if (i < 0 || j < 0) throw new Error('docs/api.md has no api markers');
const section = await renderApiSection(os.tmpdir());
const next = `${text.slice(0, i + start.length)}\n${section}\n${text.slice(j)}`;
if (process.argv.includes('--check')) {
  if (next !== text) {
    console.error(
      'docs/api.md API section is out of date: run `npm run build && node scripts/gen-api-docs.mjs`',
    );
    process.exit(1);
  }
} else {
  writeFileSync(readme, next);
}
