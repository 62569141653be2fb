/** Paths for tests that work from the sources (tsx) and from the compiled dist/ alike. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

/** True when running from TypeScript sources (tsx) rather than dist/. */
export const fromSources = fileURLToPath(import.meta.url).endsWith('.ts');

/** A compiled entry point (`agent/main`) as [execArgv..., file]. */
export function entry(rel: string): string[] {
  const root = repoRoot();
  return fromSources
    ? ['--import', 'tsx', path.join(root, `${rel}.ts`)]
    : [path.join(root, 'dist', `${rel}.js`)];
}

export function tempDir(prefix = 'calypso-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
