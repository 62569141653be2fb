/**
 * Replica drills (docs/replication.md, "Replica drills"): for a replication task, each dataset's last
 * common snapshot is cloned at both ends, walked into a manifest (paths, sizes, SHA-256; manifest.ts:
 * here through the ZFS_SEND port, at the remote through its guard's `calypso drill-manifest`), the clones
 * destroyed, and the two manifests compared (a volume: its clone's whole device hashed, manifest.ts). The report is kept in LMDB (`history` db,
 * `replica-drill/<task>/<15-digit ms>`, the last 10); a failure is a critical alert naming the files.
 * A drill takes the task's lock: it never runs beside the task's own run.
 */
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import type { Database } from 'lmdb';
import { conflict, failed, notFound } from '../../rpc/errors.js';
import { ZFS_SEND } from '../zfs/port.js';
import type { RemoteContext } from './context.js';
import type { End } from './ends.js';
import {
  compareManifests,
  DEFAULT_LIMITS,
  type Limits,
  type Manifest,
  makeManifest,
  manifestArgv,
} from './manifest.js';
import type { TaskRecord } from './model.js';
import { endsOf, type RunContext } from './run.js';

export const KEEP_REPORTS = 10;
/** differences kept in a report at most */
export const MAX_DIFFERENCES = 1000;
export const drillAlertKey = (id: string) => `replication.drill:${id}`;

export const DifferenceSchema = Type.Object({
  dataset: Type.String({ description: 'the source dataset' }),
  path: Type.String({ description: 'below the dataset’s root (empty: a volume itself, its whole device)' }),
  result: Type.Union([Type.Literal('missing'), Type.Literal('extra'), Type.Literal('different')], {
    description: 'missing from the replica, extra in it, or different (type, size or SHA-256)',
  }),
  detail: Type.Optional(Type.String()),
});
export const DrillReportSchema = Type.Object({
  id: Type.String({ description: 'report id (the run start, ms since the epoch)' }),
  task: Type.String(),
  at: Type.String({ description: 'ISO 8601' }),
  finishedAt: Type.String(),
  durationMs: Type.Integer(),
  result: Type.Union([Type.Literal('passed'), Type.Literal('failed')]),
  checked: Type.Integer({ description: 'entries (files, directories, symlinks) compared' }),
  failed: Type.Integer({ description: 'entries missing, extra or different' }),
  datasets: Type.Array(
    Type.Object({
      source: Type.String(),
      target: Type.String(),
      snapshot: Type.String({ description: 'the last common snapshot compared' }),
      files: Type.Integer(),
      bytes: Type.Integer(),
    }),
  ),
  differences: Type.Array(DifferenceSchema, { description: `at most ${MAX_DIFFERENCES}` }),
  message: Type.String(),
});
export type DrillReport = typeof DrillReportSchema.static;

const REPORTS = (task: string) => `replica-drill/${task}/`;

export class DrillReports {
  constructor(private history: Database) {}
  async add(r: DrillReport): Promise<void> {
    const prefix = REPORTS(r.task);
    await this.history.transaction(() => {
      this.history.put(`${prefix}${r.id.padStart(15, '0')}`, r);
      const keys = [...this.history.getKeys({ start: prefix, end: `${prefix}\uffff` })];
      for (const k of keys.slice(0, Math.max(0, keys.length - KEEP_REPORTS))) this.history.remove(k);
    });
  }
  /** newest first */
  list(task: string): DrillReport[] {
    const prefix = REPORTS(task);
    return [...this.history.getRange({ start: prefix, end: `${prefix}\uffff` })]
      .map((e) => e.value as DrillReport)
      .reverse();
  }
  async delete(task: string): Promise<void> {
    const prefix = REPORTS(task);
    await this.history.transaction(() => {
      for (const k of this.history.getKeys({ start: prefix, end: `${prefix}\uffff` })) this.history.remove(k);
    });
  }
}

interface Pair {
  source: string;
  target: string;
  snapshot: string;
}

/** Each dataset of the task with its last common snapshot (recursive: every dataset the task holds one for). */
export function drillPairs(t: TaskRecord): Pair[] {
  const commons = t.commons ?? (t.common ? { '': t.common } : {});
  const pairs = Object.entries(commons)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([rel, snapshot]) => ({ source: `${t.source}${rel}`, target: `${t.target}${rel}`, snapshot }));
  if (!pairs.length)
    throw conflict(
      `replication task ${t.id} has no common snapshot yet: run it first (replication.task.run)`,
      {
        id: t.id,
      },
    );
  return pairs;
}

/**
 * The argv a manifest takes at one end: here the clone, its mount lookup and its destroy (a volume's
 * snapshot, read here with its volsize: its clone, then its device hashed, then the destroy); at a
 * remote, the guard call.
 */
async function planAt(
  x: RemoteContext,
  end: End,
  t: TaskRecord,
  snapshot: string,
  limits: Limits,
  signal: AbortSignal,
): Promise<string[][]> {
  if (end.remote) return [end.argv(manifestArgv.guard(snapshot, limits))];
  const { clone, at } = localClone(x, t, snapshot);
  const size = await end.run(manifestArgv.volsize(snapshot), signal, [0, 1, 2]);
  if (/^\d+$/.test(size.stdout.trim()))
    return [manifestArgv.cloneVolume(snapshot, clone), manifestArgv.destroy(clone)];
  return [manifestArgv.clone(snapshot, clone, at), manifestArgv.where(clone), manifestArgv.destroy(clone)];
}

