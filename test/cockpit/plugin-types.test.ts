/**
 * The plugin's method types (cockpit/src/generated/api.ts) are generated from the agent's method
 * schemas (agent/plugin-types.ts): this fails when a schema changed and the file was not
 * regenerated, and checks that the generator renders what the plugin relies on.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PLUGIN_TYPES_FILE, renderPluginTypes } from '../../agent/plugin-types.js';
import { repoRoot } from '../helpers/paths.js';

describe('plugin types generated from the schemas', () => {
  let fresh = '';

  it('cockpit/src/generated/api.ts is current', async () => {
    fresh = await renderPluginTypes(os.tmpdir());
    const current = readFileSync(path.join(repoRoot(), PLUGIN_TYPES_FILE), 'utf8');
    assert.ok(current === fresh, 'run `npm run build && node scripts/gen-plugin-types.mjs`');
  });

  it('renders params, results, optional fields, unions and recursive types', () => {
    const block = (m: string) => {
      const i = fresh.indexOf(`  ${JSON.stringify(m)}: {`);
      assert.ok(i > 0, `${m} is declared`);
      return fresh.slice(i, fresh.indexOf('\n  };', i));
    };
    assert.match(
      block('pool.list'),
      /result: \{\n\s+items: Array<\{\n\s+name: string;\n\s+\/\*\* ONLINE[^\n]*\*\/\n\s+health: string;/,
    );
    assert.match(block('dataset.list'), /items: ZfsDatasetNode\[\];/);
    assert.match(fresh, /export type ZfsDatasetNode = \{[\s\S]*children: ZfsDatasetNode\[\];/);
    assert.match(block('alert.list'), /level\?: "info" \| "warning" \| "critical";/);
    assert.match(block('pool.scrub'), /dryRun\?: boolean;/);
  });
});
