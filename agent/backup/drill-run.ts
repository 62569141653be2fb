/**
 * One run of a restore drill (docs/drills.md): find the job's last successful backup and its
 * chain in the catalog, restore it (or a random sample of its files) to the appliance's own
 * file daemon into the drill's scratch directory, check every restored regular file against the
 * catalog signature, keep the report, raise or clear the drill's alert, remove the scratch.
 *
 * The scratch is one directory per drill (srv/calypso/cache/drills/<drill>): the drill's job
 * lock keeps two runs of a drill apart, and a fixed place lets the dry run show the exact
 * restore command the real run sends.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { conflict, invalid, notFound, RpcError } from '../../rpc/errors.js';
import type { DryRunPlan } from '../../rpc/registry.js';
import { type ConsoleCall, restoreAllCall, restoreTarget } from './console-commands.js';
import type { BackupContext } from './context.js';
import {
  type DrillRecord,
  type DrillStore,
  type FileResult,
  MAX_FILE_RESULTS,
  type Report,
} from './drill-model.js';
import {
  algorithmOf,
  type ChainRow,
  chainFilesSql,
  checkFile,
  type ExpectedFile,
  expectedFiles,
  lastBackupSql,
  sample,
  sampleable,
} from './drill-verify.js';
import { consolePlan, requireDaemons } from './methods-ops.js';
import { daemonNames } from './model.js';
import { RESTORE_JOB } from './render-dir.js';

export const drillAlertKey = (name: string) => `backup.drill.failed:${name}`;

export interface DrillEnv {
  bctx: BackupContext;
  store: DrillStore;
  /** parent of the drills' scratch directories */
  scratchRoot: string;
}

export const scratchOf = (env: DrillEnv, name: string) => path.join(env.scratchRoot, name);

interface Resolved {
  backupJobId: number;
  jobIds: number[];
  client: string;
  restoreClient: string;
  chosen: ExpectedFile[];
  total: number;
  unsigned: number;
}

/** The backup a drill restores and the files it checks, from the catalog. */
async function resolve(env: DrillEnv, d: DrillRecord, signal?: AbortSignal): Promise<Resolved> {
  const { bctx } = env;
  const def = bctx.store.load().jobs.find((j) => j.name === d.job);
  if (!def) throw notFound(`drill ${d.name}: backup job ${d.job} is not defined`, { job: d.job });
  if (def.type !== 'backup')
    throw invalid(`drill ${d.name}: job ${d.job} is a ${def.type} job, not a backup`);
  if (!bctx.catalog.exists())
    throw conflict(
      `drill ${d.name}: job ${d.job} has never run (no catalog yet); run it first with backup.run`,
    );
  const last = (await bctx.catalog.query<{ jobId: number }>(lastBackupSql(d.job), signal))[0];
  if (!last)
    throw conflict(
      `drill ${d.name}: job ${d.job} has no successful backup to restore; run it first with backup.run`,
      {
        job: d.job,
      },
    );
  const ops = bctx.ops();
  const src = await ops.job(Number(last.jobId), signal);
  const fd = daemonNames(bctx.store.settings()).fd;
  const jobIds = await ops.chain(src.jobId);
  const rows = await bctx.catalog.query<ChainRow>(chainFilesSql(jobIds), signal);
  const { files, unsigned } = expectedFiles(rows);
  const chosen = d.sample !== undefined ? sample(sampleable(files), d.sample) : files;
  return {
    backupJobId: src.jobId,
    jobIds,
    client: src.client ?? fd,
    restoreClient: fd,
    chosen,
    total: files.length,
    unsigned,
  };
}

function target(r: Resolved, where: string): string {
  return restoreTarget({
    client: r.client,
    restoreClient: r.restoreClient,
    restoreJob: RESTORE_JOB,
    where,
    replace: 'always',
  });
}

/** The dry run: the exact restore the run would send (a sample's file list is made at run time). */
export async function planDrill(env: DrillEnv, d: DrillRecord, signal?: AbortSignal): Promise<DryRunPlan> {
  const r = await resolve(env, d, signal);
  const where = scratchOf(env, d.name);
  const notes = [
    `backup job ${r.backupJobId} (chain ${r.jobIds.join(', ')}) restored to ${where} on ${r.restoreClient}`,
    `${r.chosen.length} of ${r.total} signed files compared with the catalog signatures; the scratch is removed after`,
  ];
  if (d.sample === undefined) return consolePlan(env.bctx, restoreAllCall(r.jobIds, target(r, where)), notes);
  // a sample: the director builds the list from FileIds in a scratch table (.bvfs_restore), as
  // backup.restore does for chosen files; the sample is drawn again at run time
  const call: ConsoleCall = { lines: [`restore file=?<table> ${target(r, where)} yes`], timeoutMs: 300_000 };
  return consolePlan(env.bctx, call, [
    ...notes,
    'first `.bvfs_restore path=<table> fileid=… jobid=…` builds the list of the sampled files',
  ]);
}

