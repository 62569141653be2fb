/**
 * What every `*.schedule` resource shares (scrub schedules, SMART self-test schedules): the
 * `schedule` parameter of its `.set` and the plain refusal of a schedule that does not parse, the
 * fields every stored schedule record has, the record a `.set` writes (created time and run
 * history kept), the next run its `.list` adds, and the start of a due run as the method's own job.
 */
import { type TProperties, Type } from '@sinclair/typebox';
import { invalid, RpcError } from '../../rpc/errors.js';
import type { JobManager, JobRunContext } from '../jobs.js';
import { CRON_PATTERN, parseCron } from './cron.js';
import { type CronRecord, nextScheduledRun } from './cron-ticker.js';

/** The `schedule` parameter of a `.set`: five cron fields (UTC) or @daily/@weekly/@monthly. */
export const CronScheduleParam = Type.String({
  pattern: CRON_PATTERN,
  maxLength: 100,
  examples: ['0 3 * * 0'],
  errorMessage:
    'a schedule is five cron fields (minute hour day month weekday, UTC) or @daily/@weekly/@monthly',
  description:
    'cron expression in UTC (minute hour day-of-month month day-of-week) or @daily/@weekly/@monthly',
});

/** The `.set` parameters: the resource's key fields, the schedule, and `enabled` (default true). */
export const scheduleSetParams = <K extends TProperties>(key: K) =>
  Type.Object(
    {
      ...key,
      schedule: CronScheduleParam,
      enabled: Type.Optional(Type.Boolean({ description: 'default true' })),
    },
    { additionalProperties: false },
  );

/** Refuse a schedule that does not parse, in plain words (nothing is changed). */
export function checkCronSchedule(schedule: string): void {
  try {
    parseCron(schedule);
  } catch (err) {
    throw invalid(`schedule: ${(err as Error).message}`, { schedule });
  }
}

/** A stored schedule record's item schema: the resource's own fields, then the common ones. */
export const scheduleItem = <K extends TProperties, R extends TProperties>(key: K, rest: R) =>
  Type.Object({
    ...key,
    schedule: Type.String({ description: 'cron expression (UTC)' }),
    enabled: Type.Boolean(),
    createdAt: Type.Number(),
    updatedAt: Type.Number(),
    lastSlot: Type.Optional(Type.Number()),
    ...rest,
    nextRun: Type.Optional(Type.Number({ description: 'next scheduled run (ms since the epoch)' })),
  });

export interface ScheduleRecordBase extends CronRecord {
  schedule: string;
  createdAt: number;
  updatedAt: number;
}

/** The record a `.set` stores: the new schedule over the old record (created time and history kept). */
export function setScheduleRecord<T extends ScheduleRecordBase>(
  old: T | undefined,
  fields: Omit<T, keyof ScheduleRecordBase> & { schedule: string; enabled?: boolean | undefined },
  now: number,
): T {
  return {
    ...(old ?? {}),
    ...fields,
    enabled: fields.enabled ?? true,
    createdAt: old?.createdAt ?? now,
    updatedAt: now,
  } as T;
}

/** `r` with its next run (ms since the epoch) when it is enabled and its schedule parses. */
export function withNextRun<T extends CronRecord>(r: T, now: number): T & { nextRun?: number } {
  const next = nextScheduledRun(r, now);
  return next === undefined ? r : { ...r, nextRun: next };
}

/** How starting a due run went: its job, or why it did not start (`busy`: a run was in progress). */
export type ScheduledStart = { job: string } | { busy: boolean; error: string };

/** Start a due run as the method's own job (same lock as a run by hand, so never two at once). */
export function startScheduledJob(
  jobs: JobManager,
  spec: { method: string; lock: string; title: string },
  run: (ctx: JobRunContext) => Promise<unknown>,
): ScheduledStart {
  try {
    return { job: jobs.start({ ...spec, user: 'calypso-scheduler' }, run) };
  } catch (err) {
    return { busy: err instanceof RpcError && err.kind === 'busy', error: (err as Error).message };
  }
}
