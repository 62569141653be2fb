/** What the missed-schedule watch knows (agent/backup/schedule-watch.ts), as a method. */
import { Type } from '@sinclair/typebox';
import { type AnyMethodDef, defineMethod } from '../../rpc/registry.js';
import type { BackupContext } from './context.js';
import type { ScheduleWatch } from './schedule-watch.js';

export function scheduleMethods(_bctx: BackupContext, watch: ScheduleWatch): AnyMethodDef[] {
  return [
    defineMethod({
      name: 'backup.schedule.upcoming',
      summary:
        'Runs the director has announced (its next 24 hours, read again when older than a minute) that the agent watches: one not in the catalog backupMissedMinutes after its time raises backup.job.missed',
      params: Type.Object({}, { additionalProperties: false }),
      result: Type.Object({
        runs: Type.Array(
          Type.Object({
            job: Type.String(),
            level: Type.Optional(Type.String()),
            at: Type.String({ description: 'scheduled time (ISO 8601)' }),
          }),
        ),
        readAt: Type.Optional(Type.String({ description: 'when the director was last read' })),
        error: Type.Optional(Type.String({ description: 'why the last read failed, if it did' })),
      }),
      role: 'auditor',
      mutating: false,
      handler: async () => {
        await watch.fresh(60_000); // a page opened now shows what the director says now
        const w = watch.watched();
        return {
          ...w,
          runs: w.runs.map((r) => ({
            job: r.job,
            at: new Date(r.at).toISOString(),
            ...(r.level ? { level: r.level } : {}),
          })),
        };
      },
    }),
  ];
}