/** Run a drill: restore, compare, keep the report, raise or clear its alert. */
export async function runDrill(
  env: DrillEnv,
  d: DrillRecord,
  ctx: { signal: AbortSignal; progress(percent: number, description?: string): void },
): Promise<Report> {
  const { bctx } = env;
  const started = bctx.deps.clock.now();
  ctx.progress(0, `drill ${d.name}: reading the catalog`);
  const r = await resolve(env, d, ctx.signal);
  await requireDaemons(bctx, r.restoreClient);
  const where = scratchOf(env, d.name);
  await rm(where, { recursive: true, force: true });
  await mkdir(where, { recursive: true, mode: 0o700 });
  const results: FileResult[] = [];
  let restoreJobId: number | undefined;
  let restoreStatus = 'not started';
  try {
    const ops = bctx.ops();
    if (r.chosen.length > 0 || d.sample === undefined) {
      const s = await ops.startRestore({
        jobIds: r.jobIds,
        files: d.sample !== undefined ? r.chosen.map((f) => f.path) : undefined,
        where,
        client: r.client,
        restoreClient: r.restoreClient,
        replace: 'always',
      });
      restoreJobId = s.jobId;
      try {
        ctx.progress(0, `drill ${d.name}: bacula restore job ${s.jobId} queued`);
        const item = await ops.follow(
          s.jobId,
          { signal: ctx.signal, progress: (p, text) => ctx.progress(p * 0.7, text) },
          { client: r.restoreClient, totalBytes: s.totalBytes, verb: 'restoring' },
        );
        restoreStatus = item.status;
        if (item.status === 'aborted')
          throw new RpcError('aborted', `drill ${d.name}: bacula restore ${s.jobId} was cancelled`);
      } finally {
        if (s.cleanup) await ops.dropTable(s.cleanup);
      }
    }
    // even after a failed restore job every file is checked: the report names what is lost
    for (const [i, f] of r.chosen.entries()) {
      if (ctx.signal.aborted) throw new RpcError('aborted', `drill ${d.name} was cancelled`);
      results.push(await checkFile(where, f, ctx.signal));
      if (i % 50 === 0)
        ctx.progress(
          70 + (29 * i) / r.chosen.length,
          `drill ${d.name}: checked ${i} of ${r.chosen.length} files`,
        );
    }
  } finally {
    await rm(where, { recursive: true, force: true });
  }

  const bad = results.filter((x) => x.result !== 'ok');
  const restoreOk =
    restoreStatus === 'success' || restoreStatus === 'warning' || restoreStatus === 'not started';
  const passed = bad.length === 0 && restoreOk;
  const finished = bctx.deps.clock.now();
  const algorithm = r.chosen[0] ? (algorithmOf(r.chosen[0].sig) ?? 'unknown').toUpperCase() : 'none';
  const message = passed
    ? `${results.length} files restored from backup job ${r.backupJobId} match the catalog signatures`
    : `${bad.length} of ${results.length} files restored from backup job ${r.backupJobId} are missing or differ` +
      (restoreOk ? '' : `; the restore job ${restoreJobId ?? ''} ended ${restoreStatus}`);
  const report: Report = {
    id: String(started),
    at: new Date(started).toISOString(),
    result: passed ? 'passed' : 'failed',
    checked: results.length,
    failed: bad.length,
    drill: d.name,
    job: d.job,
    backupJobId: r.backupJobId,
    jobIds: r.jobIds,
    ...(restoreJobId !== undefined ? { restoreJobId } : {}),
    restoreStatus,
    algorithm,
    sampled: d.sample !== undefined,
    unsigned: r.unsigned,
    finishedAt: new Date(finished).toISOString(),
    durationMs: finished - started,
    scratch: where,
    message,
    files: [...bad, ...results.filter((x) => x.result === 'ok')].slice(0, MAX_FILE_RESULTS),
  };
  // a drill deleted while it ran keeps no report and raises nothing
  if (env.store.get(d.name)) {
    await env.store.addReport(report, d.keepReports);
    await raiseOrClear(env, d, report, bad);
  }
  ctx.progress(100, `drill ${d.name}: ${report.result}`);
  return report;
}

async function raiseOrClear(env: DrillEnv, d: DrillRecord, report: Report, bad: FileResult[]): Promise<void> {
  const alerts = env.bctx.deps.alerts;
  if (report.result === 'passed') {
    await alerts.clear(drillAlertKey(d.name));
    return;
  }
  const names = bad.slice(0, 20).map((f) => `${f.path} (${f.result})`);
  await alerts.raise({
    key: drillAlertKey(d.name),
    level: 'critical',
    source: 'backup',
    title: `restore drill ${d.name} failed: backup job ${d.job} does not restore intact`,
    detail:
      `${report.message}. ` +
      (names.length ? `Files: ${names.join(', ')}${bad.length > names.length ? ', …' : ''}. ` : '') +
      'Check the volumes (backup.volume.list) and the restore log (backup.history.log); the report is ' +
      'backup.drill.report.get. Run a new Full backup if the volume is damaged.',
    data: {
      drill: d.name,
      job: d.job,
      backupJobId: report.backupJobId,
      report: report.id,
      files: bad.slice(0, 100).map((f) => f.path),
    },
  });
}

/**
 * A drill as a job: the report on success; a failed drill fails its job with the report's
 * message, id and file names (the report is kept either way), so the jobs list shows it.
 */
export async function drillJob(
  env: DrillEnv,
  d: DrillRecord,
  ctx: { signal: AbortSignal; progress(percent: number, description?: string): void },
): Promise<Report> {
  const report = await runDrill(env, d, ctx);
  if (report.result === 'failed')
    throw new RpcError('failed', `drill ${d.name}: ${report.message}`, {
      drill: d.name,
      report: report.id,
      files: report.files
        .filter((f) => f.result !== 'ok')
        .slice(0, 100)
        .map((f) => f.path),
    });
  return report;
}
