/**
 * Alert rules (alert.rules / alert.rules.set): thresholds the checks compare against and the
 * sources whose alerts are not raised. Stored in LMDB beside the alerts (key `rules`). The
 * sources are not listed here: each subsystem declares its own (`Subsystem.alertSources`), the
 * agent gathers them into `deps.alertSources`, and the schemas are built from that list.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** The core's own alert source (the audit log's chain check, agent/core/audit.ts). */
export const CORE_ALERT_SOURCES = ['audit'] as const;

/** One of the given sources. */
export function sourceSchema(sources: readonly string[]) {
  return Type.Union(sources.map((s) => Type.Literal(s)));
}

const Percent = (d: number, description: string) =>
  Type.Integer({ minimum: 1, maximum: 100, default: d, description });

export const ThresholdsSchema = Type.Object(
  {
    poolCapacityWarning: Percent(80, 'pool capacity (%) at which a warning is raised'),
    poolCapacityCritical: Percent(90, 'pool capacity (%) at which it becomes critical'),
    scrubAgeDays: Type.Integer({
      minimum: 1,
      maximum: 365,
      default: 35,
      description: 'days since the last finished scrub before a warning',
    }),
    diskTemperatureC: Type.Integer({
      minimum: 30,
      maximum: 90,
      default: 55,
      description: 'SMART temperature (°C) at which a disk warning is raised',
    }),
    reallocatedSectors: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 1,
      description: 'reallocated sectors at which a disk warning is raised',
    }),
    objectQuotaPercent: Percent(90, 'bucket usage (% of its quota) at which a warning is raised'),
    backupMissedMinutes: Type.Integer({
      minimum: 1,
      maximum: 1440,
      default: 60,
      description: 'minutes after its scheduled time before a Bacula run that has not started is missed',
    }),
  },
  { additionalProperties: false, default: {} },
);

/** The rules' schema over the agent's alert sources. */
export function rulesSchema(sources: readonly string[]) {
  return Type.Object(
    {
      disabledSources: Type.Array(sourceSchema(sources), {
        maxItems: sources.length,
        uniqueItems: true,
        default: [],
        description: 'sources whose alerts are not raised (their open alerts are cleared)',
      }),
      thresholds: ThresholdsSchema,
    },
    { additionalProperties: false, default: {} },
  );
}
export type Thresholds = Static<typeof ThresholdsSchema>;
export interface Rules {
  disabledSources: string[];
  thresholds: Thresholds;
}

export function defaultRules(): Rules {
  return { disabledSources: [], thresholds: Value.Default(ThresholdsSchema, {}) as Thresholds };
}

/** Rules merged with a partial change; thresholds keep the ones not given. */
export function mergeRules(
  cur: Rules,
  change: { disabledSources?: string[]; thresholds?: Partial<Rules['thresholds']> },
): Rules {
  return {
    disabledSources: change.disabledSources ?? cur.disabledSources,
    thresholds: { ...cur.thresholds, ...change.thresholds },
  };
}

/** What a schema cannot say, one sentence each. */
export function checkRules(r: Rules): string[] {
  const p: string[] = [];
  if (r.thresholds.poolCapacityWarning >= r.thresholds.poolCapacityCritical)
    p.push(
      `the pool capacity warning (${r.thresholds.poolCapacityWarning} %) must be below the critical level (${r.thresholds.poolCapacityCritical} %)`,
    );
  return p;
}
