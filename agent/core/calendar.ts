/**
 * `maintenance.calendar`: what runs when, what ran, what failed — the scheduled items every
 * subsystem contributes (agent/calendar-registry.ts), merged and sorted by next run. A source
 * that cannot answer is listed under `errors` by name; the others still answer.
 */
import { Type } from '@sinclair/typebox';
import { listResult } from '../../rpc/list.js';
import { type AnyMethodDef, defineMethod } from '../../rpc/registry.js';
import type { CalendarEntry } from '../calendar-registry.js';
import type { AgentDeps } from '../deps.js';

const Entry = Type.Object({
  source: Type.String({ description: 'what kind of item (`backup.drill`): the contributing source' }),
  id: Type.String({ description: 'the item within its source (a drill name)' }),
  title: Type.String(),
  schedule: Type.Optional(Type.String({ description: 'cron (UTC) or words; absent: by hand only' })),
  enabled: Type.Boolean(),
  nextRun: Type.Optional(Type.String({ description: 'ISO 8601' })),
  lastRun: Type.Optional(
    Type.Object({
      at: Type.String({ description: 'ISO 8601' }),
      result: Type.Union([Type.Literal('success'), Type.Literal('failed')]),
      summary: Type.Optional(Type.String()),
    }),
  ),
});

export function calendarMethods(deps: AgentDeps): AnyMethodDef[] {
  return [
    defineMethod({
      name: 'maintenance.calendar',
      summary:
        'Scheduled maintenance on one list (restore drills, scrub and SMART self-test schedules): what runs when, what ran and how it ended, soonest first',
      params: Type.Object(
        {
          failed: Type.Optional(Type.Boolean({ description: 'only items whose last run failed' })),
        },
        { additionalProperties: false },
      ),
      result: listResult(Entry, {
        errors: Type.Array(Type.Object({ source: Type.String(), error: Type.String() }), {
          description: 'sources that could not answer',
        }),
      }),
      role: 'auditor',
      mutating: false,
      handler: async (p) => {
        const now = deps.clock.now();
        const items: (CalendarEntry & { source: string })[] = [];
        const errors: { source: string; error: string }[] = [];
        for (const s of deps.calendar.list()) {
          try {
            for (const e of await s.entries(now)) items.push({ source: s.name, ...e });
          } catch (err) {
            errors.push({ source: s.name, error: err instanceof Error ? err.message : String(err) });
          }
        }
        const shown = p.failed ? items.filter((e) => e.lastRun?.result === 'failed') : items;
        // soonest first; items without a next run (by hand only, disabled) last, by source and id
        const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
        shown.sort(
          (a, b) =>
            (a.nextRun === undefined ? 1 : 0) - (b.nextRun === undefined ? 1 : 0) ||
            cmp(a.nextRun ?? '', b.nextRun ?? '') ||
            cmp(a.source, b.source) ||
            cmp(a.id, b.id),
        );
        return { items: shown, total: shown.length, errors };
      },
    }),
  ];
}
