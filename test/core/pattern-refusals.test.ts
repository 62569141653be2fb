/**
 * Every refusal in words: for every string param with a `pattern` in rpc.discover (top level and
 * inside objects and arrays), a call with a value the pattern refuses must be answered in plain
 * words — a named format ("an IQN looks like iqn.2026-12.com.example:name") — never with the
 * pattern's own text.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { exampleParams, type OpenRpcDoc } from '../../cli/describe.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';

type Schema = Record<string, unknown>;

let t: TestAgent;
before(async () => {
  t = await startTestAgent();
});
after(async () => {
  await t?.stop();
});

const CANDIDATES = ['!!', ' ', '-x', 'a b', '../x', '*', 'A', '0', 'x'.repeat(600), ''];

/** A value the pattern refuses, within the schema's length limits where possible. */
function violating(s: Schema): string | undefined {
  const re = new RegExp(String(s.pattern), 'u');
  const min = typeof s.minLength === 'number' ? s.minLength : 0;
  const max = typeof s.maxLength === 'number' ? s.maxLength : Number.POSITIVE_INFINITY;
  const fits = CANDIDATES.filter((c) => !re.test(c));
  return fits.find((c) => c.length >= min && c.length <= max) ?? fits[0];
}

interface Spot {
  /** where to put the bad value in the params */
  path: (string | number)[];
  schema: Schema;
}

/** String schemas with a pattern, and where they sit (objects' required keys, arrays' first item). */
function spots(s: Schema, at: (string | number)[], out: Spot[]): void {
  if (s.type === 'string' && typeof s.pattern === 'string') out.push({ path: at, schema: s });
  for (const k of ['allOf'] as const)
    if (Array.isArray(s[k]))
      for (const x of s[k] as Schema[])
        if (typeof x.pattern === 'string') out.push({ path: at, schema: { ...s, ...x } });
  if (s.type === 'object' && s.properties)
    for (const [k, v] of Object.entries(s.properties as Record<string, Schema>)) spots(v, [...at, k], out);
  if (s.type === 'array' && s.items) spots(s.items as Schema, [...at, 0], out);
}

function withValue(
  params: Record<string, unknown>,
  p: (string | number)[],
  v: unknown,
  s: Schema[],
): unknown {
  const root: Record<string, unknown> = structuredClone(params);
  let cur: Record<string | number, unknown> = root;
  for (let i = 0; i < p.length - 1; i++) {
    const key = p[i]!;
    const next = p[i + 1]!;
    if (cur[key] === undefined || typeof cur[key] !== 'object')
      cur[key] = typeof next === 'number' ? [] : exampleShape(s[i]);
    cur = cur[key] as Record<string | number, unknown>;
  }
  cur[p[p.length - 1]!] = v;
  return root;
}

function exampleShape(_s: Schema | undefined): Record<string, unknown> {
  return {};
}

test('no refusal of a patterned string param prints the pattern', async () => {
  const doc = await t.call<OpenRpcDoc>('rpc.discover');
  const leaks: string[] = [];
  let checked = 0;
  for (const m of doc.methods) {
    for (const param of m.params) {
      const found: Spot[] = [];
      spots(param.schema as Schema, [param.name], found);
      for (const spot of found) {
        const bad = violating(spot.schema);
        if (bad === undefined) continue;
        const params = withValue(
          { ...exampleParams(m), ...(m['x-mutating'] ? { dryRun: true } : {}) },
          spot.path,
          bad,
          [],
        ) as Record<string, unknown>;
        const err = await t.call(m.name, params).then(
          () => undefined,
          (e: Error & { data?: unknown }) => e,
        );
        if (!err) continue; // an example elsewhere may make the call fail first; nothing refused here
        checked++;
        const text = `${err.message} ${JSON.stringify(err.data ?? {})}`;
        const pattern = String(spot.schema.pattern);
        if (text.includes(pattern) || /must match pattern/.test(text))
          leaks.push(`${m.name} ${spot.path.join('.')}: ${err.message}`);
      }
    }
  }
  assert.ok(checked > 20, `only ${checked} patterned params were exercised`);
  assert.deepEqual(leaks, [], 'refusals that print a raw pattern instead of a named format');
});

test('simple identifier patterns are said exactly; others point to describe, without the pattern', async () => {
  const { patternRefusal } = await import('../../rpc/pattern-words.js');
  assert.equal(
    patternRefusal('^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$'),
    'may contain only letters, digits and . _ : @ -, starting with a letter or a digit, 1 to 128 characters',
  );
  assert.equal(
    patternRefusal('^[0-9a-f]{12}$'),
    'may contain only hexadecimal digits (0-9, a-f), exactly 12 characters',
  );
  assert.equal(
    patternRefusal('^[^\\x00-\\x1f\\x7f]*$'),
    'may not contain control characters (line breaks, tabs, NUL)',
  );
  assert.doesNotMatch(patternRefusal('^6[0-9a-f]{31}$'), /\[|\{|\^/);
  const iqn = await t.call('iscsi.target.create', { iqn: 'iqn.bad', dryRun: true }).catch((e: Error) => e);
  assert.match(String((iqn as Error).message), /an IQN looks like iqn\.2026-12\.com\.example:name/);
});
