/**
 * A new subsystem edits nothing central (issue #25, docs/adding-a-subsystem.md): its alert
 * sources, metrics and capability probes are contributed from its own folder. Checked here: the
 * infrastructure layer (the files directly under agent/, config-set/, fs/, util/) spells no
 * subsystem's name or alert source as a string literal (apart from the assembly that lists the
 * subsystems and the filesystem layout's data areas); the capability registry probes nothing
 * until a subsystem declares it; the metrics exposition serves only its own families until a
 * subsystem contributes; and every loaded subsystem's alert source is accepted by the rules.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Capabilities } from '../../agent/capabilities.js';
import { createMetrics, readSources } from '../../agent/metrics/exposition.js';
import { createRunner } from '../../agent/runner.js';
import { SUBSYSTEMS } from '../../agent/subsystems.js';
import { repoRoot } from '../helpers/paths.js';

const root = repoRoot();
const INFRA_DIRS = ['config-set', 'fs', 'util'];
/**
 * The assembly lists the subsystems (and the generators build the whole agent); the layout
 * spells the appliance's data areas (docs/design.md); plugin-types.ts reads JSON Schema's `'object'`.
 */
const ALLOWED = new Set([
  'agent/subsystems.ts',
  'agent/create-agent.ts',
  'agent/main.ts',
  'agent/api-docs.ts',
  'agent/plugin-types.ts',
  'agent/layout.ts',
]);
/** Words the infrastructure owns itself: the alert engine's LMDB database is `alerts`. */
const INFRA_WORDS = new Set(['alerts']);

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const infraFiles = [
  ...readdirSync(path.join(root, 'agent'))
    .filter((n) => n.endsWith('.ts'))
    .map((n) => path.join(root, 'agent', n)),
  ...INFRA_DIRS.flatMap((d) => walk(path.join(root, 'agent', d))),
].map((f) => path.relative(root, f));

const subsystemWords = [...new Set(SUBSYSTEMS.flatMap((s) => [s.name, ...(s.alertSources ?? [])]))].filter(
  (w) => !INFRA_WORDS.has(w),
);

/** Each `'<word>'` string literal naming a subsystem, as `file:line 'word'` (exported for the check below). */
export function centralNames(file: string, text: string, words: readonly string[]): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (/^\s*(\/\/|\*|\/\*)/.test(line)) return; // comments may name them
    const code = line.replace(/typeof\s+[\w.?[\]]+\s*[!=]==?\s*'[a-z]+'/g, ''); // typeof x === 'object'
    for (const w of words) if (code.includes(`'${w}'`)) out.push(`${file}:${i + 1} '${w}'`);
  });
  return out;
}

describe('subsystems contribute instead of being listed centrally', () => {
  it('the scanner finds a central list (sanity: the old ALERT_SOURCES would fail)', () => {
    const old = "export const ALERT_SOURCES = [\n  'zfs',\n  'hardware',\n] as const;";
    assert.deepEqual(centralNames('agent/alert-rules.ts', old, subsystemWords), [
      "agent/alert-rules.ts:2 'zfs'",
      "agent/alert-rules.ts:3 'hardware'",
    ]);
    assert.ok(subsystemWords.includes('zfs') && subsystemWords.includes('notify'), subsystemWords.join());
  });

  it('no infrastructure file names a subsystem or its alert source', () => {
    const found = infraFiles
      .filter((f) => !ALLOWED.has(f))
      .flatMap((f) => centralNames(f, readFileSync(path.join(root, f), 'utf8'), subsystemWords));
    assert.deepEqual(found, []);
  });

  it('every standard subsystem that raises alerts declares its source', () => {
    const declared = SUBSYSTEMS.flatMap((s) => s.alertSources ?? []);
    for (const s of ['zfs', 'hardware', 'backup', 'tape', 'vtl', 'iscsi', 'object', 'release', 'notify'])
      assert.ok(declared.includes(s), `${s} is declared by its subsystem`);
  });

  it('the capability registry probes nothing until a subsystem declares it', async () => {
    const caps = new Capabilities(createRunner());
    assert.deepEqual(await caps.all(), []);
    caps.declare({ name: 'sh', bins: ['sh'] });
    assert.deepEqual(
      (await caps.all()).map((c) => [c.name, c.available]),
      [['sh', true]],
    );
    caps.stop();
  });

  it('the metrics exposition serves only the process and RPC families of its own', async () => {
    const m = createMetrics(
      () => [],
      () => readSources([]),
      Date.now,
    );
    m.observe('system.info', 0.001, true);
    const families = [...(await m.scrape()).matchAll(/^# TYPE (\S+)/gm)].map((x) => x[1]);
    assert.ok(families.length >= 5, families.join());
    for (const f of families) assert.match(f!, /^calypso_(process|rpc)_/);
  });
});
