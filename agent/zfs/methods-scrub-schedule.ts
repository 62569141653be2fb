/** Scrub schedule methods: `pool.scrub.schedule.list`, `.set` (create or replace), `.delete`. */
import { Type } from '@sinclair/typebox';
import { invalid, notFound } from '../../rpc/errors.js';
import { mutation, resourceMethods } from '../config-set/resource.js';
import { nextScheduledRun } from '../util/cron-ticker.js';
import type { ZfsContext } from './context.js';
import { CRON_PATTERN, parseCron } from './cron.js';
import { PoolName } from './names.js';
import type { ScrubScheduleRecord, ScrubScheduleStore } from './scrub-schedule.js';

const ScheduleSchema = Type.Object({
  pool: Type.String(),
  schedule: Type.String({ description: 'cron expression (UTC)' }),
  enabled: Type.Boolean(),
  createdAt: Type.Number(),
  updatedAt: Type.Number(),
  lastSlot: Type.Optional(Type.Number()),
  lastStart: Type.Optional(
    Type.Object(
      {
        at: Type.Number(),
        job: Type.Optional(Type.String({ description: 'the pool.scrub job it started' })),
        error: Type.Optional(Type.String({ description: 'why it did not start' })),
      },
      { description: 'the last scheduled start' },
    ),
  ),
  nextRun: Type.Optional(Type.Number({ description: 'next scheduled run (ms since the epoch)' })),
});

export function scrubScheduleMethods(z: ZfsContext, store: ScrubScheduleStore) {
  const withNext = (r: ScrubScheduleRecord) => {
    const next = nextScheduledRun(r, z.deps.clock.now());
    return next === undefined ? r : { ...r, nextRun: next };
  };
  const key = (pool: string) => `config zfs/scrub-schedule/${pool}`;
  return resourceMethods({
    prefix: 'pool.scrub.schedule',
    listSummary: 'Scrub schedules per pool with their last scheduled start and next run',
    label: 'scrub schedule',
    item: ScheduleSchema,
    key: { field: 'pool', schema: PoolName },
    writeRole: 'operator',
    list: () => store.list().map(withNext),
    mutations: {
      set: mutation({
        summary:
          'Create or replace the scrub schedule of a pool (cron, UTC): zpool scrub on the agent’s cron loop',
        params: Type.Object(
          {
            pool: PoolName,
            schedule: Type.String({
              pattern: CRON_PATTERN,
              maxLength: 100,
              examples: ['0 3 * * 0'],
              errorMessage:
                'a schedule is five cron fields (minute hour day month weekday, UTC) or @daily/@weekly/@monthly',
              description:
                'cron expression in UTC (minute hour day-of-month month day-of-week) or @daily/@weekly/@monthly',
            }),
            enabled: Type.Optional(Type.Boolean({ description: 'default true' })),
          },
          { additionalProperties: false },
        ),
        result: ScheduleSchema,
        handler: async (p, ctx) => {
          try {
            parseCron(p.schedule);
          } catch (err) {
            throw invalid(`schedule: ${(err as Error).message}`, { schedule: p.schedule });
          }
          await z.ready();
          await z.driver.poolStatus(p.pool, { signal: ctx.signal, timeoutMs: z.options.statusTimeoutMs });
          if (ctx.dryRun) return { dryRun: true, commands: [], notes: [`store ${key(p.pool)}`] };
          const now = z.deps.clock.now();
          let rec: ScrubScheduleRecord | undefined;
          await store.write(() => {
            const old = store.get(p.pool);
            rec = {
              pool: p.pool,
              schedule: p.schedule,
              enabled: p.enabled ?? true,
              createdAt: old?.createdAt ?? now,
              updatedAt: now,
              ...(old?.lastSlot !== undefined ? { lastSlot: old.lastSlot } : {}),
              ...(old?.lastStart ? { lastStart: old.lastStart } : {}),
            };
            return rec;
          });
          return withNext(rec!);
        },
      }),
      delete: mutation({
        summary: 'Delete the scrub schedule of a pool (a scrub running goes on)',
        params: Type.Object({ pool: PoolName }, { additionalProperties: false }),
        result: Type.Object({}),
        handler: async (p, ctx) => {
          if (!store.get(p.pool)) throw notFound(`pool ${p.pool} has no scrub schedule`, { pool: p.pool });
          if (ctx.dryRun) return { dryRun: true, commands: [], notes: [`delete ${key(p.pool)}`] };
          await store.delete(p.pool);
          return {};
        },
      }),
    },
  });
}
