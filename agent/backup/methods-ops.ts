/**
 * Operations: backup.run / backup.cancel / backup.restore (jobs with progress), the catalog
 * views backup.history / backup.history.get / backup.history.log / backup.files, volumes and
 * daemon status. The director being down or Bacula missing is `unavailable` with the reason.
 */

import { Type } from '@sinclair/typebox';
import { invalid, notFound, RpcError, unavailable } from '../../rpc/errors.js';
import { type AnyMethodDef, type CallContext, type DryRunPlan, defineMethod } from '../../rpc/registry.js';
import { jobEndAlert } from './alerts.js';
import { bconsoleArgv, probeTcp } from './bconsole.js';
import { JobItemSchema, JobStatusSchema } from './catalog-schemas.js';
import { type BrowseRow, browseSql, fileEntry } from './catalog-sql.js';
import { type ConsoleCall, cancelCall, restoreAllCall, restoreTarget, runCall } from './console-commands.js';
import type { BackupContext } from './context.js';
import { AbsPath, BaculaName, daemonNames, LevelSchema } from './model.js';
import { checkConsoleValue } from './ops.js';
import { builtinClient, RESTORE_JOB } from './render-dir.js';
import { checkRestore, DEFAULT_RESTORE_ROOTS, restoreRefusalFromParams } from './restore-policy.js';

/** ISO 8601 date or date-time (the registry's validator knows no `format`s). */
const ISO_DATE = '^\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2})?)?$';
const DATE_WORDS = 'a date is YYYY-MM-DD, optionally with a time: 2026-12-06 or 2026-12-06T14:30:00Z';
const JobIdParam = Type.Integer({ minimum: 1, description: 'Bacula JobId (from backup.history)' });
const FileEntrySchema = Type.Object({
  name: Type.String(),
  path: Type.String({ description: 'absolute path as in the catalog (directories end with /)' }),
  type: Type.String({ description: 'file, dir, link, fifo, socket, block, char, other' }),
  fileId: Type.Optional(Type.Integer()),
  size: Type.Optional(Type.Number()),
  mode: Type.Optional(Type.Integer({ description: 'permission bits' })),
  uid: Type.Optional(Type.Integer()),
  gid: Type.Optional(Type.Integer()),
  mtime: Type.Optional(Type.String()),
  hardLink: Type.Optional(Type.Boolean()),
});
export const VolumeName = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,126}$',
  description: 'volume name',
});
export const Message = Type.Object({ message: Type.String({ description: 'what Bacula said' }) });

/**
 * A dry run of one console session: the exact bconsole argv (its `-u` timeout included) and the
 * lines, from the same builders the real run uses (console-commands.ts).
 */
export function consolePlan(bctx: BackupContext, call: ConsoleCall, notes?: string[]): DryRunPlan {
  return {
    dryRun: true,
    commands: [bconsoleArgv(bctx.paths.bconsoleConf, call.timeoutMs)],
    console: [...call.lines, ...(call.answers ?? [])],
    ...(notes ? { notes } : {}),
  };
}

/** The director must run; the job's client and the storage daemon too (else the director waits for minutes). */
export async function requireDaemons(bctx: BackupContext, clientName?: string): Promise<void> {
  await bctx.requireTools('bconsole');
  await bctx.bconsole().requireUp();
  const state = bctx.store.load();
  const s = state.settings;
  const sd = await probeTcp(s.address, s.sdPort);
  if (!sd.ok)
    throw unavailable(`bacula storage daemon is not reachable (${sd.reason})`, { daemon: 'bacula-sd' });
  if (clientName) {
    const c = [builtinClient(state), ...state.clients].find((x) => x.name === clientName);
    if (c) {
      const fd = await probeTcp(c.address, c.port);
      if (!fd.ok)
        throw unavailable(`file daemon ${c.name} is not reachable (${fd.reason})`, {
          daemon: 'bacula-fd',
          client: c.name,
        });
    }
  }
}

