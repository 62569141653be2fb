/** Scrub schedule methods: `pool.scrub.schedule.list`, `.set` (create or replace), `.delete`. */
import { Type } from '@sinclair/typebox';
import { notFound } from '../../rpc/errors.js';
import { mutation, resourceMethods } from '../config-set/resource.js';
import * as cron from '../util/cron-schedule.js';
import type { ZfsContext } from './context.js';
import { PoolName } from './names.js';
import {
  ScrubScheduleSchema as ScheduleSchema,
  type ScrubScheduleRecord,
  type ScrubScheduleStore,
} from './scrub-schedule.js';

export function scrubScheduleMethods(z: ZfsContext, store: ScrubScheduleStore) {
  const withNext = (r: ScrubScheduleRecord) => cron.withNextRun(r, z.deps.clock.now());
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
        params: cron.scheduleSetParams({ pool: PoolName }),
        result: ScheduleSchema,
        handler: async (p, ctx) => {
          cron.checkCronSchedule(p.schedule);
          await z.ready();
          await z.driver.poolStatus(p.pool, { signal: ctx.signal, timeoutMs: z.options.statusTimeoutMs });
          if (ctx.dryRun) return { dryRun: true, commands: [], notes: [`store ${key(p.pool)}`] };
          const now = z.deps.clock.now();
          let rec: ScrubScheduleRecord | undefined;
          await store.write(() => {
            const fields = { pool: p.pool, schedule: p.schedule, enabled: p.enabled };
            rec = cron.setScheduleRecord(store.get(p.pool), fields, now);
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
