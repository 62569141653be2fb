/**
 * Synthetic catalog content for tests and the bench: clients, pools, filesets, many jobs with
 * a spread of names, types, levels, statuses and times, and a small file tree for one job.
 * Inserted through the sqlite3 CLI in one transaction.
 */
import type { Runner } from '../../agent/runner.js';

export interface SeedOptions {
  jobs: number;
  /** epoch seconds of the first job; one job every `stepSec` after it */
  start?: number;
  stepSec?: number;
}

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
const local = (epoch: number) => {
  const d = new Date(epoch * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
};

export const SEED_CLIENTS = ['calypso-fd', 'web-1', 'db-1', "o'brien-fd"];
export const SEED_NAMES = ['nightly-web', 'nightly-db', 'weekly-all', 'home-dirs', 'mail'];
/** status letters in rotation: mostly OK, some errors, cancels and warnings */
const STATUSES = ['T', 'T', 'T', 'T', 'T', 'T', 'E', 'A', 'W', 'f'];
const LEVELS = ['F', 'I', 'I', 'I', 'I', 'I', 'D'];

export function seedSql(o: SeedOptions): string {
  const start = o.start ?? 1_700_000_000;
  const step = o.stepSec ?? 3600;
  const out: string[] = ['BEGIN;'];
  SEED_CLIENTS.forEach((c, i) => {
    out.push(
      `INSERT INTO Client (ClientId, Name, Uname, AutoPrune, FileRetention, JobRetention) VALUES (${i + 1}, ${q(c)}, '9.6.7', 1, 0, 0);`,
    );
  });
  out.push(
    `INSERT INTO Pool (PoolId, Name, PoolType, LabelFormat) VALUES (1, 'daily', 'Backup', 'daily-'), (2, 'weekly', 'Backup', 'weekly-');`,
  );
  out.push(
    `INSERT INTO FileSet (FileSetId, FileSet, MD5, CreateTime) VALUES (1, 'tree', 'x', ${q(local(start))});`,
  );
  for (let i = 0; i < o.jobs; i++) {
    const id = i + 1;
    const name = SEED_NAMES[i % SEED_NAMES.length]!;
    const t = start + i * step;
    const type = i % 50 === 49 ? 'R' : 'B';
    const level = type === 'R' ? ' ' : LEVELS[i % LEVELS.length]!;
    const status = STATUSES[(i * 7) % STATUSES.length]!;
    const files = (i * 37) % 5000;
    const bytes = files * 40_960 + (i % 1000);
    out.push(
      `INSERT INTO Job (JobId, Job, Name, Type, Level, ClientId, JobStatus, SchedTime, StartTime, EndTime, RealEndTime, JobTDate, ` +
        `JobFiles, JobBytes, ReadBytes, JobErrors, PoolId, FileSetId) VALUES (${id}, ${q(`${name}.${local(t).replace(/[ :]/g, '_')}_${id}`)}, ` +
        `${q(name)}, '${type}', '${level}', ${(i % SEED_CLIENTS.length) + 1}, '${status}', ${q(local(t))}, ${q(local(t + 5))}, ` +
        `${q(local(t + 65))}, ${q(local(t + 65))}, ${t + 65}, ${files}, ${bytes}, ${bytes}, ${status === 'T' ? 0 : 1}, ${(i % 2) + 1}, 1);`,
    );
  }
  out.push('COMMIT;');
  return out.join('\n');
}

/**
 * A small tree for job `jobId`: /srv/data/ with a.txt, b c.txt (space), é.txt (UTF-8),
 * sub/deep.txt and the directory entries themselves (Filename ''), with plausible LStats.
 */
export function seedFilesSql(jobId: number): string {
  const enc = (n: number) => {
    const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    if (n === 0) return 'A';
    let s = '';
    for (let v = n; v > 0; v = Math.floor(v / 64)) s = A[v % 64] + s;
    return s;
  };
  const lstat = (mode: number, size: number, mtime: number) =>
    [1, 2, mode, 1, 0, 0, 0, size, 4096, Math.ceil(size / 512), mtime, mtime, mtime, 0, 0, 1]
      .map(enc)
      .join(' ');
  const paths = ['/srv/data/', '/srv/data/sub/'];
  const names = ['', 'a.txt', 'b c.txt', 'é.txt', 'deep.txt'];
  const files: [path: number, name: number, mode: number, size: number][] = [
    [1, 0, 0o40755, 4096],
    [1, 1, 0o100644, 10],
    [1, 2, 0o100600, 20],
    [1, 3, 0o100644, 30],
    [2, 0, 0o40750, 4096],
    [2, 4, 0o100644, 40],
  ];
  const out = ['BEGIN;'];
  for (const [i, p] of paths.entries())
    out.push(`INSERT OR IGNORE INTO Path (PathId, Path) VALUES (${i + 1}, ${q(p)});`);
  for (const [i, n] of names.entries())
    out.push(`INSERT OR IGNORE INTO Filename (FilenameId, Name) VALUES (${i + 1}, ${q(n)});`);
  files.forEach(([p, n, mode, size], i) => {
    out.push(
      `INSERT INTO File (FileIndex, JobId, PathId, FilenameId, LStat, MD5) VALUES (${i + 1}, ${jobId}, ${p}, ${n + 1}, ` +
        `${q(lstat(mode, size, 1_700_000_000 + i))}, '');`,
    );
  });
  out.push('COMMIT;');
  return out.join('\n');
}

export async function seedCatalog(runner: Runner, db: string, o: SeedOptions): Promise<void> {
  await runner.run(['sqlite3', '-bail', db], { input: seedSql(o), timeoutMs: 120_000 });
}
