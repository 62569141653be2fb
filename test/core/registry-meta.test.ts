/**
 * Meta-tests that keep the registry honest: every method has a summary, a least role and
 * described params; mutating methods take dryRun; rpc.discover validates against the OpenRPC
 * meta-schema; the README's error table matches the catalogue.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { validateOpenRPCDocument } from '@open-rpc/schema-utils-js';
import { ERROR_KINDS } from '../../rpc/errors.js';
import { ROLES } from '../../rpc/roles.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { repoRoot } from '../helpers/paths.js';

let t: TestAgent;
before(async () => {
  t = await startTestAgent();
});
after(() => t.stop());

test('every method declares summary, role and described params', () => {
  const problems: string[] = [];
  for (const { def, params } of t.agent.registry.list()) {
    if (!def.summary || def.summary.length < 10) problems.push(`${def.name}: summary`);
    if (!ROLES.includes(def.role)) problems.push(`${def.name}: role`);
    if (params.additionalProperties !== false)
      problems.push(`${def.name}: params must set additionalProperties: false`);
    for (const [k, s] of Object.entries(params.properties)) {
      const sch = s as { description?: string; anyOf?: unknown; enum?: unknown; const?: unknown };
      const self = sch.description ?? '';
      if (
        !self &&
        !sch.anyOf &&
        !sch.enum &&
        sch.const === undefined &&
        !/^(id|name|role|topics|state)$/.test(k)
      )
        problems.push(`${def.name}.${k}: no description`);
    }
    if (def.mutating && !def.noDryRun && !('dryRun' in params.properties))
      problems.push(`${def.name}: no dryRun`);
  }
  assert.deepEqual(problems, []);
});

/**
 * The OpenRPC project's own validator. (The suite once validated against
 * `import metaSchema from '@open-rpc/meta-schema'`, which is the CommonJS wrapper
 * `{openrpcDocument, default}` and so accepted any object.)
 */
function openRpcProblems(doc: unknown): string | undefined {
  const r = validateOpenRPCDocument(doc as Parameters<typeof validateOpenRPCDocument>[0]);
  return r === true ? undefined : String((r as Error).message).slice(0, 2000);
}

test('rpc.discover is a valid OpenRPC document listing every method', async () => {
  const doc = await t.call<{ methods: { name: string }[] }>('rpc.discover', {}, { role: 'public' });
  assert.equal(openRpcProblems(doc), undefined);
  assert.deepEqual(
    doc.methods.map((m) => m.name),
    t.agent.registry.list().map((m) => m.def.name),
  );
});

test('the OpenRPC check rejects broken documents', async () => {
  const doc = await t.call<Record<string, unknown> & { methods: Record<string, unknown>[] }>(
    'rpc.discover',
    {},
    { role: 'public' },
  );
  const clone = () => structuredClone(doc);
  const noVersion = clone();
  delete (noVersion.info as Record<string, unknown>).version;
  const badMethod = clone();
  badMethod.methods[0] = { ...badMethod.methods[0], params: 'not a list' };
  const noName = clone();
  delete noName.methods[1]!.name;
  for (const [what, broken] of [
    ['info without version', noVersion],
    ['params that are not a list', badMethod],
    ['a method without a name', noName],
    ['an empty object', {}],
  ] as const) {
    assert.ok(openRpcProblems(broken), `accepted ${what}`);
  }
});

test('the error table of docs/api.md matches the catalogue', () => {
  const readme = readFileSync(path.join(repoRoot(), 'docs/api.md'), 'utf8');
  const rows = [...readme.matchAll(/^\| `([a-z_]+)` +\| (-320\d\d) +\|/gm)].map((m) => [m[1], Number(m[2])]);
  assert.deepEqual(
    rows,
    Object.entries(ERROR_KINDS).map(([k, v]) => [k, v.code]),
  );
});

test('the method reference in docs/api.md is generated from the current registry', async () => {
  const { renderApiSection } = await import('../../agent/api-docs.js');
  const readme = readFileSync(path.join(repoRoot(), 'docs/api.md'), 'utf8');
  const current = readme.slice(
    readme.indexOf('<!-- api:start -->') + '<!-- api:start -->'.length,
    readme.indexOf('<!-- api:end -->'),
  );
  const fresh = await renderApiSection((await import('node:os')).tmpdir());
  assert.equal(current.trim(), fresh.trim(), 'run `npm run build && node scripts/gen-api-docs.mjs`');
});
