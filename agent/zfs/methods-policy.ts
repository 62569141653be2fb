/** Snapshot policy methods: list, set (create or replace), delete, run now. */
import { Type } from '@sinclair/typebox';
import { invalid, notFound } from '../../rpc/errors.js';
import { defineMethod } from '../../rpc/registry.js';
import { mutation, resourceMethods } from '../config-set/resource.js';
import type { ZfsContext } from './context.js';
import { nextRun, parseCron } from './cron.js';
import { getDataset } from './methods-dataset.js';
import { DatasetName } from './names.js';
import { checkNaming, DEFAULT_NAMING, PolicyId, type PolicyRecord, PolicySpec } from './policy.js';
import { type PolicyScheduler, type PolicyStore, planPolicy } from './policy-runner.js';

const RunResult = Type.Object({
  created: Type.Optional(Type.String({ description: 'the snapshot taken' })),
  destroyed: Type.Array(Type.String(), { description: 'snapshots pruned by retention' }),
  errors: Type.Array(Type.String()),
});

const PolicySchema = Type.Object({
  ...PolicySpec.properties,
  naming: Type.String(),
  recursive: Type.Boolean(),
  enabled: Type.Boolean(),
  createdAt: Type.Number(),
  updatedAt: Type.Number(),
  lastSlot: Type.Optional(Type.Number()),
  lastRun: Type.Optional(Type.Object({ ...RunResult.properties, time: Type.Number() })),
  nextRun: Type.Optional(Type.Number({ description: 'next scheduled run (ms since the epoch)' })),
});

export function policyMethods(z: ZfsContext, store: PolicyStore, scheduler: PolicyScheduler) {
  const withNext = (p: PolicyRecord) => {
    const next = p.enabled ? nextRun(parseCron(p.schedule), z.deps.clock.now()) : undefined;
    return next === undefined ? p : { ...p, nextRun: next };
  };
  const mustGet = (id: string) => {
    const p = store.get(id);
    if (!p) throw notFound(`snapshot policy ${id} does not exist`, { id });
    return p;
  };

  return [
    ...resourceMethods({
      prefix: 'snapshot.policy',
      listSummary: 'Periodic snapshot policies with their last and next run',
      label: 'snapshot policy',
      item: PolicySchema,
      listParams: Type.Object({ dataset: Type.Optional(DatasetName) }, { additionalProperties: false }),
      list: (p) =>
        store
          .list()
          .filter((x) => !p.dataset || x.dataset === p.dataset)
          .map(withNext),
      mutations: {
        set: mutation({
          summary:
            'Create or replace a periodic snapshot policy (schedule in UTC, retention by count and age)',
          params: PolicySpec,
          result: PolicySchema,
          handler: async (p, ctx) => {
            try {
              parseCron(p.schedule);
            } catch (err) {
              throw invalid(`schedule: ${(err as Error).message}`, { schedule: p.schedule });
            }
            const naming = p.naming ?? DEFAULT_NAMING;
            const bad = checkNaming(naming);
            if (bad) throw invalid(bad, { naming });
            if (p.retention.count === undefined && p.retention.maxAgeSeconds === undefined) {
              throw invalid('retention needs a count, a maximum age, or both');
            }
            await z.ready();
            await getDataset(z, p.dataset);
            const now = z.deps.clock.now();
            const old = store.get(p.id);
            const rec: PolicyRecord = {
              ...p,
              naming,
              recursive: p.recursive ?? false,
              enabled: p.enabled ?? true,
              createdAt: old?.createdAt ?? now,
              updatedAt: now,
              ...(old?.lastSlot !== undefined ? { lastSlot: old.lastSlot } : {}),
              ...(old?.lastRun ? { lastRun: old.lastRun } : {}),
            };
            if (ctx.dryRun) return { dryRun: true, commands: [], notes: [`store config zfs/policy/${p.id}`] };
            await store.put(rec, ctx);
            return withNext(rec);
          },
        }),

        delete: mutation({
          summary: 'Delete a snapshot policy (its snapshots stay)',
          params: Type.Object({ id: PolicyId }, { additionalProperties: false }),
          result: Type.Object({}),
          handler: async (p, ctx) => {
            mustGet(p.id);
            if (ctx.dryRun)
              return { dryRun: true, commands: [], notes: [`delete config zfs/policy/${p.id}`] };
            await store.delete(p.id, ctx);
            return {};
          },
        }),
      },
    }),

    defineMethod({
      name: 'snapshot.policy.run',
      summary: 'Run a policy now: take its snapshot and prune by retention',
      params: Type.Object({ id: PolicyId }, { additionalProperties: false }),
      result: RunResult,
      role: 'operator',
      mutating: true,
      handler: async (p, ctx) => {
        const policy = mustGet(p.id);
        await z.ready();
        if (ctx.dryRun) {
          const plan = await planPolicy(z, policy, z.deps.clock.now());
          return { dryRun: true, commands: [...(plan.create ? [plan.create] : []), ...plan.destroy] };
        }
        return scheduler.runAndRecord(policy, z.deps.clock.now());
      },
    }),
  ];
}
