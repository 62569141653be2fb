/**
 * Backup operations on the running daemons: run, cancel, restore, follow a job to its end with
 * progress, volumes, daemon status. Actions go through bconsole; state is read from the catalog
 * (status of a job) and from the daemons' `.status ... running` (live files/bytes/rate).
 */

import { randomBytes } from 'node:crypto';
import { utimes } from 'node:fs/promises';
import path from 'node:path';
import { invalid, notFound, RpcError } from '../../rpc/errors.js';
import { pause } from '../util/time.js';
import { type Bconsole, outcomeError } from './bconsole.js';
import type { Catalog } from './catalog.js';
import {
  FINAL_GROUPS,
  type HistoryQuery,
  historyCountSql,
  historySql,
  type JobItem,
  type JobRow,
  jobItem,
  jobLogSql,
  resolveDirsSql,
  resolveFilesSql,
  staleDirsSql,
} from './catalog-sql.js';
import { cancelCall, restoreAllCall, restoreTarget, runCall } from './console-commands.js';
import {
  parseCancel,
  parseEstimate,
  parseJobIds,
  parseRestoreOutput,
  parseRunningJobs,
  parseRunOutput,
  type RunningJob,
} from './parse-bconsole.js';
import { decodeLStat } from './parse-lstat.js';
import { RESTORE_JOB } from './render-dir.js';

export interface OpsContext {
  signal: AbortSignal;
  progress(percent: number, description?: string): void;
}

export interface OpsOptions {
  bconsole: Bconsole;
  catalog: Catalog;
  /** poll period while following a job */
  pollMs?: number;
}

const MiB = 1024 * 1024;
/** Bacula's Status table (make_sqlite3_tables) for the codes a job waits in. */
const WAITING: Record<string, string> = {
  C: 'created, not yet running',
  F: 'waiting for the client',
  S: 'waiting for the storage daemon',
  m: 'waiting for new media (label a volume or add one to the pool)',
  M: 'waiting for a media mount',
  s: 'waiting for the storage resource',
  j: 'waiting for the job resource',
  c: 'waiting for the client resource',
  d: 'waiting on the maximum number of jobs',
  t: 'waiting for its start time',
  p: 'waiting for higher priority jobs',
  a: 'storage daemon despooling attributes',
  i: 'inserting file records in the catalog',
};
const fmtBytes = (b: number) =>
  b >= 10 * 1024 * MiB ? `${(b / 1024 / MiB).toFixed(1)} GiB` : `${(b / MiB).toFixed(1)} MiB`;

export class BackupOps {
  constructor(private o: OpsOptions) {}

  async history(q: HistoryQuery, signal?: AbortSignal): Promise<{ items: JobItem[]; total: number }> {
    const rows = await this.o.catalog.query<JobRow>(historySql(q), signal);
    let total = rows[0]?.total;
    if (total === undefined)
      total =
        q.offset === 0
          ? 0
          : ((await this.o.catalog.query<{ total: number }>(historyCountSql(q), signal))[0]?.total ?? 0);
    return { items: rows.map(jobItem), total: Number(total) };
  }

  async job(jobId: number, signal?: AbortSignal): Promise<JobItem> {
    const rows = await this.o.catalog.query<JobRow>(historySql({ jobId, offset: 0, limit: 1 }), signal);
    if (!rows[0]) throw notFound(`bacula job ${jobId} is not in the catalog`, { jobId });
    return jobItem(rows[0]);
  }

  async log(jobId: number): Promise<{ time: string; text: string }[]> {
    return this.o.catalog.query<{ time: string; text: string }>(jobLogSql(jobId));
  }

  async estimate(
    job: string,
    level: string | undefined,
    signal?: AbortSignal,
  ): Promise<{ files: number; bytes: number } | undefined> {
    try {
      const out = await this.o.bconsole.one(`estimate job=${job}${level ? ` level=${level}` : ''}`, {
        timeoutMs: 60_000,
        signal,
      });
      return parseEstimate(out);
    } catch (err) {
      if (err instanceof RpcError && err.kind === 'unavailable') throw err;
      return undefined; // an estimate is a nicety: the backup runs without a percentage
    }
  }

