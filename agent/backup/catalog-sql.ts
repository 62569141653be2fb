/**
 * Pure SQL builders and row mappers for the Bacula 9.6 SQLite catalog (schema version 16:
 * Job, Client, Pool, FileSet, File + Path + Filename, Media, Log). Values are inlined as SQL
 * literals through `lit()` because the sqlite3 CLI has no bind API on its command line; `lit`
 * accepts only integers and strings, and SQLite string literals have a single escape rule
 * ('' for '), so there is no other way out of a literal.
 */
export { type JobItem, STATUS_GROUPS, type StatusGroup } from './catalog-schemas.js';

import { type JobItem, STATUS_GROUPS, type StatusGroup } from './catalog-schemas.js';
import { decodeLStat, type EntryType, entryType } from './parse-lstat.js';

export function lit(v: string | number): string {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`sql: not an integer: ${v}`);
    return String(v);
  }
  if (v.includes('\u0000')) throw new Error('sql: NUL in string');
  return `'${v.replace(/'/g, "''")}'`;
}

export function statusGroup(code: string): StatusGroup | 'unknown' {
  for (const [g, codes] of Object.entries(STATUS_GROUPS))
    if ((codes as readonly string[]).includes(code)) return g as StatusGroup;
  return 'unknown';
}

export const FINAL_GROUPS: ReadonlySet<string> = new Set([
  'success',
  'warning',
  'error',
  'aborted',
  'incomplete',
  'differences',
]);

export const JOB_TYPES = {
  backup: 'B',
  restore: 'R',
  verify: 'V',
  copy: 'c',
  migrate: 'g',
  admin: 'D',
} as const;
const TYPE_NAMES: Record<string, string> = {
  B: 'backup',
  R: 'restore',
  V: 'verify',
  c: 'copy',
  C: 'copy',
  g: 'migrate',
  M: 'migrate',
  D: 'admin',
};
const LEVEL_NAMES: Record<string, string> = {
  F: 'Full',
  I: 'Incremental',
  D: 'Differential',
  C: 'Catalog',
  V: 'InitCatalog',
  O: 'VolumeToCatalog',
  d: 'DiskToCatalog',
  A: 'Data',
  B: 'Base',
};

export interface HistoryQuery {
  offset: number;
  limit: number;
  jobId?: number;
  name?: string;
  client?: string;
  type?: keyof typeof JOB_TYPES;
  level?: 'Full' | 'Incremental' | 'Differential';
  status?: StatusGroup[];
  /** epoch seconds, compared with the scheduled time */
  since?: number;
  until?: number;
  order?: 'asc' | 'desc';
}

