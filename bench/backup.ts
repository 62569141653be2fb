/**
 * Backup benchmarks (issue 6):
 * - `backup.history` through the in-process agent over a SQLite catalog seeded with 10,000
 *   jobs: first page, a deep page, filtered pages (goal: ≤ 200 ms a page);
 * - backup throughput of the real daemons (backup.run of a generated tree, ~370 MB apparent)
 *   next to `tar` of the same tree to the same disk in the same run, with the ratio and the
 *   agent's own CPU time while it followed the job (the agent must not be the bottleneck).
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createCatalog } from '../agent/backup/catalog.js';
import { baculaPaths } from '../agent/backup/paths.js';
import { createBackupService } from '../agent/backup/service.js';
import type { JobRecord } from '../agent/jobs.js';
import { DEFAULT_TREE, makeTree, startLab } from '../test/backup/lab.js';
import { seedCatalog } from '../test/backup/seed.js';
import { startTestAgent } from '../test/helpers/agent.js';

const JOBS = 10_000;

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { p50: round(at(0.5)), p95: round(at(0.95)), max: round(s.at(-1)!) };
}
const round = (n: number) => Math.round(n * 10) / 10;

async function benchHistory(): Promise<Record<string, unknown>> {
  const t = await startTestAgent({ services: [createBackupService()] });
  try {
    const p = baculaPaths(t.deps.layout);
    await mkdir(p.dirWorkDir, { recursive: true });
    await createCatalog(t.deps.runner, p.catalogDb);
    const start = Math.floor(Date.now() / 1000) - JOBS * 600;
    await seedCatalog(t.deps.runner, p.catalogDb, { jobs: JOBS, start, stepSec: 600 });
    const queries: [string, Record<string, unknown>][] = [
      ['first page', { limit: 50 }],
      ['page at offset 5000', { offset: 5000, limit: 50 }],
      ['name + status filter', { name: 'nightly-db', status: ['error', 'aborted'], limit: 50 }],
      [
        'client + time window',
        { client: 'web-1', since: new Date((start + JOBS * 300) * 1000).toISOString(), limit: 100 },
      ],
    ];
    const out: Record<string, unknown> = { 'history.catalogJobs': JOBS };
    const all: number[] = [];
    for (const [label, params] of queries) {
      const ms: number[] = [];
      let total = 0;
      for (let i = 0; i < 15; i++) {
        const t0 = performance.now();
        total = (await t.call<{ total: number }>('backup.history', params)).total;
        ms.push(performance.now() - t0);
      }
      all.push(...ms);
      out[`history.${label}.ms`] = stats(ms);
      out[`history.${label}.total`] = total;
    }
    const overall = stats(all);
    out['history.p50Ms'] = overall.p50;
    out['history.p95Ms'] = overall.p95;
    out['history.goalMs'] = 200;
    out['history.withinGoal'] = overall.p50 <= 200;
    // each page is one sqlite3 process: on a loaded machine the spawn, not the query, dominates
    out['history.loadAverage1m'] = round(os.loadavg()[0]!);
    return out;
  } finally {
    await t.stop();
  }
}

async function benchThroughput(): Promise<Record<string, unknown>> {
  const lab = await startLab({ pollMs: 250 });
  try {
    const data = path.join(lab.t.prefix, 'bench-data');
    // larger than the test tree, so that Bacula's few seconds of job start-up weigh less
    const tree = await makeTree(data, { ...DEFAULT_TREE, randomFiles: 16, randomFileMiB: 16 });
    await lab.t.call('backup.fileset.set', { name: 'bench', include: [data] });
    await lab.t.call('backup.pool.set', {
      name: 'bench',
      storage: 'calypso-disk',
      maxVolumeBytes: 8 * 1024 ** 3,
    });
    await lab.t.call('backup.job.set', {
      name: 'bench',
      client: 'calypso-fd',
      fileset: 'bench',
      pool: 'bench',
    });
    await lab.startAll();

    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const { job } = await lab.t.call<{ job: string }>('backup.run', {
      job: 'bench',
      level: 'Full',
      estimate: false,
    });
    const rec: JobRecord = await lab.t.waitJob(job);
    const wallSec = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    if (rec.state !== 'success') throw new Error(`bench backup ${rec.state}: ${rec.error?.message}`);
    const r = rec.result as { bytes: number; files: number; durationSec?: number };

    // tar of the same tree to the same file system, sparse-aware like Bacula's Sparse = yes
    const tarFile = path.join(lab.t.prefix, 'srv', 'calypso', 'backups', 'bench.tar');
    const t1 = performance.now();
    await lab.t.deps.runner.run(['tar', '--sparse', '-cf', tarFile, '-C', data, '.'], { timeoutMs: 600_000 });
    const tarSec = (performance.now() - t1) / 1000;
    const tarBytes = (await stat(tarFile)).size;
    await rm(tarFile, { force: true });

    const MB = 1e6;
    const baculaMBps = r.bytes / MB / wallSec;
    const tarMBps = r.bytes / MB / tarSec;
    return {
      'throughput.treeApparentMB': round(tree.apparent / MB),
      'throughput.treeDataMB': round(tree.data / MB),
      'throughput.files': r.files,
      'throughput.bacula.bytesMB': round(r.bytes / MB),
      'throughput.bacula.wallSec': round(wallSec),
      'throughput.bacula.jobSec': r.durationSec,
      'throughput.bacula.MBps': round(baculaMBps),
      // Bacula's own StartTime→EndTime (whole seconds): the data path without job set-up and polling
      'throughput.bacula.jobMBps': r.durationSec ? round(r.bytes / MB / r.durationSec) : undefined,
      'throughput.tar.wallSec': round(tarSec),
      'throughput.tar.archiveMB': round(tarBytes / MB),
      'throughput.tar.MBps': round(tarMBps),
      'throughput.ratio': round((baculaMBps / tarMBps) * 100) / 100,
      'throughput.agentCpuSec': round((cpu.user + cpu.system) / 1e6),
      'throughput.agentCpuShare': round(((cpu.user + cpu.system) / 1e6 / wallSec) * 100) / 100,
      'throughput.note':
        'bacula wall time is from backup.run to the job record, so it includes Bacula’s job start-up',
    };
  } finally {
    await lab.stop();
  }
}

export async function benchBackup(): Promise<Record<string, unknown>> {
  return { ...(await benchHistory()), ...(await benchThroughput()) };
}
