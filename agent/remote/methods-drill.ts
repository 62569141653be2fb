/**
 * replication.drill.run (a job, under the task's lock) and replication.drill.report.get: replica drills
 * of replication tasks (drill.ts). A task's `drillSchedule` runs the drill on the cron loop (scheduler.ts).
 */
import { Type } from '@sinclair/typebox';
import { notFound } from '../../rpc/errors.js';
import { defineMethod } from '../../rpc/registry.js';
import { DEFAULT_LIMITS, type DrillEnv, DrillReportSchema, runDrill } from './drill.js';
import { MAX_LIMITS } from './manifest.js';
import { TaskId } from './model.js';
import { taskLock } from './run.js';

export function drillMethods(env: DrillEnv) {
  return [
    defineMethod({
      name: 'replication.drill.run',
      summary:
        'Run a replica drill of a replication task (job): each dataset’s last common snapshot cloned at both ends, its files compared (paths, sizes, SHA-256)',
      description:
        'The source side is read here through the ZFS port, the remote side through its guard (`calypso drill-manifest`); ' +
        'the clones are destroyed after the walk, also when it fails. The job fails when a file is missing, extra or ' +
        'different, raising the critical alert replication.drill:<task> that names the files; the report is kept ' +
        'either way (replication.drill.report.get). The dry run is the plan: the argv of both ends.',
      params: Type.Object(
        {
          task: TaskId,
          maxFiles: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: MAX_LIMITS.maxFiles,
              description: `entries walked per dataset at most (default ${DEFAULT_LIMITS.maxFiles})`,
            }),
          ),
          maxBytes: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: MAX_LIMITS.maxBytes,
              description: `bytes hashed per dataset at most (default ${DEFAULT_LIMITS.maxBytes})`,
            }),
          ),
        },
        { additionalProperties: false },
      ),
      result: DrillReportSchema,
      role: 'operator',
      mutating: true,
      job: { lock: (p) => taskLock(p.task), title: (p) => `replica drill of replication task ${p.task}` },
      handler: (p, ctx) =>
        runDrill(
          env,
          p.task,
          {
            maxFiles: p.maxFiles ?? DEFAULT_LIMITS.maxFiles,
            maxBytes: p.maxBytes ?? DEFAULT_LIMITS.maxBytes,
          },
          ctx,
        ),
    }),
    defineMethod({
      name: 'replication.drill.report.get',
      summary: 'A replica drill’s report with its differences: the latest, or one by id',
      params: Type.Object(
        {
          task: TaskId,
          id: Type.Optional(
            Type.String({ pattern: '^\\d{1,15}$', description: 'report id; default the latest' }),
          ),
        },
        { additionalProperties: false },
      ),
      result: DrillReportSchema,
      role: 'auditor',
      mutating: false,
      handler: async (p) => {
        const all = env.reports.list(p.task);
        const r = p.id === undefined ? all[0] : all.find((x) => x.id === p.id);
        if (!r)
          throw notFound(
            p.id === undefined
              ? `replication task ${p.task} has no replica drill report`
              : `replica drill report ${p.id} of ${p.task} does not exist`,
            { task: p.task },
          );
        return r;
      },
    }),
  ];
}
