/**
 * Restore drills (issue #27, docs/drills.md) with the real Bacula daemons: a drill passes on a
 * fresh backup (every restored file has its catalog MD5, the scratch is gone after); a sampled
 * drill checks only its sample and keeps its bounded reports; bytes of the disk volume
 * overwritten on purpose make the next drill fail, naming the damaged file, and raise the
 * alert; the dry run shows the exact restore; a drill on a schedule starts by itself; delete
 * clears the alert. The pure parts (Bacula's base64, sampling, the file filter) first.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, open, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { alertsSubsystem } from '../../agent/alerts/service.js';
import type { Report } from '../../agent/backup/drill-model.js';
import {
  baculaBase64,
  expectedFiles,
  sample,
  sampleable,
  signatureMatches,
} from '../../agent/backup/drill-verify.js';
import type { JobRecord } from '../../agent/jobs.js';
import { waitUntil } from '../../agent/util/time.js';
import { recordConsole } from './console-recorder.js';
import { type Lab, startLab } from './lab.js';

const kindOf = (e: unknown) => (e as { data?: { kind?: string } } | undefined)?.data?.kind;

describe('restore drills: the pure parts', () => {
  it("encodes digests as Bacula's bin_to_base64 does (no padding; the old sign-extending form too)", () => {
    const d = createHash('md5').update('calypso').digest();
    assert.equal(baculaBase64(d, true), d.toString('base64').replace(/=+$/, ''));
    assert.equal(
      baculaBase64(Buffer.from([0x7f, 0x01]), false),
      baculaBase64(Buffer.from([0x7f, 0x01]), true).replace(/E$/, 'B'),
    );
    assert.ok(signatureMatches(baculaBase64(d, false), d));
    assert.ok(!signatureMatches(baculaBase64(createHash('md5').update('other').digest(), true), d));
  });

  it('samples without repeats and checks only signed regular files', () => {
    const s = sample([1, 2, 3, 4, 5], 3);
    assert.equal(new Set(s).size, 3);
    assert.deepEqual(sample([1, 2], 5).sort(), [1, 2]);
    // LStat of a regular file (mode 0100644 = base64 "IGk") and of a directory (040755 = "EHt")
    const file = 'P0A BAAA IGk B A A A BAA BAA BAA BAA BAA A A A';
    const dir = 'P0A BAAA EHt B A A A BAA BAA BAA BAA BAA A A A';
    const r = expectedFiles([
      { dir: '/d/', name: 'a', sig: 'x'.repeat(22), lstat: file },
      { dir: '/d/', name: 'b', sig: '0', lstat: file },
      { dir: '/d/', name: 'c', sig: 'x'.repeat(22), lstat: dir },
    ]);
    assert.deepEqual(
      r.files.map((f) => f.path),
      ['/d/a'],
    );
    assert.equal(r.unsigned, 1);
    const linked = { path: '/d/l', size: 1, sig: 'x', linked: true };
    assert.deepEqual(
      sampleable([linked, { ...linked, path: '/d/m', linked: false }]).map((f) => f.path),
      ['/d/m'],
    );
  });
});

describe('restore drills with the real Bacula daemons', { timeout: 300_000 }, () => {
  let lab: Lab;
  let data: string;
  let backupJobId = 0;
  const call = <T>(m: string, p: Record<string, unknown> = {}) => lab.t.call<T>(m, p);
  const runJob = async (m: string, p: Record<string, unknown>): Promise<JobRecord> => {
    const { job } = await call<{ job: string }>(m, p);
    return lab.t.waitJob(job);
  };
  const big = (i: number) => path.join(data, 'big', `blob-${i}.bin`);
  const blobs: Buffer[] = [];

  before(async () => {
    lab = await startLab({ services: [alertsSubsystem], drillTickMs: 250 });
    data = path.join(lab.t.prefix, 'data');
    await mkdir(path.join(data, 'big'), { recursive: true });
    await mkdir(path.join(data, 'small', 'deeper'), { recursive: true });
    for (let i = 0; i < 3; i++) {
      blobs.push(randomBytes(512 * 1024));
      await writeFile(big(i), blobs[i]!);
    }
    for (let i = 0; i < 20; i++)
      await writeFile(
        path.join(data, 'small', i % 2 ? 'deeper' : '', `f ${i}.txt`),
        `file ${i}\n`.repeat(i + 1),
      );
    await link(big(0), path.join(data, 'big', 'hard link.bin'));
    await symlink('blob-0.bin', path.join(data, 'big', 'sym'));
    await call('backup.storage.set', { name: 'drillvault', type: 'disk', devices: 1 });
    await call('backup.pool.set', { name: 'drillpool', storage: 'drillvault' });
    await call('backup.fileset.set', { name: 'drilltree', include: [data] });
    await call('backup.job.set', {
      name: 'drilled',
      client: 'calypso-fd',
      fileset: 'drilltree',
      pool: 'drillpool',
    });
    await lab.startAll();
    const rec = await runJob('backup.run', { job: 'drilled', level: 'Full' });
    assert.equal(rec.state, 'success', JSON.stringify(rec.error));
    backupJobId = (rec.result as { jobId: number }).jobId;
  });

  after(async () => {
    await lab?.stop();
  });

  it('refuses a bad schedule, an unknown job and a name in use, in plain words', async () => {
    await assert.rejects(
      call('backup.drill.create', { name: 'x', job: 'drilled', schedule: '61 * * * *' }),
      (e: Error) => /schedule: minute/.test(e.message),
    );
    await assert.rejects(
      call('backup.drill.create', { name: 'x', job: 'nope' }),
      (e: Error) => kindOf(e) === 'not_found',
    );
    await call('backup.drill.create', { name: 'whole', job: 'drilled', keepReports: 3 });
    await call('backup.drill.create', { name: 'sampled', job: 'drilled', sample: 30, keepReports: 1 });
    await assert.rejects(
      call('backup.drill.create', { name: 'whole', job: 'drilled' }),
      (e: Error) => kindOf(e) === 'conflict',
    );
    const list = await call<{ items: { name: string }[]; total: number }>('backup.drill.list');
    assert.deepEqual(
      list.items.map((d) => d.name),
      ['sampled', 'whole'],
    );
  });

  it('the dry run shows the exact restore; the real run sends it, and passes: every file has its catalog MD5; the scratch is removed', async () => {
    const plan = await call<{ dryRun: boolean; commands: string[][]; console: string[] }>(
      'backup.drill.run',
      {
        name: 'whole',
        dryRun: true,
      },
    );
    const scratch = path.join(lab.t.deps.layout.data.cache, 'drills', 'whole');
    assert.deepEqual(plan.console, [
      `restore jobid=${backupJobId} client=calypso-fd restoreclient=calypso-fd restorejob=calypso-restore where="${scratch}" replace=always all done yes`,
    ]);
    assert.equal(plan.commands[0]?.[0], 'bconsole');
    assert.equal(existsSync(scratch), false, 'a dry run restores nothing');

    const sessions = recordConsole(lab);
    let rec: JobRecord;
    try {
      rec = await runJob('backup.drill.run', { name: 'whole' });
      assert.deepEqual(
        sessions.sent(),
        [{ argv: plan.commands[0], lines: plan.console }],
        'backup.drill.run: the real run differs from its dry run',
      );
    } finally {
      sessions.stop();
    }
    assert.equal(rec.state, 'success', JSON.stringify(rec.error));
    const r = rec.result as Report;
    assert.equal(r.result, 'passed', r.message);
    assert.equal(r.algorithm, 'MD5');
    assert.equal(r.backupJobId, backupJobId);
    // 3 blobs + 20 small files + the hard link's second name
    assert.equal(r.checked + r.unsigned, 24, JSON.stringify(r.files.map((f) => f.path)));
    assert.ok(r.checked >= 23);
    assert.ok(r.files.every((f) => f.result === 'ok'));
    assert.ok(r.files.some((f) => f.path === big(1)));
    assert.equal(existsSync(r.scratch), false, 'scratch removed');
    assert.equal(lab.t.deps.alerts.get('backup.drill.failed:whole'), undefined);
    const got = await call<Report>('backup.drill.report.get', { name: 'whole' });
    assert.equal(got.id, r.id);
  });

  it('a sampled drill checks only its sample and keeps its last report only', async () => {
    for (let i = 0; i < 2; i++) {
      const rec = await runJob('backup.drill.run', { name: 'sampled' });
      assert.equal(rec.state, 'success', JSON.stringify(rec.error));
      const r = rec.result as Report;
      // 30 asked, 23 drawable: every file but the second name of the hard-linked pair, whose
      // restore alone would have nothing to link to (drill-verify.ts, sampleable)
      assert.equal(r.checked, 23);
      assert.ok(r.files.every((f) => f.result === 'ok'));
      assert.equal(r.sampled, true);
    }
    const d = await call<{ last?: { result: string } }>('backup.drill.get', { name: 'sampled' });
    assert.equal(d.last?.result, 'passed');
    const reports = lab.t.deps.store
      .db('history')
      .getRange({ start: 'drill-report/sampled/', end: 'drill-report/sampled/\uffff' });
    assert.equal([...reports].length, 1, 'keepReports: 1');
  });

  it('bytes of the volume overwritten on purpose make the next drill fail, naming the file, with an alert', async () => {
    // find blob-1's bytes in the disk volume and overwrite 4 KiB of them
    const dir = path.join(lab.paths.volumesRoot, 'drillvault');
    const vols = (await readdir(dir)).filter((n) => n.startsWith('drillpool'));
    assert.ok(vols.length > 0, `no volume in ${dir}`);
    const marker = blobs[1]!.subarray(200_000, 200_064);
    let hit: { file: string; at: number } | undefined;
    for (const v of vols) {
      const at = (await readFile(path.join(dir, v))).indexOf(marker);
      if (at >= 0) hit = { file: path.join(dir, v), at };
    }
    assert.ok(hit, 'blob-1 found in the volume');
    const size = (await stat(hit.file)).size;
    const fh = await open(hit.file, 'r+');
    await fh.write(randomBytes(4096), 0, 4096, hit.at);
    await fh.close();
    assert.equal((await stat(hit.file)).size, size);

    const rec = await runJob('backup.drill.run', { name: 'whole' });
    assert.equal(rec.state, 'failed');
    assert.match(rec.error?.message ?? '', /missing or differ/);
    const files = (rec.error?.data as { files?: string[] } | undefined)?.files ?? [];
    assert.ok(files.includes(big(1)), JSON.stringify(files));
    assert.ok(!files.includes(big(0)) || !files.includes(big(2)), 'not every file is blamed');
    const r = await call<Report>('backup.drill.report.get', { name: 'whole' });
    assert.equal(r.result, 'failed');
    assert.equal(r.files[0]?.result === 'ok', false, 'failures come first');
    assert.ok(r.files.some((f) => f.path === big(1) && f.result !== 'ok'));
    assert.equal(existsSync(r.scratch), false, 'scratch removed after a failure too');
    const alert = lab.t.deps.alerts.get('backup.drill.failed:whole');
    assert.equal(alert?.state, 'active');
    assert.equal(alert?.level, 'critical');
    assert.ok(alert?.detail?.includes(big(1)), alert?.detail);
    const reports = await call<{ items: { last?: { result: string } }[] }>('backup.drill.list');
    assert.ok(reports.items.some((d) => d.last?.result === 'failed'));
  });

  it('a drill on a schedule starts by itself as a job; the maintenance calendar lists the drills', async () => {
    await call('backup.drill.create', { name: 'minutely', job: 'drilled', schedule: '* * * * *', sample: 1 });
    const d = await call<{ nextRun?: string }>('backup.drill.get', { name: 'minutely' });
    assert.ok(d.nextRun && Date.parse(d.nextRun) > Date.now() - 60_000);
    const r = await waitUntil(
      () =>
        [
          ...lab.t.deps.store
            .db('history')
            .getRange({ start: 'drill-report/minutely/', end: 'drill-report/minutely/\uffff' }),
        ][0]?.value as Report | undefined,
      { timeoutMs: 60_000, what: 'the scheduled drill report' },
    );
    assert.equal(r.checked, 1);

    // the maintenance calendar: the drills' next and last runs, soonest first
    type Cal = {
      items: {
        source: string;
        id: string;
        schedule?: string;
        nextRun?: string;
        lastRun?: { result: string };
      }[];
      errors: unknown[];
    };
    const cal = await call<Cal>('maintenance.calendar');
    assert.deepEqual(cal.errors, []);
    assert.deepEqual(
      cal.items.map((e) => e.id),
      ['minutely', 'sampled', 'whole'],
      'the scheduled drill first, then the by-hand ones',
    );
    const minutely = cal.items[0]!;
    assert.equal(minutely.source, 'backup.drill');
    assert.equal(minutely.schedule, '* * * * *');
    assert.ok(minutely.nextRun && Date.parse(minutely.nextRun) > Date.now() - 60_000);
    assert.equal(cal.items.find((e) => e.id === 'whole')?.lastRun?.result, 'failed');
    assert.equal(cal.items.find((e) => e.id === 'sampled')?.lastRun?.result, 'success');
    const failed = await call<Cal>('maintenance.calendar', { failed: true });
    // (the minutely sample of one file may have drawn the damaged one)
    assert.ok(failed.items.some((e) => e.id === 'whole'));
    assert.ok(failed.items.every((e) => e.lastRun?.result === 'failed' && e.id !== 'sampled'));
  });

  it('delete removes the drill, its reports and clears its alert', async () => {
    // the minutely drill may be running again: delete it once no drill job runs
    await waitUntil(
      async () => (await call<{ items: unknown[] }>('job.list', { state: 'running' })).items.length === 0,
      { timeoutMs: 60_000, what: 'no job running' },
    );
    for (const name of ['minutely', 'whole', 'sampled']) await call('backup.drill.delete', { name });
    assert.equal(lab.t.deps.alerts.get('backup.drill.failed:whole')?.state, 'cleared');
    await assert.rejects(
      call('backup.drill.report.get', { name: 'whole' }),
      (e: Error) => kindOf(e) === 'not_found',
    );
  });
});
