/**
 * Dry run = real run, the one comparison every subsystem's table uses: call a mutating method
 * with `dryRun`, then for real, and check that the argv the real run sent through the runner
 * (recorded, reads left out by the caller's filter) are the plan's commands in order, and that
 * the files the real run changed are the plan's files.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { TestAgent } from '../helpers/agent.js';
import type { FakeRunner } from '../helpers/fake-runner.js';

export interface Plan {
  dryRun: true;
  commands?: string[][];
  files?: { path: string; diff: string }[];
  console?: string[];
}

function snapshot(dir: string, out = new Map<string, string>()): Map<string, string> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const p = path.join(dir, n);
    const st = statSync(p);
    if (st.isDirectory()) snapshot(p, out);
    else if (st.isFile()) out.set(p, readFileSync(p, 'utf8'));
  }
  return out;
}

export interface CompareOptions {
  /** which recorded argv count as the method's commands (default: all) */
  commands?: (argv: string[]) => boolean;
  /** directories whose files the plan's `files` describe (default: etc/calypso/system) */
  dirs?: string[];
}

/** Returns the plan and the real result. */
export async function dryEqualsReal(
  a: TestAgent,
  runner: Pick<FakeRunner, 'calls' | 'clear'>,
  method: string,
  params: Record<string, unknown>,
  o: CompareOptions = {},
): Promise<{ plan: Plan; result: unknown }> {
  const dirs = o.dirs ?? [path.dirname(a.deps.layout.generated('x'))];
  const keep = o.commands ?? (() => true);
  const filesBefore = new Map(dirs.flatMap((d) => [...snapshot(d)]));
  runner.clear();
  const plan = await a.call<Plan>(method, { ...params, dryRun: true });
  assert.equal(plan.dryRun, true, `${method}: a dry run answers with a plan`);
  const dryCalls = runner.calls.filter(keep);
  assert.deepEqual(dryCalls, [], `${method}: the dry run ran nothing (${JSON.stringify(dryCalls)})`);
  const filesAfterDry = new Map(dirs.flatMap((d) => [...snapshot(d)]));
  assert.deepEqual(filesAfterDry, filesBefore, `${method}: the dry run wrote nothing`);

  runner.clear();
  let result = await a.call<unknown>(method, params);
  const job = (result as { job?: string } | undefined)?.job;
  if (typeof job === 'string' && Object.keys(result as object).length === 1) {
    const rec = await a.waitJob(job);
    assert.equal(rec.state, 'success', `${method}: ${JSON.stringify(rec.error)}`);
    result = rec.result;
  }
  const ran = runner.calls.filter(keep);
  assert.deepEqual(ran, plan.commands ?? [], `${method}: the real run sent exactly the plan's commands`);

  const filesAfter = new Map(dirs.flatMap((d) => [...snapshot(d)]));
  const changed = [...new Set([...filesBefore.keys(), ...filesAfter.keys()])]
    .filter((p) => filesBefore.get(p) !== filesAfter.get(p))
    .sort();
  assert.deepEqual(
    changed,
    (plan.files ?? []).map((f) => f.path).sort(),
    `${method}: the real run changed exactly the plan's files`,
  );
  return { plan, result };
}