/** here: the clone in the snapshot's pool, named after the task (its lock makes it one at a time) */
function localClone(x: RemoteContext, t: TaskRecord, snapshot: string) {
  const leaf = `calypso-drill-${t.id}`;
  return {
    clone: `${snapshot.split('/')[0]!.split('@')[0]}/${leaf}`,
    at: path.join(x.deps.layout.stateDir, 'remote', 'drill', leaf),
  };
}

async function manifestAt(
  x: RemoteContext,
  end: End,
  t: TaskRecord,
  snapshot: string,
  limits: Limits,
  signal: AbortSignal,
): Promise<Manifest> {
  if (!end.remote) {
    const { clone, at } = localClone(x, t, snapshot);
    try {
      return await makeManifest((a, ok) => end.run(a, signal, ok), snapshot, clone, at, limits);
    } catch (err) {
      throw failed(`the manifest of ${snapshot} (${end.where}): ${(err as Error).message}`);
    }
  }
  const res = await end.run(manifestArgv.guard(snapshot, limits), signal, [0, 1, 126, 127]);
  if (res.code !== 0)
    throw failed(
      `the manifest of ${snapshot} (${end.where}): ${res.stderr.trim().replace(/^calypso: /, '')}`,
    );
  try {
    return JSON.parse(res.stdout) as Manifest;
  } catch {
    throw failed(`${end.where} answered the manifest of ${snapshot} with something other than JSON`);
  }
}

export interface DrillEnv {
  x: RemoteContext;
  reports: DrillReports;
}

/** replication.drill.run: the dry run is the plan (the argv of both ends), the run keeps a report. */
export async function runDrill(env: DrillEnv, id: string, limits: Limits, ctx: RunContext) {
  const { x } = env;
  const { deps } = x;
  const t = x.store.task(id);
  if (!t) throw notFound(`replication task ${id} does not exist`, { id });
  const r = x.mustGet(t.remote);
  const pairs = drillPairs(t);
  await deps.ports.need(ZFS_SEND).require();
  const [src, dst] = endsOf(x, t, r);
  if (ctx.dryRun)
    return {
      dryRun: true as const,
      commands: (
        await Promise.all(
          pairs.map(async (p) => [
            ...(await planAt(x, src, t, `${p.source}@${p.snapshot}`, limits, ctx.signal)),
            ...(await planAt(x, dst, t, `${p.target}@${p.snapshot}`, limits, ctx.signal)),
          ]),
        )
      ).flat(),
      notes: [
        ...pairs.map((p) => `${p.source} against ${p.target} at @${p.snapshot}`),
        `each snapshot cloned read-only, walked (at most ${limits.maxFiles} files, ${limits.maxBytes} bytes), the clone destroyed; the manifests compared`,
        `a volume's snapshot: its clone's device /dev/zvol/<clone> hashed whole (SHA-256; its volsize at most ${limits.maxBytes} bytes)`,
      ],
    };
  await x.materialize(r);
  const started = deps.clock.now();
  const datasets: DrillReport['datasets'] = [];
  const differences: DrillReport['differences'] = [];
  let checked = 0;
  for (const [i, p] of pairs.entries()) {
    ctx.progress((i / pairs.length) * 100, `${p.source}@${p.snapshot}`);
    const mine = await manifestAt(x, src, t, `${p.source}@${p.snapshot}`, limits, ctx.signal);
    const theirs = await manifestAt(x, dst, t, `${p.target}@${p.snapshot}`, limits, ctx.signal);
    checked += mine.entries.length;
    datasets.push({ ...p, files: mine.files, bytes: mine.bytes });
    differences.push(
      ...compareManifests(mine.entries, theirs.entries).map((d) => ({ dataset: p.source, ...d })),
    );
  }
  const bad = differences.length;
  // a volume's one entry has no path: the dataset names it
  const names = differences
    .slice(0, 20)
    .map((d) => `${d.dataset}${d.path ? `: ${d.path}` : ''} (${d.result})`);
  const report: DrillReport = {
    id: String(started),
    task: t.id,
    at: new Date(started).toISOString(),
    finishedAt: new Date(deps.clock.now()).toISOString(),
    durationMs: deps.clock.now() - started,
    result: bad ? 'failed' : 'passed',
    checked,
    failed: bad,
    datasets,
    differences: differences.slice(0, MAX_DIFFERENCES),
    message: bad
      ? `${bad} of ${checked} entries differ between the source and the replica: ${names.join('; ')}${bad > 20 ? '; …' : ''}`
      : `${checked} entries of ${pairs.length} dataset(s) agree between the source and the replica`,
  };
  await env.reports.add(report);
  ctx.progress(100, report.message);
  if (bad) {
    await deps.alerts.raise({
      key: drillAlertKey(t.id),
      level: 'critical',
      source: 'replication',
      title: `replica drill of replication task ${t.id}: ${bad} file(s) differ`,
      detail: report.message,
    });
    throw failed(`replica drill of ${t.id} failed (report ${report.id}): ${report.message}`, {
      report: report.id,
      files: differences.slice(0, 100).map((d) => (d.path ? `${d.dataset}/${d.path}` : d.dataset)),
    });
  }
  await deps.alerts.clear(drillAlertKey(t.id));
  return report;
}

export { DEFAULT_LIMITS };