  /** Queue a job; returns the Bacula JobId. */
  async start(args: { job: string; level?: string; pool?: string; client?: string }): Promise<number> {
    const c = runCall(args);
    const o = parseRunOutput(await this.o.bconsole.one(c.lines[0]!, { timeoutMs: c.timeoutMs }));
    if (!o.ok) throw outcomeError(o);
    return o.value;
  }

  async cancel(jobId: number): Promise<string> {
    const c = cancelCall(jobId);
    const o = parseCancel(await this.o.bconsole.one(c.lines[0]!, { timeoutMs: c.timeoutMs }));
    if (!o.ok) throw outcomeError(o);
    return o.value;
  }

  /** Live counters of a running job, asked from its file daemon. */
  async live(client: string | undefined, jobId: number): Promise<RunningJob | undefined> {
    const cmd = client ? `.status client=${client} running` : '.status dir running';
    try {
      return parseRunningJobs(await this.o.bconsole.api(cmd, { timeoutMs: 15_000 })).find(
        (j) => j.jobId === jobId,
      );
    } catch (err) {
      if (err instanceof RpcError && err.kind === 'unavailable') throw err;
      return undefined;
    }
  }

  /**
   * Follow a job until the catalog says it is finished, reporting files, bytes and rate. When
   * `ctx.signal` aborts, the Bacula job is cancelled and followed to its end, so the catalog
   * is left consistent before the call returns.
   */
  async follow(
    jobId: number,
    ctx: OpsContext,
    opts: { client?: string; totalBytes?: number; verb: string },
  ): Promise<JobItem> {
    const poll = this.o.pollMs ?? 1000;
    let cancelSent = false;
    let last: RunningJob | undefined;
    for (;;) {
      if (ctx.signal.aborted && !cancelSent) {
        cancelSent = true;
        ctx.progress(last ? this.percent(last.bytes, opts.totalBytes) : 0, `cancelling bacula job ${jobId}`);
        try {
          await this.cancel(jobId);
        } catch (err) {
          if (!(err instanceof RpcError && err.kind === 'conflict')) throw err; // conflict: it just ended
        }
      }
      const item = await this.job(jobId);
      if (FINAL_GROUPS.has(item.status)) return item;
      if (!cancelSent) {
        const live = await this.live(opts.client, jobId);
        if (live) {
          last = live;
          const rate = live.rate ? `, ${fmtBytes(live.rate)}/s` : '';
          ctx.progress(
            this.percent(live.bytes, opts.totalBytes),
            `${opts.verb}: ${live.files} files, ${fmtBytes(live.bytes)}${rate}`,
          );
        } else if (item.status === 'waiting') {
          ctx.progress(
            0,
            `bacula job ${jobId}: ${WAITING[item.statusCode] ?? `waiting (${item.statusCode})`}`,
          );
        }
      }
      await pause(poll, cancelSent ? undefined : ctx.signal);
    }
  }

  private percent(bytes: number, total: number | undefined): number {
    if (!total) return 0;
    return Math.min(99, (bytes / total) * 100);
  }

  /** The jobs a point-in-time restore of `jobId` needs (Full + Differential + Incrementals). */
  async chain(jobId: number): Promise<number[]> {
    const ids = parseJobIds(await this.o.bconsole.api(`.bvfs_get_jobids jobid=${jobId}`));
    return ids.length ? ids : [jobId];
  }

