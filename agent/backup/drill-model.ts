/**
 * Restore drills (issue #27, "Proof that backups restore"): what a drill is, what one run
 * reports, and where both are kept in LMDB. A drill belongs to one backup job; a run restores
 * the job's last backup (or a random sample of its files) into a scratch directory and checks
 * every restored file against the signature the catalog holds (docs/drills.md).
 *
 * Keys: `config` db `drill/<name>` (the drill), `history` db `drill-report/<name>/<15-digit ms>`
 * (its last `keepReports` reports, oldest pruned in the transaction that adds one).
 */
import { type Static, Type } from '@sinclair/typebox';
import type { Database } from 'lmdb';
import { conflict, notFound } from '../../rpc/errors.js';
import { CRON_PATTERN } from '../util/cron.js';
import { BaculaName } from './model.js';

/** A drill's name: the rules of a Bacula resource name (it names the drill's alert and its reports). */
export const DrillName = BaculaName;

export const DrillSpec = Type.Object(
  {
    name: DrillName,
    /** the backup job whose last backup is restored */
    job: BaculaName,
    schedule: Type.Optional(
      Type.String({
        pattern: CRON_PATTERN,
        maxLength: 100,
        description: 'when it runs: five cron fields in UTC (`0 3 * * 0`) or @hourly/@daily/@weekly/@monthly',
        errorMessage: 'a schedule is five cron fields (minute hour day month weekday, UTC) or @daily',
      }),
    ),
    sample: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100_000,
        description: 'restore only this many files, chosen at random each run (default: the whole backup)',
      }),
    ),
    keepReports: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100, description: 'reports kept (default 10)' }),
    ),
    enabled: Type.Optional(Type.Boolean({ description: 'scheduled runs happen (default true)' })),
  },
  { additionalProperties: false },
);
export type DrillSpec = Static<typeof DrillSpec>;

export const ReportSummary = Type.Object({
  id: Type.String({ description: 'report id (the run start, ms since the epoch)' }),
  at: Type.String({ description: 'when the run started (ISO 8601)' }),
  result: Type.Union([Type.Literal('passed'), Type.Literal('failed')]),
  checked: Type.Integer({ description: 'files compared with their catalog signature' }),
  failed: Type.Integer({ description: 'files missing or different' }),
});
export type ReportSummary = Static<typeof ReportSummary>;

export const DrillSchema = Type.Object({
  name: Type.String(),
  job: Type.String(),
  schedule: Type.Optional(Type.String()),
  sample: Type.Optional(Type.Integer()),
  keepReports: Type.Integer(),
  enabled: Type.Boolean(),
  createdAt: Type.String({ description: 'ISO 8601' }),
  lastSlot: Type.Optional(Type.Number({ description: 'the scheduled minute it last ran in (ms)' })),
  last: Type.Optional(ReportSummary),
  nextRun: Type.Optional(Type.String({ description: 'next scheduled run (ISO 8601)' })),
});
export type Drill = Static<typeof DrillSchema>;

export const FileResult = Type.Object({
  path: Type.String(),
  result: Type.Union(
    ['ok', 'missing', 'different', 'unreadable'].map((r) => Type.Literal(r)),
    { description: 'ok: the restored file has the catalog signature' },
  ),
  size: Type.Optional(Type.Integer({ description: 'size in the catalog' })),
  expected: Type.Optional(Type.String({ description: 'catalog signature (Bacula base64)' })),
  actual: Type.Optional(Type.String({ description: 'signature of the restored file' })),
});
export type FileResult = Static<typeof FileResult>;

/** Per-file results kept in a report at most (failures first). */
export const MAX_FILE_RESULTS = 1000;

export const ReportSchema = Type.Object({
  ...ReportSummary.properties,
  drill: Type.String(),
  job: Type.String({ description: 'backup job' }),
  backupJobId: Type.Integer({ description: 'the backup restored (the last successful one)' }),
  jobIds: Type.Array(Type.Integer(), { description: 'its chain: Full plus Differential/Incrementals' }),
  restoreJobId: Type.Optional(Type.Integer()),
  restoreStatus: Type.String({ description: 'how the Bacula restore job ended' }),
  algorithm: Type.String({ description: 'MD5 or SHA1, from the FileSet signature' }),
  sampled: Type.Boolean({ description: 'a sample of the files, not all of them' }),
  unsigned: Type.Integer({ description: 'regular files the catalog holds no signature for (not checked)' }),
  finishedAt: Type.String(),
  durationMs: Type.Integer(),
  scratch: Type.String({ description: 'where it was restored (removed after the run)' }),
  message: Type.String(),
  files: Type.Array(FileResult, {
    description: `per-file results, failures first (at most ${MAX_FILE_RESULTS})`,
  }),
});
export type Report = Static<typeof ReportSchema>;

export interface DrillRecord {
  name: string;
  job: string;
  schedule?: string;
  sample?: number;
  keepReports: number;
  enabled: boolean;
  createdAt: number;
  lastSlot?: number;
}

const DRILL = (name: string) => `drill/${name}`;
const REPORTS = (name: string) => `drill-report/${name}/`;

export function summaryOf(r: Report): ReportSummary {
  return { id: r.id, at: r.at, result: r.result, checked: r.checked, failed: r.failed };
}

export class DrillStore {
  constructor(
    private config: Database,
    private history: Database,
  ) {}

  list(): DrillRecord[] {
    return [...this.config.getRange({ start: 'drill/', end: 'drill/\uffff' })].map(
      (e) => e.value as DrillRecord,
    );
  }

  get(name: string): DrillRecord | undefined {
    return this.config.get(DRILL(name)) as DrillRecord | undefined;
  }

  mustGet(name: string): DrillRecord {
    const d = this.get(name);
    if (!d) throw notFound(`drill ${name} does not exist`, { name });
    return d;
  }

  /** Create, refusing a name in use: checked and written in one transaction (two creates cannot both win). */
  async create(d: DrillRecord): Promise<void> {
    await this.config.transaction(() => {
      if (this.config.get(DRILL(d.name))) throw conflict(`drill ${d.name} already exists`, { name: d.name });
      this.config.put(DRILL(d.name), d);
    });
  }

  /** Change a drill read and written in one transaction (a concurrent change is never lost). */
  async update(name: string, fn: (d: DrillRecord) => DrillRecord): Promise<void> {
    await this.config.transaction(() => {
      const d = this.config.get(DRILL(name)) as DrillRecord | undefined;
      if (d) this.config.put(DRILL(name), fn(d));
    });
  }

  async delete(name: string): Promise<void> {
    await this.config.remove(DRILL(name));
    await this.history.transaction(() => {
      for (const k of this.history.getKeys({ start: REPORTS(name), end: `${REPORTS(name)}\uffff` }))
        this.history.remove(k);
    });
  }

  /** Add a report and drop the oldest beyond `keep`, in one transaction. */
  async addReport(r: Report, keep: number): Promise<void> {
    const prefix = REPORTS(r.drill);
    await this.history.transaction(() => {
      this.history.put(`${prefix}${r.id.padStart(15, '0')}`, r);
      const keys = [...this.history.getKeys({ start: prefix, end: `${prefix}\uffff` })];
      for (const k of keys.slice(0, Math.max(0, keys.length - keep))) this.history.remove(k);
    });
  }

  /** Reports, newest first. */
  reports(name: string): Report[] {
    const prefix = REPORTS(name);
    return [...this.history.getRange({ start: prefix, end: `${prefix}\uffff` })]
      .map((e) => e.value as Report)
      .reverse();
  }
}
