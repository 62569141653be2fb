/**
 * replication.task.create / update / list / get / delete / run: push a dataset's snapshots to a
 * remote, or pull a remote's here; on demand, on a schedule or after a snapshot policy's new
 * snapshot (scheduler.ts). A run is a job (run.ts).
 */
import { type Static, Type } from '@sinclair/typebox';
import { conflict, invalid, notFound } from '../../rpc/errors.js';
import { defineMethod } from '../../rpc/registry.js';
import { mutation, resourceMethods } from '../config-set/resource.js';
import { parseCron } from '../util/cron.js';
import type { RemoteContext } from './context.js';
import { type DrillReports, drillAlertKey } from './drill.js';
import { underPrefix } from './guard.js';
import {
  ChildRunSchema,
  RemoteDataset,
  RemoteName,
  type RemoteRecord,
  TaskId,
  TaskOptions,
  type TaskRecord,
  TaskSchema,
} from './model.js';
import { holdTag, remoteArgv } from './push.js';
import { alertKey, endsOf, poolFullKey, runTask, taskLock, tolerant } from './run.js';

const RunResult = Type.Object({
  id: Type.String(),
  direction: Type.Optional(Type.String()),
  mode: Type.String({ description: 'full, incremental, resume or none (up to date), of the task’s dataset' }),
  snapshot: Type.Optional(Type.String()),
  from: Type.Optional(Type.String()),
  bytes: Type.Integer({ description: 'bytes of the streams sent' }),
  estimate: Type.Integer({ description: 'estimated bytes before the run (0: unknown, a pull)' }),
  resumeTokens: Type.Boolean({ description: 'the receiving ZFS keeps resume tokens' }),
  guidsMatch: Type.Boolean(),
  notes: Type.Array(Type.String()),
  children: Type.Optional(
    Type.Array(ChildRunSchema, { description: 'each dataset sent (recursive: the descendants too)' }),
  ),
  pruned: Type.Optional(
    Type.Object(
      { source: Type.Array(Type.String()), target: Type.Array(Type.String()) },
      { description: 'snapshots retention destroyed on each side' },
    ),
  ),
});

type Options = { [K in keyof typeof TaskOptions]?: Static<(typeof TaskOptions)[K]> };

/** The checks create and update share: the remote side under the prefix, a valid schedule. */
function checkTask(r: RemoteRecord, p: { source: string; target: string } & Options) {
  const there = p.direction === 'pull' ? p.source : p.target;
  const field = p.direction === 'pull' ? 'source' : 'target';
  if (!underPrefix(there, r.prefix) || there === r.prefix)
    throw invalid(`the ${field} must be below ${r.prefix}, the prefix ${r.name} allows this key`, {
      [field]: there,
    });
  if (p.schedule) {
    try {
      parseCron(p.schedule);
    } catch (err) {
      throw invalid(`schedule: ${(err as Error).message}`, { schedule: p.schedule });
    }
  }
  if (p.drillSchedule) {
    try {
      parseCron(p.drillSchedule);
    } catch (err) {
      throw invalid(`drillSchedule: ${(err as Error).message}`, { drillSchedule: p.drillSchedule });
    }
  }
  if (p.onSnapshotPolicy && p.direction === 'pull')
    throw invalid('onSnapshotPolicy: a pull task runs on a schedule (the policy is on the other appliance)');
}