  /**
   * Queue a restore. `files`: absolute paths as in the catalog (directories end with '/');
   * none means the whole job. Returns the restore's JobId and the bytes it should write.
   */
  async startRestore(args: {
    jobIds: number[];
    files?: string[];
    where: string;
    client: string;
    restoreClient: string;
    replace: string;
  }): Promise<{ jobId: number; totalBytes?: number; cleanup?: string }> {
    const target = restoreTarget({ ...args, restoreJob: RESTORE_JOB });
    const ids = args.jobIds.join(',');
    if (!args.files?.length) {
      const totals = await Promise.all(args.jobIds.map((id) => this.job(id)));
      const c = restoreAllCall(args.jobIds, target);
      const o = parseRestoreOutput(await this.o.bconsole.one(c.lines[0]!, { timeoutMs: c.timeoutMs }));
      if (!o.ok) throw outcomeError(o);
      return { jobId: o.value.jobId, totalBytes: totals.reduce((s, j) => s + j.bytes, 0) };
    }
    const { fileIds, dirIds, bytes } = await this.resolve(args.jobIds, args.files);
    // bvfs: the director builds the restore list from FileIds/PathIds in a scratch table, then
    // `restore file=?<table>` uses it. Paths never travel on the command line, only numbers.
    const table = `b2${randomBytes(4).readUInt32BE(0)}`;
    if (dirIds.length) await this.o.bconsole.api(`.bvfs_update jobid=${ids}`, { timeoutMs: 300_000 });
    const sel = [
      fileIds.length ? `fileid=${fileIds.join(',')}` : '',
      dirIds.length ? `dirid=${dirIds.join(',')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    const made = await this.o.bconsole.api(`.bvfs_restore path=${table} ${sel} jobid=${ids}`, {
      timeoutMs: 300_000,
    });
    if (!/^OK$/m.test(made))
      throw new RpcError('failed', `bacula could not build the restore list: ${made.trim().slice(0, 200)}`);
    try {
      const o = parseRestoreOutput(
        await this.o.bconsole.one(`restore file=?${table} ${target} yes`, { timeoutMs: 300_000 }),
      );
      if (!o.ok) throw outcomeError(o);
      return { jobId: o.value.jobId, totalBytes: bytes || undefined, cleanup: table };
    } catch (err) {
      await this.dropTable(table);
      throw err;
    }
  }

  /**
   * Field finding (Bacula 9.6.7): the file daemon sets a directory's times when the directory's
   * own entry passes in the restore stream, which is after its files within one job. In a
   * Full + Incremental restore, files of the Incremental land after the Full's entry of their
   * directory (when the directory itself did not change) and leave it with the restore time.
   * For restores to the appliance's own file system, those directories get their catalog
   * times back here. Returns how many were fixed.
   */
  async fixDirTimes(jobIds: number[], where: string): Promise<number> {
    if (jobIds.length < 2) return 0;
    const rows = await this.o.catalog.query<{ path: string; lstat: string }>(staleDirsSql(jobIds));
    let n = 0;
    for (const r of rows) {
      const st = decodeLStat(r.lstat);
      try {
        await utimes(path.join(where, r.path), st.atime, st.mtime);
        n++;
      } catch {
        /* not restored (excluded, or replaced by a file): nothing to fix */
      }
    }
    return n;
  }

  async dropTable(table: string): Promise<void> {
    await this.o.bconsole.api(`.bvfs_cleanup path=${table}`).catch(() => {});
  }

  private async resolve(jobIds: number[], files: string[]) {
    const dirs = files.filter((f) => f.endsWith('/'));
    const plain = files
      .filter((f) => !f.endsWith('/'))
      .map((f) => ({
        dir: path.posix.dirname(f) === '/' ? '/' : `${path.posix.dirname(f)}/`,
        name: path.posix.basename(f),
      }));
    const found = plain.length
      ? await this.o.catalog.query<{ dir: string; name: string; fileId: number; lstat: string }>(
          resolveFilesSql(jobIds, plain),
        )
      : [];
    const dirRows = dirs.length
      ? await this.o.catalog.query<{ pathId: number; path: string }>(resolveDirsSql(jobIds, dirs))
      : [];
    const have = new Set([...found.map((r) => r.dir + r.name), ...dirRows.map((r) => r.path)]);
    const missing = files.filter((f) => !have.has(f));
    if (missing.length) {
      throw notFound(
        `not in the backup: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
        {
          missing: missing.slice(0, 100),
        },
      );
    }
    const bytes = found.reduce((s, r) => s + (r.lstat ? decodeLStat(r.lstat).size : 0), 0);
    return {
      fileIds: found.map((r) => Number(r.fileId)),
      dirIds: dirRows.map((r) => Number(r.pathId)),
      bytes,
    };
  }
}

/** Refuse values that would break a bconsole command line (they are quoted, not escaped, there). */
export function checkConsoleValue(what: string, v: string): void {
  if (/["\r\n\u0000]/.test(v)) throw invalid(`${what}: double quotes and line breaks are not allowed`);
}
