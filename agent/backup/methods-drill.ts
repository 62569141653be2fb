/**
 * Restore drill methods (docs/drills.md): backup.drill.list/get/create/delete (the resource),
 * backup.drill.run (a job with progress; the dry run shows the exact restore) and
 * backup.drill.report.get.
 */
import { Type } from '@sinclair/typebox';
import { conflict, invalid, notFound } from '../../rpc/errors.js';
import { defineMethod } from '../../rpc/registry.js';
import { mutation, resourceMethods } from '../config-set/resource.js';
import { parseCron } from '../util/cron.js';
import type { BackupContext } from './context.js';
import {
  type Drill,
  DrillName,
  type DrillRecord,
  DrillSchema,
  DrillSpec,
  ReportSchema,
  summaryOf,
} from './drill-model.js';
import { type DrillEnv, drillAlertKey, drillJob, planDrill, scratchOf } from './drill-run.js';
import { drillLock, nextDrillRun } from './drill-scheduler.js';

const DEFAULT_KEEP = 10;

export function drillMethods(bctx: BackupContext, env: DrillEnv) {
  const { store } = env;
  const view = (d: DrillRecord): Drill => {
    const last = store.reports(d.name)[0];
    const next = nextDrillRun(d, bctx.deps.clock.now());
    const { createdAt, ...rest } = d;
    return {
      ...rest,
      createdAt: new Date(createdAt).toISOString(),
      ...(last ? { last: summaryOf(last) } : {}),
      ...(next !== undefined ? { nextRun: new Date(next).toISOString() } : {}),
    };
  };

  return [
    ...resourceMethods({
      prefix: 'backup.drill',
      listSummary: 'Restore drills with their last result and next scheduled run',
      label: 'restore drill',
      item: DrillSchema,
      key: { field: 'name', schema: DrillName },
      list: () => store.list().map(view),
      mutations: {
        create: mutation({
          summary:
            "Create a restore drill for a backup job: on its schedule (cron, UTC) the job's last backup (or a sample of N files) is restored to a scratch directory and checked against the catalog signatures",
          params: DrillSpec,
          result: DrillSchema,
          handler: async (p, ctx) => {
            if (p.schedule !== undefined) {
              try {
                parseCron(p.schedule);
              } catch (err) {
                throw invalid(`schedule: ${(err as Error).message}`, { schedule: p.schedule });
              }
            }
            const job = bctx.store.load().jobs.find((j) => j.name === p.job);
            if (!job) throw notFound(`backup job ${p.job} is not defined`, { job: p.job });
            if (job.type !== 'backup')
              throw invalid(`job ${p.job} is a ${job.type} job; a drill restores a backup job`, {
                job: p.job,
              });
            const rec: DrillRecord = {
              name: p.name,
              job: p.job,
              ...(p.schedule !== undefined ? { schedule: p.schedule } : {}),
              ...(p.sample !== undefined ? { sample: p.sample } : {}),
              keepReports: p.keepReports ?? DEFAULT_KEEP,
              enabled: p.enabled ?? true,
              createdAt: bctx.deps.clock.now(),
            };
            if (ctx.dryRun) {
              if (store.get(p.name)) throw conflict(`drill ${p.name} already exists`, { name: p.name });
              return { dryRun: true, commands: [], notes: [`store config drill/${p.name}`] };
            }
            await store.create(rec);
            return view(rec);
          },
        }),
        delete: mutation({
          summary: 'Delete a restore drill, its reports and its alert (backups are not touched)',
          params: Type.Object({ name: DrillName }, { additionalProperties: false }),
          result: Type.Object({}),
          handler: async (p, ctx) => {
            store.mustGet(p.name);
            if (ctx.dryRun)
              return {
                dryRun: true,
                commands: [],
                notes: [
                  `delete config drill/${p.name} and its reports; clear alert ${drillAlertKey(p.name)}`,
                ],
              };
            await store.delete(p.name);
            await bctx.deps.alerts.clear(drillAlertKey(p.name));
            return {};
          },
        }),
      },
    }),

    defineMethod({
      name: 'backup.drill.run',
      summary:
        'Run a restore drill now: restore, compare every restored file with its catalog signature, keep the report; a failure raises backup.drill.failed',
      description:
        'The job fails when the drill fails (files missing or different, or the restore job failed); the report ' +
        'is kept either way (backup.drill.report.get). The dry run shows the exact bconsole restore.',
      params: Type.Object({ name: DrillName }, { additionalProperties: false }),
      result: ReportSchema,
      role: 'operator',
      mutating: true,
      job: { lock: (p) => drillLock(p.name), title: (p) => `drill ${p.name}` },
      handler: async (p, ctx) => {
        const d = store.mustGet(p.name);
        if (ctx.dryRun) return planDrill(env, d, ctx.signal);
        ctx.auditDetail?.({ scratch: scratchOf(env, d.name) });
        return drillJob(env, d, ctx);
      },
    }),

    defineMethod({
      name: 'backup.drill.report.get',
      summary: "A drill's report with its per-file results: the latest, or one by id",
      params: Type.Object(
        {
          name: DrillName,
          id: Type.Optional(
            Type.String({ pattern: '^\\d{1,15}$', description: 'report id; default the latest' }),
          ),
        },
        { additionalProperties: false },
      ),
      result: ReportSchema,
      role: 'auditor',
      mutating: false,
      handler: async (p) => {
        store.mustGet(p.name);
        const all = store.reports(p.name);
        const r = p.id === undefined ? all[0] : all.find((x) => x.id === p.id);
        if (!r)
          throw notFound(
            p.id === undefined ? `drill ${p.name} has not run yet` : `drill ${p.name} has no report ${p.id}`,
            { name: p.name },
          );
        return r;
      },
    }),
  ];
}