export function taskMethods(x: RemoteContext, drillReports: DrillReports) {
  const { deps, store } = x;
  const mustTask = (id: string) => {
    const t = store.task(id);
    if (!t) throw notFound(`replication task ${id} does not exist`, { id });
    return t;
  };
  /** the release of every hold the task has (each dataset's last common snapshot, both sides) */
  const releases = (t: TaskRecord) => {
    const tag = holdTag(t.id);
    const commons = t.commons ?? (t.common ? { '': t.common } : {});
    const [src, dst] = endsOf(x, t, x.mustGet(t.remote));
    return Object.entries(commons).flatMap(([rel, snap]) => [
      { end: src, argv: remoteArgv.release(tag, `${t.source}${rel}@${snap}`) },
      { end: dst, argv: remoteArgv.release(tag, `${t.target}${rel}@${snap}`) },
    ]);
  };

  return [
    ...resourceMethods({
      prefix: 'replication.task',
      listSummary:
        'Replication tasks (push to or pull from remotes), with their schedule, last run and last common snapshot',
      label: 'replication task',
      item: TaskSchema,
      key: { field: 'id', schema: TaskId },
      list: () => store.tasks(),
      mutations: {
        create: mutation({
          summary:
            'Create a replication task: push a local dataset to a dataset under the remote’s prefix, or pull one from there',
          params: Type.Object(
            {
              id: TaskId,
              remote: RemoteName,
              source: RemoteDataset,
              target: RemoteDataset,
              ...TaskOptions,
            },
            { additionalProperties: false },
          ),
          result: TaskSchema,
          handler: async (p, ctx) => {
            const r = x.mustGet(p.remote);
            checkTask(r, p);
            if (store.task(p.id)) throw conflict(`replication task ${p.id} exists already`, { id: p.id });
            const clash = store.tasks().find((t) => t.remote === p.remote && t.target === p.target);
            if (clash) throw conflict(`task ${clash.id} already replicates into ${p.target} on ${p.remote}`);
            const rec: TaskRecord = { ...p, direction: p.direction ?? 'push', createdAt: deps.clock.now() };
            if (ctx.dryRun) return { dryRun: true, commands: [], notes: [`stores task ${p.id}`] };
            await store.putTask(rec);
            return rec;
          },
        }),
        update: mutation({
          summary:
            'Change a replication task’s schedule, policy trigger, retention, bandwidth limit, replica drill schedule or enabled',
          params: Type.Object(
            {
              id: TaskId,
              schedule: Type.Optional(Type.Union([TaskOptions.schedule, Type.Null()])),
              onSnapshotPolicy: Type.Optional(Type.Union([TaskOptions.onSnapshotPolicy, Type.Null()])),
              enabled: TaskOptions.enabled,
              retention: Type.Optional(Type.Union([TaskOptions.retention, Type.Null()])),
              bandwidthLimit: Type.Optional(Type.Union([TaskOptions.bandwidthLimit, Type.Null()])),
              drillSchedule: Type.Optional(Type.Union([TaskOptions.drillSchedule, Type.Null()])),
            },
            { additionalProperties: false, description: 'null removes a setting' },
          ),
          result: TaskSchema,
          handler: async (p, ctx) => {
            const t = mustTask(p.id);
            const { id: _id, ...change } = p;
            const apply = (cur: TaskRecord): TaskRecord => {
              const next: Record<string, unknown> = { ...cur };
              for (const [k, v] of Object.entries(change)) {
                if (v === null) delete next[k];
                else if (v !== undefined) next[k] = v;
              }
              return next as TaskRecord;
            };
            const next = apply(t);
            checkTask(x.mustGet(t.remote), next);
            if (ctx.dryRun) return { dryRun: true, commands: [], notes: [`changes task ${p.id}`] };
            await store.updateTask(p.id, apply);
            return mustTask(p.id);
          },
        }),
        delete: mutation({
          summary:
            'Delete a replication task; its holds on the last common snapshots are released on both sides, its replica drill reports deleted',
          params: Type.Object({ id: TaskId }, { additionalProperties: false }),
          result: Type.Object({ id: Type.String(), notes: Type.Array(Type.String()) }),
          handler: async (p, ctx) => {
            const t = mustTask(p.id);
            const rel = releases(t);
            if (ctx.dryRun)
              return {
                dryRun: true,
                commands: rel.map((h) => h.end.argv(h.argv)),
                notes: [`removes task ${t.id}`],
              };
            const notes: string[] = [];
            for (const h of rel) {
              const res = await h.end
                .run(h.argv, AbortSignal.timeout(x.cfg.commandTimeoutSec * 1000), [0, 1])
                .catch((e: Error) => ({ code: 255, stderr: e.message }));
              if (res.code !== 0 && !tolerant(res.stderr))
                notes.push(
                  `the hold on ${h.argv.at(-1)} stays (${h.end.where}; release it there): ${res.stderr.trim()}`,
                );
            }
            await store.deleteTask(t.id);
            await deps.alerts.clear(alertKey(t.id));
            await deps.alerts.clear(poolFullKey(t.id));
            await drillReports.delete(t.id);
            await deps.alerts.clear(drillAlertKey(t.id));
            return { id: t.id, notes };
          },
        }),
      },
    }),
    defineMethod({
      name: 'replication.task.run',
      summary: 'Run a replication task now (job): full, incremental from the last common snapshot, or resume',
      description:
        'The dry run shows the argv of both ends: zfs send at the source, zfs receive at the target (ssh … for ' +
        'the remote end), then the holds and retention’s destroys. A broken run resumes from the target’s token ' +
        'where the receiving ZFS keeps one (OpenZFS) and the sender may send by token (a push, or a pull whose remote guard says so), else the next run ' +
        'restarts from the last common snapshot (the answer says which, per dataset). After the run the GUIDs of ' +
        'both ends are compared; a mismatch fails the run and raises an alert. A full receiving pool is its own ' +
        'error and alert.',
      params: Type.Object({ id: TaskId }, { additionalProperties: false }),
      result: RunResult,
      role: 'operator',
      mutating: true,
      job: { lock: (p) => taskLock(p.id), title: (p) => `replication task ${p.id}` },
      handler: (p, ctx) => runTask(x, p.id, ctx),
    }),
  ];
}
