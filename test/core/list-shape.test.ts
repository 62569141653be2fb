/**
 * Every list method answers one shape (rpc/list.ts): `{ items, total }`, plus the paging fields
 * where it pages and the few fields of its own named below. The test walks every `*.list` and
 * `*.config.history` method in rpc.discover and fails on any other result schema; then it calls
 * each one that answers on an agent without tools and checks the answer itself.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createRunner } from '../../agent/runner.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';

/** Fields a list may carry next to `items` and `total`; anything else fails. */
const EXTRA: Record<string, string[]> = {
  'alert.list': ['next'],
  'media.list': ['notes'],
  'release.list': ['current', 'previous', 'upgrade'],
  'snapshot.list': ['listedAt', 'cached'],
};

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
}

const isList = (name: string) => name.endsWith('.list') || name.endsWith('.config.history');

let t: TestAgent;
before(async () => {
  t = await startTestAgent({ runner: createRunner({ path: '/nonexistent' }) });
});
after(() => t?.stop());

/** What is wrong with a list method's result schema (nothing: its shape is the one shape). */
function listShapeProblems(name: string, s: Schema): string[] {
  if (s.type !== 'object' || !s.properties)
    return [`${name}: answers ${s.type ?? 'a union'}, not { items, total }`];
  const out: string[] = [];
  if (s.properties.items?.type !== 'array') out.push(`${name}: no items array`);
  if (s.properties.total?.type !== 'integer') out.push(`${name}: no integer total`);
  for (const k of ['items', 'total']) if (!s.required?.includes(k)) out.push(`${name}: ${k} is optional`);
  const allowed = new Set(['items', 'total', ...(EXTRA[name] ?? [])]);
  for (const k of Object.keys(s.properties))
    if (!allowed.has(k)) out.push(`${name}: field ${k} beside items and total`);
  return out;
}

test('every list method declares { items, total } (plus its paging fields)', async () => {
  const doc = await t.call<{ methods: { name: string; result: { schema: Schema } }[] }>('rpc.discover');
  const lists = doc.methods.filter((m) => isList(m.name));
  assert.ok(lists.length >= 30, `only ${lists.length} list methods found`);
  const problems = lists.flatMap((m) => listShapeProblems(m.name, m.result.schema));
  assert.deepEqual(problems, []);
});

test('the shape check itself refuses a bare array and a renamed items field', () => {
  assert.equal(listShapeProblems('x.list', { type: 'array' }).length, 1);
  const renamed = listShapeProblems('x.list', {
    type: 'object',
    properties: { alerts: { type: 'array' }, total: { type: 'integer' } },
    required: ['alerts', 'total'],
  });
  assert.ok(renamed.some((p) => p.includes('no items array')));
  assert.ok(renamed.some((p) => p.includes('field alerts')));
});

test('every list method that answers here answers { items, total }', async () => {
  const doc = await t.call<{ methods: { name: string; params: { required: boolean }[] }[] }>('rpc.discover');
  const answered: string[] = [];
  for (const m of doc.methods.filter((x) => isList(x.name) && !x.params.some((p) => p.required))) {
    let r: unknown;
    try {
      r = await t.call(m.name, {});
    } catch {
      continue; // unavailable without its tools: its schema was checked above
    }
    const v = r as { items?: unknown; total?: unknown };
    assert.ok(Array.isArray(v.items), `${m.name}: items is not an array`);
    assert.equal(typeof v.total, 'number', `${m.name}: total is not a number`);
    assert.ok((v.total as number) >= (v.items as unknown[]).length, `${m.name}: total below the items`);
    answered.push(m.name);
  }
  assert.ok(answered.length >= 10, `only ${answered.length} list methods answered: ${answered.join(', ')}`);
});
