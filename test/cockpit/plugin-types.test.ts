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

/** A method's declaration in the generated text. */
function block(text: string, m: string): string {
  const i = text.indexOf(`  ${JSON.stringify(m)}: {`);
  assert.ok(i > 0, `${m} is declared`);
  return text.slice(i, text.indexOf('\n  };', i));
}

describe('plugin types generated from the schemas', () => {
  let fresh = '';

  it('cockpit/src/generated/api.ts is current', async () => {
    fresh = await renderPluginTypes(os.tmpdir());
    const current = readFileSync(path.join(repoRoot(), PLUGIN_TYPES_FILE), 'utf8');
    assert.ok(current === fresh, 'run `npm run build && node scripts/gen-plugin-types.mjs`');
  });

  it('renders params, results, optional fields, unions and recursive types', () => {
    assert.match(
      block(fresh, 'pool.list'),
      /result: \{\n\s+items: Array<\{\n\s+name: string;\n\s+\/\*\* ONLINE[^\n]*\*\/\n\s+health: string;/,
    );
    assert.match(block(fresh, 'dataset.list'), /items: ZfsDatasetNode\[\];/);
    assert.match(fresh, /export type ZfsDatasetNode = \{[\s\S]*children: ZfsDatasetNode\[\];/);
    assert.match(block(fresh, 'alert.list'), /level\?: "info" \| "warning" \| "critical";/);
    assert.match(block(fresh, 'pool.scrub'), /dryRun\?: boolean;/);
  });

  it('a documented default makes a param optional, not a result field; a dry run and open objects have their types', () => {
    const [params, result] = block(fresh, 'vtl.library.create').split('\n    result: ');
    assert.match(params!, /\n\s+mailslots\?: number;/, 'mailslots has a default: a caller may leave it out');
    assert.match(block(fresh, 'vtl.library.list'), /\n\s+mailslots: number;/, 'a listed library has it');
    assert.match(result!, /changed: string\[\];/);
    assert.match(
      fresh,
      /export type DryRunPlan = \{\n\s+dryRun: true;\n[^\n]*\n\s+commands: Array<string\[\]>;/,
    );
    assert.match(
      block(fresh, 'rpc.discover'),
      /\[key: string\]: unknown/,
      'an open object keeps its other keys',
    );
  });
});
