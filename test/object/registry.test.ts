/**
 * The object methods against the registry's rules (test/core/registry-meta.test.ts applies them
 * to the registered subsystems; this checks them before the object subsystem is listed there),
 * and `unavailable` with the reason when radosgw is not installed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { validateOpenRPCDocument } from '@open-rpc/schema-utils-js';
import { createObjectService } from '../../agent/object/service.js';
import { createRunner } from '../../agent/runner.js';
import { ROLES } from '../../rpc/roles.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';

let t: TestAgent;
before(async () => {
  // a runner whose PATH holds no Ceph tool: what a machine without radosgw sees
  t = await startTestAgent({
    services: [createObjectService({ runner: createRunner({ path: '/nonexistent' }), config: { port: 1 } })],
  });
});
after(() => t.stop());

test('object methods: summary, role, described params, dryRun on every mutation', () => {
  const problems: string[] = [];
  const mine = t.agent.registry.list().filter((m) => m.def.name.startsWith('object.'));
  assert.ok(mine.length >= 23, `${mine.length} object methods`);
  for (const { def, params } of mine) {
    if (!def.summary || def.summary.length < 10) problems.push(`${def.name}: summary`);
    if (!ROLES.includes(def.role)) problems.push(`${def.name}: role`);
    if (params.additionalProperties !== false) problems.push(`${def.name}: additionalProperties`);
    for (const [k, s] of Object.entries(params.properties)) {
      const sch = s as { description?: string; anyOf?: unknown; enum?: unknown; const?: unknown };
      if (!sch.description && !sch.anyOf && !sch.enum && sch.const === undefined && !/^(id|name)$/.test(k))
        problems.push(`${def.name}.${k}: no description`);
    }
    if (def.mutating && ('noDryRun' in def || !('dryRun' in params.properties)))
      problems.push(`${def.name}: no dryRun`);
  }
  assert.deepEqual(problems, []);
});

test('rpc.discover with the object methods is valid OpenRPC', async () => {
  const doc = await t.call('rpc.discover', {}, { role: 'public' });
  const r = validateOpenRPCDocument(doc as Parameters<typeof validateOpenRPCDocument>[0]);
  assert.equal(r, true, String(r));
});

test('radosgw not installed: status says so, calls are unavailable with the reason', async () => {
  const st = await t.call<{ available: boolean; reason?: string }>('object.status');
  assert.equal(st.available, false);
  assert.match(st.reason ?? '', /radosgw-admin is not installed/);
  await assert.rejects(t.call('object.bucket.list'), (e: { kind?: string; data?: { reason?: string } }) => {
    assert.equal(e.kind, 'unavailable');
    assert.match(e.data?.reason ?? '', /radosgw-admin is not installed/);
    return true;
  });
  await assert.rejects(t.call('object.user.create', { id: 'a', displayName: 'A', dryRun: true }), {
    kind: 'unavailable',
  });
});
