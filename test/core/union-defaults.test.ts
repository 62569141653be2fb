/**
 * Documented defaults are never refused (issue #22): for every method whose params hold a union
 * (or a required property with a default), a minimal call made from the schema — only the
 * required fields, leaving out every one that has a default, once per alternative of each union
 * — passes params validation (a dry run where the method mutates). And a refused union names
 * the alternative and the field.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { PROTOCOL_ERRORS } from '../../rpc/errors.js';
import { hasRequiredDefaults } from '../../rpc/params-defaults.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';

type Schema = TSchema & {
  const?: unknown;
  anyOf?: Schema[];
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  default?: unknown;
  examples?: unknown[];
  minimum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
};

/** Strings tried, in order, for a string schema without an example: the first it accepts is used. */
const STRINGS = [
  'a',
  'tank',
  'tank/a',
  'tank/a@s1',
  'iqn.2026-01.com.example:t1',
  'user@example.com',
  'https://example.com/hook',
  '192.0.2.1',
  'mail.example.com',
  '/dev/tape/by-id/scsi-1',
  '0123456789abcdef',
  '10G',
  'A00001L8',
  '2026-01-01T00:00:00Z',
  '00:00',
  '1234567890',
];

function stringFor(s: Schema, where: string): string {
  for (const c of [...(s.examples ?? []), ...(s.allOf ?? []).flatMap((x) => x.examples ?? []), ...STRINGS])
    if (typeof c === 'string' && Value.Check(s, c)) return c;
  throw new Error(`${where}: no sample string fits ${JSON.stringify(s)}`);
}

/** Minimal values the schema accepts: one per alternative of each union, required fields only. */
function variants(s: Schema, where: string): unknown[] {
  if (s.const !== undefined) return [s.const];
  if (s.anyOf) return s.anyOf.flatMap((alt) => variants(alt, where));
  if (s.allOf) return [stringFor(s, where)];
  if (s.properties) {
    const req = new Set(s.required ?? []);
    const fields = Object.entries(s.properties).filter(([k, p]) => req.has(k) && p.default === undefined);
    const each = fields.map(([k, p]) => [k, variants(p, `${where}/${k}`)] as const);
    const base = Object.fromEntries(each.map(([k, v]) => [k, v[0]]));
    const out: unknown[] = [base];
    for (const [k, v] of each) for (const x of v.slice(1)) out.push({ ...base, [k]: x });
    return out;
  }
  switch (s.type) {
    case 'string':
      return [stringFor(s, where)];
    case 'integer':
    case 'number':
      return [s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 1)];
    case 'boolean':
      return [false];
    case 'null':
      return [null];
    case 'array': {
      const n = s.minItems ?? 0;
      return n ? variants(s.items!, `${where}[]`).map((x) => Array.from({ length: n }, () => x)) : [[]];
    }
    default:
      return [{}];
  }
}

const hasUnion = (s: unknown): boolean =>
  typeof s === 'object' &&
  s !== null &&
  (Array.isArray((s as Schema).anyOf) || Object.values(s).some((v) => hasUnion(v)));

let t: TestAgent;
before(async () => {
  t = await startTestAgent();
});
after(() => t?.stop());

test('a minimal call of every method with a union or a default is accepted', async () => {
  const refused: string[] = [];
  let calls = 0;
  for (const m of t.agent.registry.list()) {
    if (!hasUnion(m.params) && !hasRequiredDefaults(m.params)) continue;
    // a mutating method without a dry run would really change something: none has a union today
    if (m.def.mutating && m.def.noDryRun) {
      refused.push(`${m.def.name}: mutating without dryRun, cannot be called safely here`);
      continue;
    }
    for (const v of variants(m.params as Schema, m.def.name)) {
      const params = { ...(v as Record<string, unknown>), ...(m.def.mutating ? { dryRun: true } : {}) };
      calls++;
      try {
        await t.call(m.def.name, params);
      } catch (e) {
        const err = e as { code?: number; message?: string };
        if (err.code === PROTOCOL_ERRORS.invalid_params.code)
          refused.push(`${m.def.name} ${JSON.stringify(params)}: ${err.message}`);
      }
    }
  }
  assert.deepEqual(refused, []);
  assert.ok(calls >= 15, `only ${calls} calls made`);
});

test('the SMTP defaults are filled in and a refused union names the alternative and the field', async () => {
  const smtp = { host: 'mail.example.com', from: 'a@example.com', to: ['b@example.com'] };
  const r = await t.call<{ target: { smtp: Record<string, unknown> } }>('notify.target.set', {
    target: { id: 'm1', kind: 'smtp', smtp },
    dryRun: true,
  });
  assert.deepEqual(r.target.smtp, { ...smtp, port: 587, security: 'starttls', verifyTls: true });
  await assert.rejects(
    t.call('notify.target.set', { target: { id: 'm1', kind: 'smtp', smtp: { ...smtp, port: 70000 } } }),
    (e: Error & { data?: { errors?: { path: string; message: string }[] } }) => {
      assert.equal(e.data?.errors?.[0]?.path, '/target/smtp/port');
      assert.equal(e.data?.errors?.[0]?.message, 'smtp: port must be 1–65535');
      return true;
    },
  );
  await assert.rejects(
    t.call('notify.target.set', { target: { id: 'm1', kind: 'fax' } }),
    /\/target must be one of: kind "smtp"; kind "sendmail"; kind "webhook"/,
  );
});
