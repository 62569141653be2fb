/**
 * The plugin's sources are bundled by esbuild, which strips types without checking them, and the
 * repository's tsconfig leaves cockpit/ out (it is browser code). This keeps them strict.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { it } from 'node:test';
import { createRunner } from '../../agent/runner.js';
import { repoRoot } from '../helpers/paths.js';

it('type-checks cockpit/src (tsc --noEmit -p cockpit/tsconfig.json)', async () => {
  const root = repoRoot();
  const r = await createRunner().run(
    [
      process.execPath,
      path.join(root, 'node_modules/typescript/bin/tsc'),
      '--noEmit',
      '-p',
      'cockpit/tsconfig.json',
    ],
    {
      cwd: root,
      timeoutMs: 120_000,
      okCodes: [0, 1, 2],
    },
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
});
