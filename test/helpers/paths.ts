/** Paths for tests that work from the sources (tsx) and from the compiled dist/ alike. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../../sandbox/paths.js';

export { repoRoot, tempDir } from '../../sandbox/paths.js';

/** Third-party captures of the tools beside the checkout (../shared/samples), provenance in its README.md. */
export function samplesDir(): string {
  // Third-party captures (mhvtl's, SCST's, Proxmox's …) kept beside the checkout as reading
  // material: they are not copied into the repository (their own README says so). The fixtures
  // the project records itself live in test/fixtures/.
  return path.resolve(repoRoot(), '..', 'shared', 'samples');
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
