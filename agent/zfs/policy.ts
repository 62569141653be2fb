/**
 * Periodic snapshot policies: per dataset a cron schedule (UTC), a naming template and retention by
 * count and age. Persisted in the LMDB `config` db under `zfs/policy/<id>`.
 *
 * A policy owns exactly the snapshots whose name matches its template, and their time is read from
 * the name (not from `creation`, which zfs-fuse prints to the minute), so pruning never touches a
 * snapshot someone made by hand.
 */
import { type Static, Type } from '@sinclair/typebox';
import { CRON_PATTERN } from './cron.js';
import { DatasetName } from './names.js';

export const PolicyId = Type.String({
  pattern: '^[a-z0-9][a-z0-9-]{0,62}$',
  description: 'policy id: lower-case letters, digits and dashes',
});

export const NAMING_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.:-]*(?:%[YmdHMS][A-Za-z0-9_.:-]*)+$';

export const PolicySpec = Type.Object(
  {
    id: PolicyId,
    dataset: DatasetName,
    recursive: Type.Optional(
      Type.Boolean({ description: 'snapshot (and prune) descendants too; default false' }),
    ),
    schedule: Type.String({
      pattern: CRON_PATTERN,
      maxLength: 100,
      description:
        'cron expression in UTC (minute hour day-of-month month day-of-week) or @hourly/@daily/@weekly/@monthly',
    }),
    naming: Type.Optional(
      Type.String({
        pattern: NAMING_PATTERN,
        maxLength: 100,
        description:
          'snapshot name template; must contain %Y %m %d %H %M (UTC), %S optional; default auto-%Y%m%d-%H%M',
      }),
    ),
    retention: Type.Object(
      {
        count: Type.Optional(
          Type.Integer({ minimum: 1, maximum: 100_000, description: 'keep at most this many' }),
        ),
        maxAgeSeconds: Type.Optional(
          Type.Integer({
            minimum: 60,
            maximum: 100 * 365 * 86400,
            description: 'destroy snapshots older than this',
          }),
        ),
      },
      { additionalProperties: false, description: 'the newest snapshot of a policy is always kept' },
    ),
    enabled: Type.Optional(Type.Boolean({ description: 'default true' })),
  },
  { additionalProperties: false },
);
export type PolicySpecT = Static<typeof PolicySpec>;

export interface PolicyRecord extends PolicySpecT {
  naming: string;
  recursive: boolean;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
  /** the minute slot (ms) of the last scheduled run, so that a slot runs once */
  lastSlot?: number;
  lastRun?: PolicyRunResult & { time: number };
}

export interface PolicyRunResult {
  created?: string;
  destroyed: string[];
  errors: string[];
}

export const DEFAULT_NAMING = 'auto-%Y%m%d-%H%M';
const TOKENS: Record<string, { re: string; get: (d: Date) => number; width: number }> = {
  Y: { re: '(\\d{4})', get: (d) => d.getUTCFullYear(), width: 4 },
  m: { re: '(\\d{2})', get: (d) => d.getUTCMonth() + 1, width: 2 },
  d: { re: '(\\d{2})', get: (d) => d.getUTCDate(), width: 2 },
  H: { re: '(\\d{2})', get: (d) => d.getUTCHours(), width: 2 },
  M: { re: '(\\d{2})', get: (d) => d.getUTCMinutes(), width: 2 },
  S: { re: '(\\d{2})', get: (d) => d.getUTCSeconds(), width: 2 },
};

/** Refuses templates that cannot identify their time down to the minute. */
export function checkNaming(template: string): string | undefined {
  for (const t of ['%Y', '%m', '%d', '%H', '%M']) {
    if (!template.includes(t)) return `naming template must contain ${t}`;
  }
  for (const t of ['Y', 'm', 'd', 'H', 'M', 'S']) {
    if (template.split(`%${t}`).length > 2) return `naming template repeats %${t}`;
  }
  return undefined;
}

export function formatName(template: string, ms: number): string {
  const d = new Date(ms);
  return template.replace(/%([YmdHMS])/g, (_, t: string) =>
    String(TOKENS[t]!.get(d)).padStart(TOKENS[t]!.width, '0'),
  );
}

/** Template → (name → ms | undefined). */
export function nameMatcher(template: string): (name: string) => number | undefined {
  const order: string[] = [];
  const src = template.replace(/[.*+?^${}()|[\]\\]|%([YmdHMS])/g, (m, t: string | undefined) => {
    if (!t) return `\\${m}`;
    order.push(t);
    return TOKENS[t]!.re;
  });
  const re = new RegExp(`^${src}$`);
  return (name) => {
    const m = re.exec(name);
    if (!m) return undefined;
    const v: Record<string, number> = { Y: 1970, m: 1, d: 1, H: 0, M: 0, S: 0 };
    order.forEach((t, i) => {
      v[t] = Number(m[i + 1]);
    });
    return Date.UTC(v.Y!, v.m! - 1, v.d!, v.H!, v.M!, v.S!);
  };
}

/**
 * Which of a policy's snapshots to destroy: beyond the newest `count`, or older than `maxAgeSeconds`;
 * never the newest one. `snaps` are short names; the result is oldest first.
 */
export function selectPrunable(
  snaps: string[],
  template: string,
  retention: { count?: number; maxAgeSeconds?: number },
  now: number,
): string[] {
  const match = nameMatcher(template);
  const owned = snaps
    .map((name) => ({ name, t: match(name) }))
    .filter((s): s is { name: string; t: number } => s.t !== undefined)
    .sort((a, b) => b.t - a.t || (a.name < b.name ? 1 : -1));
  const doomed = owned.filter((s, i) => {
    if (i === 0) return false;
    if (retention.count !== undefined && i >= retention.count) return true;
    if (retention.maxAgeSeconds !== undefined && now - s.t > retention.maxAgeSeconds * 1000) return true;
    return false;
  });
  return doomed.reverse().map((s) => s.name);
}
