/** SMART self-test schedule methods: `disk.selftest.schedule.list`, `.set`, `.delete`. */
import { Type } from '@sinclair/typebox';
import { DiskIdSchema } from '../../probes/schemas.js';
import { notFound } from '../../rpc/errors.js';
import { mutation, resourceMethods } from '../config-set/resource.js';
import type { AgentDeps } from '../deps.js';
import * as cron from '../util/cron-schedule.js';
import { type SelfTestEnv, type SelfTestScheduleRecord, scheduleKey } from './selftest-schedule.js';

const TestType = Type.Union([Type.Literal('short'), Type.Literal('long')], { description: 'self-test type' });

const ScheduleSchema = cron.scheduleItem(
  { disk: Type.String({ description: 'the disk’s stable id' }), type: TestType },
  {
    lastJob: Type.Optional(
      Type.String({ description: 'the disk.selftest job the last scheduled run started' }),
    ),
    lastRun: Type.Optional(
      Type.Object(
        {
          at: Type.String({ description: 'ISO 8601' }),
          result: Type.Union([Type.Literal('success'), Type.Literal('failed')]),
          summary: Type.Optional(
            Type.String({ description: 'the newest self-test log entry, or why it failed' }),
          ),
        },
        { description: 'how the last scheduled run ended' },
      ),
    ),
  },
);

export function selfTestScheduleMethods(deps: AgentDeps, env: SelfTestEnv) {
  const { store } = env;
  const withNext = (r: SelfTestScheduleRecord) => cron.withNextRun(r, deps.clock.now());
  return resourceMethods({
    prefix: 'disk.selftest.schedule',
    listSummary: 'SMART self-test schedules per disk with their last result and next run',
    label: 'SMART self-test schedule',
    item: ScheduleSchema,
    listParams: Type.Object({ disk: Type.Optional(DiskIdSchema) }, { additionalProperties: false }),
    writeRole: 'operator',
    list: (p) => {
      const id = p.disk === undefined ? undefined : env.findDisk(p.disk).id;
      return store
        .list()
        .filter((r) => id === undefined || r.disk === id)
        .map(withNext);
    },
    mutations: {
      set: mutation({
        summary:
          'Create or replace a SMART self-test schedule of a disk (short or long, cron in UTC): smartctl -t on the agent’s cron loop',
        params: cron.scheduleSetParams({ disk: DiskIdSchema, type: TestType }),
        result: ScheduleSchema,
        handler: async (p, ctx) => {
          cron.checkCronSchedule(p.schedule);
          const d = env.findDisk(p.disk);
          if (ctx.dryRun)
            return { dryRun: true, commands: [], notes: [`store config ${scheduleKey(d.id, p.type)}`] };
          const now = deps.clock.now();
          let rec: SelfTestScheduleRecord | undefined;
          await store.write(() => {
            const fields = { disk: d.id, type: p.type, schedule: p.schedule, enabled: p.enabled };
            rec = cron.setScheduleRecord(store.get(d.id, p.type), fields, now);
            return rec;
          });
          return withNext(rec!);
        },
      }),
      delete: mutation({
        summary: 'Delete a SMART self-test schedule of a disk (a test running goes on)',
        params: Type.Object({ disk: DiskIdSchema, type: TestType }, { additionalProperties: false }),
        result: Type.Object({}),
        handler: async (p, ctx) => {
          // a disk gone from the machine is named by the id its schedule keeps
          let id = p.disk;
          if (!store.get(id, p.type)) {
            try {
              id = env.findDisk(p.disk).id;
            } catch {
              /* not a known disk: not found below */
            }
          }
          if (!store.get(id, p.type))
            throw notFound(`disk ${p.disk} has no ${p.type} self-test schedule`, {
              disk: p.disk,
              type: p.type,
            });
          if (ctx.dryRun)
            return { dryRun: true, commands: [], notes: [`delete config ${scheduleKey(id, p.type)}`] };
          await store.delete(id, p.type);
          return {};
        },
      }),
    },
  });
}
