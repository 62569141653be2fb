/**
 * The seams between subsystems are declared (issue #25, docs/design.md "Ports"): a file under
 * agent/<a>/ imports agent/<b>/ only through <b>'s port.ts; the infrastructure layer (the files
 * directly under agent/, config-set/, fs/, util/) imports no subsystem (apart from the one list
 * of subsystems and the agent's assembly); and agent/ has no import cycle. Each failure names
 * the offending import. Read from the sources with a small import scanner (no tsc needed).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../helpers/paths.js';

const root = repoRoot();
const agentDir = path.join(root, 'agent');
/** folders under agent/ that are infrastructure, not subsystems */
const INFRA_DIRS = new Set(['config-set', 'fs', 'util']);
/** infrastructure files that assemble the agent from its subsystems */
const ASSEMBLY = new Set([
  'agent/subsystems.ts',
  'agent/create-agent.ts',
  'agent/main.ts',
  'agent/api-docs.ts',
]);

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

interface Edge {
  from: string;
  to: string;
  line: number;
  typeOnly: boolean;
}

/** Relative imports of one file (static, re-exports and dynamic), resolved to repo paths. */
export function importsOf(file: string, text: string): Edge[] {
  const out: Edge[] = [];
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;
  for (const m of text.matchAll(re)) {
    const spec = m[3] ?? m[4]!;
    const abs = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
    out.push({
      from: path.relative(root, file),
      to: path.relative(root, abs),
      line: text.slice(0, m.index).split('\n').length + (m[0].startsWith('\n') ? 1 : 0),
      typeOnly: !!m[2],
    });
  }
  return out;
}

const files = walk(agentDir);
const edges = files.flatMap((f) => importsOf(f, readFileSync(f, 'utf8')));
const area = (rel: string): string | undefined => {
  const parts = rel.split('/');
  if (parts[0] !== 'agent') return undefined;
  return parts.length === 2 ? '' : parts[1];
};
const isSubsystem = (a: string | undefined) => !!a && !INFRA_DIRS.has(a);
const show = (e: Edge) => `${e.from}:${e.line} imports ${e.to}`;

/** The offences of the rules below, by rule (exported for the deliberate-failure check). */
export function offences(all: Edge[]) {
  const acrossNotPort: string[] = [];
  const upward: string[] = [];
  for (const e of all) {
    const a = area(e.from);
    const b = area(e.to);
    if (b === undefined || !isSubsystem(b)) continue;
    if (isSubsystem(a) && a !== b && path.basename(e.to) !== 'port.ts') acrossNotPort.push(show(e));
    if (!isSubsystem(a) && !ASSEMBLY.has(e.from)) upward.push(show(e));
  }
  return { acrossNotPort, upward };
}

function cycles(all: Edge[]): string[][] {
  const graph = new Map<string, string[]>();
  for (const e of all) if (e.to.startsWith('agent/')) graph.set(e.from, [...(graph.get(e.from) ?? []), e.to]);
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (n: string) => {
    state.set(n, 1);
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === 1) found.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return found;
}

describe('subsystems meet through declared ports', () => {
  it('the scanner sees imports (sanity: it finds the known ones)', () => {
    assert.ok(edges.length > 500, `${edges.length} imports found`);
    assert.ok(edges.some((e) => e.from === 'agent/tape/methods-media.ts' && e.to === 'agent/backup/port.ts'));
    // and it reports what the rule forbids
    const bad = offences([
      { from: 'agent/tape/x.ts', to: 'agent/backup/model.ts', line: 3, typeOnly: false },
      { from: 'agent/deps.ts', to: 'agent/alerts/service.ts', line: 4, typeOnly: true },
    ]);
    assert.deepEqual(bad.acrossNotPort, ['agent/tape/x.ts:3 imports agent/backup/model.ts']);
    assert.deepEqual(bad.upward, ['agent/deps.ts:4 imports agent/alerts/service.ts']);
  });

  it("a file under agent/<a>/ imports agent/<b>/ only through <b>'s port.ts", () => {
    assert.deepEqual(offences(edges).acrossNotPort, []);
  });

  it('the infrastructure layer imports no subsystem (only the assembly lists them)', () => {
    assert.deepEqual(offences(edges).upward, []);
  });

  it('agent/ has no import cycle', () => {
    assert.deepEqual(
      cycles(edges).map((c) => c.join(' → ')),
      [],
    );
  });

  it('every port a subsystem needs is provided by a subsystem of the agent', async () => {
    const { SUBSYSTEMS } = await import('../../agent/subsystems.js');
    const provided = new Set(SUBSYSTEMS.flatMap((s) => (s.provides ?? []).map((p) => p.name)));
    const missing = SUBSYSTEMS.flatMap((s) =>
      (s.needs ?? []).filter((p) => !provided.has(p.name)).map((p) => `${s.name} needs ${p.name}`),
    );
    assert.deepEqual(missing, []);
    assert.ok(provided.has('zfs.zvols') && provided.has('backup.bacula'));
  });
});