export function opsMethods(bctx: BackupContext): AnyMethodDef[] {
  // a client's restore roots (restore-policy.ts)
  const rootsOf = (name: string) =>
    bctx.store.load().clients.find((c) => c.name === name)?.restoreRoots ?? DEFAULT_RESTORE_ROOTS;
  const runParams = Type.Object(
    {
      job: BaculaName,
      level: Type.Optional(LevelSchema),
      pool: Type.Optional(BaculaName),
      estimate: Type.Optional(
        Type.Boolean({
          description: 'ask the client for an estimate first, for a percentage (default true)',
        }),
      ),
    },
    { additionalProperties: false },
  );
  const restoreParams = Type.Object(
    {
      jobId: JobIdParam,
      where: AbsPath,
      files: Type.Optional(
        Type.Array(AbsPath, {
          maxItems: 10000,
          description: 'paths to restore (directories end with /); default: everything',
        }),
      ),
      client: Type.Optional(BaculaName),
      replace: Type.Optional(
        Type.Union(
          ['always', 'ifnewer', 'ifolder', 'never'].map((r) => Type.Literal(r)),
          { description: 'default always' },
        ),
      ),
      chain: Type.Optional(
        Type.Boolean({
          description:
            'restore the state at that job: its Full plus Differential/Incrementals (default true)',
        }),
      ),
    },
    { additionalProperties: false },
  );
  return [
    defineMethod({
      name: 'backup.run',
      summary: 'Run a defined job now and follow it to its end (files, bytes, rate as progress).',
      params: runParams,
      result: JobItemSchema,
      role: 'operator',
      mutating: true,
      job: { lock: (p) => `backup.run:${p.job}`, title: (p) => `backup ${p.job}` },
      handler: async (p, ctx: CallContext) => {
        const job = bctx.store.load().jobs.find((j) => j.name === p.job);
        if (!job) throw notFound(`job ${p.job} is not defined`);
        if (job.type === 'restore') throw invalid(`job ${p.job} is a restore job; use backup.restore`);
        if (ctx.dryRun)
          return consolePlan(bctx, runCall({ job: p.job, level: p.level, pool: p.pool }), [
            'before it, a read-only `estimate` session sizes the job for the progress percentage',
          ]);
        await requireDaemons(bctx, job.client);
        const ops = bctx.ops();
        const est =
          job.type === 'backup' && p.estimate !== false
            ? await ops.estimate(p.job, p.level, ctx.signal)
            : undefined;
        if (ctx.signal.aborted) throw new RpcError('aborted', 'aborted before the job started');
        const jobId = await ops.start({ job: p.job, level: p.level, pool: p.pool });
        ctx.progress(0, `bacula job ${jobId} queued`);
        const item = await ops.follow(jobId, ctx, {
          client: job.client,
          totalBytes: est?.bytes,
          verb: 'backing up',
        });
        const end = { jobId, name: item.name, status: item.status };
        bctx.deps.events.publish('backup.finished', end);
        await jobEndAlert(bctx.deps.alerts, end).catch((err) =>
          bctx.deps.log.error({ err, job: item.name }, 'backup: raising the job alert failed'),
        );
        if (item.status === 'aborted')
          throw new RpcError('aborted', `bacula job ${jobId} was cancelled`, { jobId });
        if (item.status !== 'success' && item.status !== 'warning') {
          const tail = (await ops.log(jobId).catch(() => [])).slice(-3).map((l) => l.text.trim());
          throw new RpcError('failed', `bacula job ${jobId} ended ${item.status} (${item.statusCode})`, {
            jobId,
            log: tail,
          });
        }
        return item;
      },
    }),
    defineMethod({
      name: 'backup.cancel',
      summary: 'Cancel a running Bacula job; it ends `aborted` and the catalog stays consistent.',
      params: Type.Object({ jobId: JobIdParam }, { additionalProperties: false }),
      result: Message,
      role: 'operator',
      mutating: true,
      handler: async (p, ctx) => {
        if (ctx.dryRun) return consolePlan(bctx, cancelCall(p.jobId));
        await bctx.requireTools('bconsole');
        return { message: await bctx.ops().cancel(p.jobId) };
      },
    }),
    defineMethod({
      name: 'backup.history',
      summary: 'Jobs of the catalog, newest first, paged and filtered.',
      params: Type.Object(
        {
          offset: Type.Optional(Type.Integer({ minimum: 0, description: 'default 0' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'default 50' })),
          name: Type.Optional(BaculaName),
          client: Type.Optional(BaculaName),
          type: Type.Optional(
            Type.Union(
              ['backup', 'restore', 'verify', 'copy', 'migrate', 'admin'].map((t) => Type.Literal(t)),
              {
                description: 'job type',
              },
            ),
          ),
          level: Type.Optional(LevelSchema),
          status: Type.Optional(
            Type.Array(JobStatusSchema, { maxItems: 9, description: 'any of these status groups' }),
          ),
          since: Type.Optional(
            Type.String({
              pattern: ISO_DATE,
              description: 'scheduled at or after (ISO 8601)',
              errorMessage: DATE_WORDS,
            }),
          ),
          until: Type.Optional(
            Type.String({
              pattern: ISO_DATE,
              description: 'scheduled before (ISO 8601)',
              errorMessage: DATE_WORDS,
            }),
          ),
          order: Type.Optional(
            Type.Union([Type.Literal('asc'), Type.Literal('desc')], {
              description: 'by JobId; default desc',
            }),
          ),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({ items: Type.Array(JobItemSchema), total: Type.Integer() }),
      role: 'auditor',
      mutating: false,
      handler: async (p, ctx) => {
        const epoch = (s: string | undefined, what: string) => {
          if (s === undefined) return undefined;
          const t = Date.parse(s);
          if (Number.isNaN(t)) throw invalid(`${what}: not a date-time`);
          return Math.floor(t / 1000);
        };
        return bctx.ops().history(
          {
            offset: p.offset ?? 0,
            limit: p.limit ?? 50,
            name: p.name,
            client: p.client,
            type: p.type as never,
            level: p.level,
            status: p.status?.filter((s) => s !== 'unknown') as never,
            since: epoch(p.since, 'since'),
            until: epoch(p.until, 'until'),
            order: p.order,
          },
          ctx.signal,
        );
      },
    }),
    defineMethod({
      name: 'backup.history.get',
      summary: 'One job of the catalog.',
      params: Type.Object({ jobId: JobIdParam }, { additionalProperties: false }),
      result: JobItemSchema,
      role: 'auditor',
      mutating: false,
      handler: async (p, ctx) => bctx.ops().job(p.jobId, ctx.signal),
    }),
    defineMethod({
      name: 'backup.history.log',
      summary: 'The messages Bacula logged for a job (catalog Log table).',
      params: Type.Object({ jobId: JobIdParam }, { additionalProperties: false }),
      result: Type.Object({ items: Type.Array(Type.Object({ time: Type.String(), text: Type.String() })) }),
      role: 'auditor',
      mutating: false,
      handler: async (p) => ({
        items: (await bctx.ops().log(p.jobId)).map((l) => ({ time: String(l.time), text: l.text })),
      }),
    }),
    defineMethod({
      name: 'backup.files',
      summary: "Browse one directory level of a job's catalog (sub-directories first, then files).",
      params: Type.Object(
        {
          jobId: JobIdParam,
          path: Type.Optional(
            Type.Unsafe<string>({ ...AbsPath, description: 'directory to list; default /' }),
          ),
          offset: Type.Optional(Type.Integer({ minimum: 0, description: 'skip this many entries' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'default 200' })),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({ path: Type.String(), items: Type.Array(FileEntrySchema), total: Type.Integer() }),
      role: 'auditor',
      mutating: false,
      handler: async (p, ctx) => {
        await bctx.ops().job(p.jobId, ctx.signal);
        const dir = (p.path ?? '/').endsWith('/') ? (p.path ?? '/') : `${p.path}/`;
        const rows = await bctx.catalog.query<BrowseRow>(
          browseSql(p.jobId, dir, p.offset ?? 0, p.limit ?? 200),
          ctx.signal,
        );
        return { path: dir, items: rows.map((r) => fileEntry(dir, r)), total: Number(rows[0]?.total ?? 0) };
      },
    }),
    defineMethod({
      name: 'backup.restore',
      summary: 'Restore a whole job or chosen files to a path, as a job with progress.',
      description:
        'Files are resolved in the catalog first (unknown paths are `not_found`); directories end with / and ' +
        'bring everything below them. With `chain` (default) the state at that job is restored. ' +
        'An operator restores only into the restore client’s `restoreRoots`, never to / nor to the appliance ' +
        'itself (admin); on the appliance no part of `where` may be a symbolic link.',
      params: restoreParams,
      result: JobItemSchema,
      role: 'operator',
      mutating: true,
      job: {
        lock: (p) => `backup.restore:${p.where}`,
        title: (p) => `restore job ${p.jobId} to ${p.where}`,
        // what the params decide (over /, a named client outside its roots) needs no catalog
        refuse: (p, identity) =>
          restoreRefusalFromParams({
            role: identity.role,
            where: p.where,
            client: p.client,
            applianceFd: daemonNames(bctx.store.settings()).fd,
            rootsOf,
          }),
      },
      handler: async (p, ctx) => {
        checkConsoleValue('where', p.where);
        const ops = bctx.ops();
        const src = await ops.job(p.jobId, ctx.signal);
        if (src.type !== 'backup') throw invalid(`job ${p.jobId} is a ${src.type} job, not a backup`);
        const client = src.client ?? daemonNames(bctx.store.settings()).fd;
        const restoreClient = p.client ?? client;
        // who may restore where (restore-policy.ts): the dry run is refused alike
        await checkRestore({
          role: ctx.identity.role,
          where: p.where,
          restoreClient,
          applianceFd: daemonNames(bctx.store.settings()).fd,
          roots: rootsOf(restoreClient),
        });
        if (ctx.dryRun && !p.files?.length) {
          // the same read (the job chain) and builders as the real run, so the plan is exact
          const jobIds = p.chain === false ? [p.jobId] : await ops.chain(p.jobId);
          const target = restoreTarget({
            client,
            restoreClient,
            restoreJob: RESTORE_JOB,
            where: p.where,
            replace: p.replace ?? 'always',
          });
          return consolePlan(bctx, restoreAllCall(jobIds, target));
        }
        if (ctx.dryRun) {
          // selected files: the restore list is built by the director in a scratch table from
          // file ids resolved at run time, so the plan shows the shape of the two lines
          const target = restoreTarget({
            client,
            restoreClient,
            restoreJob: RESTORE_JOB,
            where: p.where,
            replace: p.replace ?? 'always',
          });
          return consolePlan(bctx, { lines: [`restore file=?<table> ${target} yes`], timeoutMs: 300_000 }, [
            'first `.bvfs_restore path=<table> fileid=… jobid=…` builds the list of the selected files',
          ]);
        }
        await requireDaemons(bctx, restoreClient);
        const jobIds = p.chain === false ? [p.jobId] : await ops.chain(p.jobId);
        const started = await ops.startRestore({
          jobIds,
          files: p.files,
          where: p.where,
          client,
          restoreClient,
          replace: p.replace ?? 'always',
        });
        try {
          ctx.progress(0, `bacula restore job ${started.jobId} queued`);
          const item = await ops.follow(started.jobId, ctx, {
            client: restoreClient,
            totalBytes: started.totalBytes,
            verb: 'restoring',
          });
          if (item.status === 'aborted')
            throw new RpcError('aborted', `bacula restore ${started.jobId} was cancelled`);
          if (item.status !== 'success' && item.status !== 'warning') {
            throw new RpcError(
              'failed',
              `bacula restore ${started.jobId} ended ${item.status} (${item.statusCode})`,
              {
                jobId: started.jobId,
              },
            );
          }
          if (!p.files?.length && restoreClient === daemonNames(bctx.store.settings()).fd) {
            await ops.fixDirTimes(jobIds, p.where);
          }
          return item;
        } finally {
          if (started.cleanup) await ops.dropTable(started.cleanup);
        }
      },
    }),
  ];
}
