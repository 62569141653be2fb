/** Paths for tests that work from the sources (tsx) and from the compiled dist/ alike. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../../sandbox/paths.js';

export { repoRoot, tempDir } from '../../sandbox/paths.js';

/** True when running from TypeScript sources (tsx) rather than dist/. */
export const fromSources = fileURLToPath(import.meta.url).endsWith('.ts');

/** A compiled entry point (`agent/main`) as [execArgv..., file]. */
export function entry(rel: string): string[] {
  const root = repoRoot();
  return fromSources
    ? ['--import', 'tsx', path.join(root, `${rel}.ts`)]
    : [path.join(root, 'dist', `${rel}.js`)];
}
