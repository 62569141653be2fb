/**
 * resourceMethods (agent/config-set/resource.ts) on a real agent: a small resource kept in
 * memory gets `<prefix>.list` as `{ items, total }`, `<prefix>.get` with a plain not-found
 * refusal, and mutations with the write role, `dryRun` (added by the core) and an audit record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { mutation, resourceMethods } from '../../agent/config-set/resource.js';
import type { ServiceFactory } from '../../agent/deps.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';

const Item = Type.Object({ name: Type.String({ pattern: '^[a-z]+$' }), size: Type.Integer() });

function shelfService(items: { name: string; size: number }[]): ServiceFactory {
  return () => ({
    name: 'shelf',
    methods: resourceMethods({
      prefix: 'shelf.box',
      listSummary: 'Boxes on the shelf, by name',
      label: 'box',
      item: Item,
      listParams: Type.Object(
        { min: Type.Optional(Type.Integer({ description: 'only boxes at least this big' })) },
        { additionalProperties: false },
      ),
      list: (p) => items.filter((b) => p.min === undefined || b.size >= p.min),
      key: { field: 'name', schema: Type.String({ pattern: '^[a-z]+$', description: 'box name' }) },
      mutations: {
        create: mutation({
          summary: 'Put a box on the shelf',
          params: Type.Object(
            { name: Type.String({ pattern: '^[a-z]+$' }), size: Type.Integer() },
            {
              additionalProperties: false,
            },
          ),
          result: Item,
          handler: async (p, ctx) => {
            if (ctx.dryRun) return { dryRun: true, commands: [], notes: [`would add ${p.name}`] };
            items.push(p);
            return p;
          },
        }),
        dust: mutation({
          summary: 'Dust every box (operators may)',
          params: Type.Object({}, { additionalProperties: false }),
          result: Type.Object({}),
          role: 'operator',
          handler: async () => ({}),
        }),
      },
    }),
  });
}

describe('resourceMethods', () => {
  let t: TestAgent;
  const items = [
    { name: 'small', size: 1 },
    { name: 'large', size: 9 },
  ];
  before(async () => {
    t = await startTestAgent({ services: [shelfService(items)] });
  });
  after(() => t?.stop());

  it('makes list, get and the mutations with their roles', () => {
    const defs = t.agent.registry.list().filter((m) => m.def.name.startsWith('shelf.'));
    assert.deepEqual(defs.map((m) => [m.def.name, m.def.role, m.def.mutating]).sort(), [
      ['shelf.box.create', 'admin', true],
      ['shelf.box.dust', 'operator', true],
      ['shelf.box.get', 'auditor', false],
      ['shelf.box.list', 'auditor', false],
    ]);
    const create = defs.find((m) => m.def.name === 'shelf.box.create');
    assert.ok(create && 'dryRun' in create.params.properties, 'the core adds dryRun to a mutation');
  });

  it('lists as { items, total } with its filters, and gets one by key or refuses in words', async () => {
    assert.deepEqual(await t.call('shelf.box.list', { min: 5 }), {
      items: [{ name: 'large', size: 9 }],
      total: 1,
    });
    assert.deepEqual(await t.call('shelf.box.get', { name: 'small' }), { name: 'small', size: 1 });
    await assert.rejects(
      t.call('shelf.box.get', { name: 'none' }),
      (e: { message: string; data?: { kind?: string } }) => {
        assert.equal(e.data?.kind, 'not_found');
        assert.match(e.message, /box none does not exist/);
        return true;
      },
    );
  });

  it('a mutation: dry run changes nothing, the real run changes and is audited, roles hold', async () => {
    const plan = await t.call<{ dryRun: boolean }>('shelf.box.create', {
      name: 'tiny',
      size: 0,
      dryRun: true,
    });
    assert.equal(plan.dryRun, true);
    assert.equal((await t.call<{ total: number }>('shelf.box.list')).total, 2);
    await t.call('shelf.box.create', { name: 'tiny', size: 0 });
    assert.equal((await t.call<{ total: number }>('shelf.box.list')).total, 3);
    await t.agent.deps.audit.flushed();
    const rec = t.agent.deps.audit.query({ method: 'shelf.box.create', limit: 1 }).items[0];
    assert.equal(rec?.outcome, 'ok');
    await assert.rejects(t.call('shelf.box.create', { name: 'x', size: 1 }, { role: 'operator' }));
    await t.call('shelf.box.dust', {}, { role: 'operator' });
  });
});