/** The catalog stores local wall-clock text ("2026-11-25 12:09:38"); so do these bounds. */
export function localText(epochSec: number): string {
  const d = new Date(epochSec * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const JOB_FROM = `FROM Job j
  LEFT JOIN Client c ON c.ClientId = j.ClientId
  LEFT JOIN Pool p ON p.PoolId = j.PoolId
  LEFT JOIN FileSet fs ON fs.FileSetId = j.FileSetId`;

function historyWhere(q: HistoryQuery): string {
  const w: string[] = [];
  if (q.jobId !== undefined) w.push(`j.JobId = ${lit(q.jobId)}`);
  if (q.name) w.push(`j.Name = ${lit(q.name)}`);
  if (q.client) w.push(`c.Name = ${lit(q.client)}`);
  if (q.type) w.push(`j.Type = ${lit(JOB_TYPES[q.type])}`);
  if (q.level) w.push(`j.Level = ${lit(q.level[0]!)}`);
  if (q.status?.length) {
    const codes = q.status.flatMap((g) => STATUS_GROUPS[g]);
    w.push(`j.JobStatus IN (${codes.map(lit).join(', ')})`);
  }
  if (q.since !== undefined) w.push(`j.SchedTime >= ${lit(localText(q.since))}`);
  if (q.until !== undefined) w.push(`j.SchedTime < ${lit(localText(q.until))}`);
  return w.length ? `WHERE ${w.join(' AND ')}` : '';
}

export function historySql(q: HistoryQuery): string {
  return `SELECT j.JobId AS jobId, j.Job AS job, j.Name AS name, j.Type AS type, j.Level AS level,
  j.JobStatus AS status, c.Name AS client, fs.FileSet AS fileset, p.Name AS pool,
  j.SchedTime AS schedTime, j.StartTime AS startTime, j.EndTime AS endTime,
  j.JobFiles AS files, j.JobBytes AS bytes, j.JobErrors AS errors, j.PriorJobId AS priorJobId,
  (${countSql(q)}) AS total
${JOB_FROM}
${historyWhere(q)}
ORDER BY j.JobId ${q.order === 'asc' ? 'ASC' : 'DESC'}
LIMIT ${lit(q.limit)} OFFSET ${lit(q.offset)};`;
}

/**
 * The total as an uncorrelated scalar subquery: SQLite computes it once, over the Job table
 * alone unless a client filter needs the join (a window count over the joined rows was ten
 * times slower on 10,000 jobs).
 */
function countSql(q: HistoryQuery): string {
  const join = q.client ? ' LEFT JOIN Client c ON c.ClientId = j.ClientId' : '';
  return `SELECT count(*) FROM Job j${join} ${historyWhere(q)}`;
}

/** Only needed when the page is past the end (the total then has no row to ride on). */
export function historyCountSql(q: HistoryQuery): string {
  return `${countSql(q)};`.replace('SELECT count(*)', 'SELECT count(*) AS total');
}

export interface JobRow {
  jobId: number;
  job: string;
  name: string;
  type: string;
  level: string;
  status: string;
  client: string | null;
  fileset: string | null;
  pool: string | null;
  schedTime: string | null;
  startTime: string | null;
  endTime: string | null;
  files: number;
  bytes: number;
  errors: number;
  priorJobId: number;
  total?: number;
}

/** Catalog local time text → ISO 8601; Bacula writes 0 / 0000-00-00 for "never". */
export function isoFromLocal(t: string | number | null | undefined): string | undefined {
  if (t === null || t === undefined || typeof t === 'number') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(t);
  if (!m || m[1] === '0000') return undefined;
  const d = new Date(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function jobItem(r: JobRow): JobItem {
  const started = isoFromLocal(r.startTime);
  const ended = isoFromLocal(r.endTime);
  const durationSec =
    started && ended ? Math.max(0, (Date.parse(ended) - Date.parse(started)) / 1000) : undefined;
  const bytes = Number(r.bytes ?? 0);
  return {
    jobId: Number(r.jobId),
    job: r.job,
    name: r.name,
    type: TYPE_NAMES[r.type] ?? r.type,
    level: LEVEL_NAMES[r.level] ?? (r.level?.trim() || undefined),
    status: statusGroup(r.status),
    statusCode: r.status,
    client: r.client ?? undefined,
    fileset: r.fileset ?? undefined,
    pool: r.pool ?? undefined,
    scheduled: isoFromLocal(r.schedTime),
    started,
    ended,
    durationSec,
    files: Number(r.files ?? 0),
    bytes,
    errors: Number(r.errors ?? 0),
    rate: durationSec ? Math.round(bytes / Math.max(1, durationSec)) : undefined,
    priorJobId: Number(r.priorJobId ?? 0) > 0 ? Number(r.priorJobId) : undefined,
  };
}

/** Code-point length, as SQLite's length()/substr() count on TEXT. */
const cpLength = (s: string) => [...s].length;

/** One directory level of a job: sub-directories first, then files, paged. */
export function browseSql(jobId: number, dir: string, offset: number, limit: number): string {
  const L = cpLength(dir);
  const J = lit(jobId);
  return `WITH dirs AS (
  SELECT DISTINCT substr(p.Path, ${L + 1}, instr(substr(p.Path, ${L + 1}), '/')) AS name
  FROM File f JOIN Path p ON p.PathId = f.PathId
  WHERE f.JobId = ${J} AND length(p.Path) > ${L} AND substr(p.Path, 1, ${L}) = ${lit(dir)}
), entries AS (
  SELECT 1 AS isDir, d.name AS name, NULL AS fileId, (
    SELECT f2.LStat FROM File f2 JOIN Path p2 ON p2.PathId = f2.PathId JOIN Filename n2 ON n2.FilenameId = f2.FilenameId
    WHERE f2.JobId = ${J} AND p2.Path = ${lit(dir)} || d.name AND n2.Name = '' LIMIT 1) AS lstat
  FROM dirs d WHERE d.name <> ''
  UNION ALL
  SELECT 0, n.Name, f.FileId, f.LStat
  FROM File f JOIN Path p ON p.PathId = f.PathId JOIN Filename n ON n.FilenameId = f.FilenameId
  WHERE f.JobId = ${J} AND p.Path = ${lit(dir)} AND n.Name <> ''
)
SELECT isDir, name, fileId, lstat, count(*) OVER () AS total FROM entries
ORDER BY isDir DESC, name LIMIT ${lit(limit)} OFFSET ${lit(offset)};`;
}

export interface BrowseRow {
  isDir: number;
  name: string;
  fileId: number | null;
  lstat: string | null;
  total: number;
}

export interface FileEntry {
  name: string;
  path: string;
  type: EntryType;
  fileId?: number;
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: string;
  /** hard link to an earlier file of the job */
  hardLink?: boolean;
}

export function fileEntry(dir: string, r: BrowseRow): FileEntry {
  const e: FileEntry = {
    name: r.name.replace(/\/$/, ''),
    path: dir + r.name,
    type: r.isDir ? 'dir' : 'file',
  };
  if (r.fileId !== null) e.fileId = Number(r.fileId);
  if (r.lstat) {
    const st = decodeLStat(r.lstat);
    e.type = r.isDir ? 'dir' : entryType(st.mode);
    e.size = st.size;
    e.mode = st.mode & 0o7777;
    e.uid = st.uid;
    e.gid = st.gid;
    e.mtime = new Date(st.mtime * 1000).toISOString();
    if (st.linkFi) e.hardLink = true;
  }
  return e;
}

/** Latest FileId of each wanted file among `jobIds` (a restore chain). */
export function resolveFilesSql(jobIds: number[], files: { dir: string; name: string }[]): string {
  const values = files.map((f) => `(${lit(f.dir)}, ${lit(f.name)})`).join(', ');
  return `WITH want(dir, name) AS (VALUES ${values})
SELECT w.dir AS dir, w.name AS name, max(f.FileId) AS fileId, f.LStat AS lstat
FROM want w JOIN Path p ON p.Path = w.dir JOIN Filename n ON n.Name = w.name
  JOIN File f ON f.PathId = p.PathId AND f.FilenameId = n.FilenameId AND f.JobId IN (${jobIds.map(lit).join(', ')})
GROUP BY w.dir, w.name;`;
}

/** PathIds of wanted directories (bvfs restores whole directories by PathId). */
export function resolveDirsSql(jobIds: number[], dirs: string[]): string {
  return `SELECT DISTINCT p.PathId AS pathId, p.Path AS path FROM Path p JOIN File f ON f.PathId = p.PathId
WHERE p.Path IN (${dirs.map(lit).join(', ')}) AND f.JobId IN (${jobIds.map(lit).join(', ')});`;
}

/**
 * Directories of a restore chain whose latest entry is older than some file restored into
 * them, with that entry's LStat: their times are what a Full+Incremental restore gets wrong
 * (see BackupOps.fixDirTimes).
 */
export function staleDirsSql(jobIds: number[]): string {
  const ids = jobIds.map(lit).join(', ');
  return `WITH dirs AS (
  SELECT f.PathId AS pathId, max(f.FileId) AS fileId FROM File f JOIN Filename n ON n.FilenameId = f.FilenameId
  WHERE f.JobId IN (${ids}) AND n.Name = '' GROUP BY f.PathId
)
SELECT p.Path AS path, d.LStat AS lstat FROM dirs JOIN File d ON d.FileId = dirs.fileId JOIN Path p ON p.PathId = dirs.pathId
WHERE EXISTS (SELECT 1 FROM File x WHERE x.PathId = dirs.pathId AND x.JobId IN (${ids}) AND x.JobId > d.JobId)
ORDER BY length(p.Path) DESC;`;
}

export function volumesSql(pool?: string): string {
  return `SELECT m.MediaId AS mediaId, m.VolumeName AS name, m.VolStatus AS status, p.Name AS pool,
  m.MediaType AS mediaType, s.Name AS storage, m.VolBytes AS bytes, m.VolFiles AS files, m.VolJobs AS jobs,
  m.VolRetention AS retentionSec, m.Recycle AS recycle, m.Enabled AS enabled, m.Slot AS slot, m.InChanger AS inChanger,
  m.LabelDate AS labelled, m.LastWritten AS lastWritten
FROM Media m LEFT JOIN Pool p ON p.PoolId = m.PoolId LEFT JOIN Storage s ON s.StorageId = m.StorageId
${pool ? `WHERE p.Name = ${lit(pool)}` : ''}
ORDER BY m.VolumeName;`;
}

export function jobLogSql(jobId: number): string {
  return `SELECT Time AS time, LogText AS text FROM Log WHERE JobId = ${lit(jobId)} ORDER BY LogId;`;
}

/** Extract the SQL of Debian's make_sqlite3_tables (a shell heredoc) so that no shell runs. */
export function extractSchemaSql(script: string): string {
  const m = /<<\s*END-OF-DATA\n([\s\S]*?)\nEND-OF-DATA/.exec(script);
  if (!m) throw new Error('make_sqlite3_tables: no END-OF-DATA heredoc');
  return m[1]!;
}
