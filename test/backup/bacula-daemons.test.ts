/**
 * Integration with the real Bacula 9.6 daemons from Debian (director with a SQLite catalog,
 * storage daemon, file daemon, bconsole), started under the test's prefix on free loopback
 * ports and stopped at the end: full + incremental backup of a generated ~200 MB tree, restore
 * compared by content, mode and times, chosen-file restore, cancel mid-run, an invalid change
 * refused while the director keeps running, dry-run diffs, and the director stopped.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JobRecord } from '../../agent/jobs.js';
import { RpcError } from '../../rpc/errors.js';
import { recordConsole } from './console-recorder.js';
import { compareTrees, type Lab, makeTree, startLab } from './lab.js';

interface JobItem {
  jobId: number;
  status: string;
  statusCode: string;
  level?: string;
  files: number;
  bytes: number;
  rate?: number;
}

async function rejects(p: Promise<unknown>, kind: string): Promise<RpcError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof RpcError, `expected RpcError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    return err;
  }
  assert.fail(`expected ${kind}`);
}

describe('backup with the real Bacula daemons', { timeout: 300_000 }, () => {
  let lab: Lab;
  let data: string;
  let fullId = 0;
  let incrId = 0;
  const call = <T>(m: string, p: Record<string, unknown> = {}) => lab.t.call<T>(m, p);
  const runJob = async (method: string, params: Record<string, unknown>): Promise<JobRecord> => {
    const { job } = await call<{ job: string }>(method, params);
    return lab.t.waitJob(job);
  };

  before(async () => {
    lab = await startLab();
    data = path.join(lab.t.prefix, 'data');
    await makeTree(data);
    await call('backup.storage.set', { name: 'vault', type: 'disk', devices: 2 });
    await call('backup.pool.set', { name: 'daily', storage: 'vault', maxVolumeBytes: 4 * 1024 ** 3 });
    await call('backup.fileset.set', { name: 'tree', include: [data], excludePatterns: ['*.tmp'] });
    await call('backup.job.set', {
      name: 'tree-backup',
      client: 'calypso-fd',
      fileset: 'tree',
      pool: 'daily',
    });
    // Throttled by the file daemon, so that the cancel test catches it mid-run.
    await call('backup.job.set', {
      name: 'tree-slow',
      client: 'calypso-fd',
      fileset: 'tree',
      pool: 'daily',
      maxBandwidth: 4 * 1024 * 1024,
    });
    await lab.startAll();
  });

  after(async () => {
    await lab?.stop();
  });

  it('reports the three daemons up with their versions', async () => {
    const s = await call<{
      director: { up: boolean; header: { version: string } };
      storages: { up: boolean }[];
      clients: { up: boolean }[];
    }>('backup.status');
    assert.equal(s.director.up, true);
    assert.match(s.director.header.version, /^9\.6\./);
    assert.ok(s.storages.length >= 2 && s.storages.every((x) => x.up));
    assert.ok(s.clients.every((x) => x.up));
  });

  it('runs a full backup as a job with progress and a catalog record', async () => {
    const seen: string[] = [];
    const off = lab.t.events.on(['job.progress'], (e) => {
      const d = e.data as { progress?: { description: string } };
      if (d.progress) seen.push(d.progress.description);
    });
    const rec = await runJob('backup.run', { job: 'tree-backup', level: 'Full' });
    off();
    assert.equal(rec.state, 'success', JSON.stringify(rec.error));
    const r = rec.result as JobItem;
    assert.equal(r.status, 'success');
    assert.equal(r.level, 'Full');
    assert.ok(r.files > 400, `files ${r.files}`);
    assert.ok(r.bytes > 90 * 1024 * 1024, `bytes ${r.bytes}`);
    assert.ok(
      seen.some((d) => /queued/.test(d)),
      seen.join(' | '),
    );
    fullId = r.jobId;
    const h = await call<{ items: JobItem[]; total: number }>('backup.history', { name: 'tree-backup' });
    assert.equal(h.total, 1);
    assert.equal(h.items[0]?.jobId, fullId);
  });

  it('browses the catalog of the job, names with spaces and UTF-8 included', async () => {
    const top = await call<{ items: { name: string; type: string }[] }>('backup.files', {
      jobId: fullId,
      path: `${data}/`,
    });
    const names = top.items.map((i) => i.name);
    for (const n of ['big files', 'links', 'naïve café', 'small', 'sparse', '名前 with spaces'])
      assert.ok(names.includes(n), n);
    const cafe = await call<{ items: { name: string; type: string; mode?: number; size?: number }[] }>(
      'backup.files',
      {
        jobId: fullId,
        path: `${data}/naïve café`,
      },
    );
    const key = cafe.items.find((i) => i.name === 'secret.key');
    assert.equal(key?.mode, 0o600);
    assert.equal(key?.size, 123);
    const links = await call<{ items: { name: string; type: string; hardLink?: boolean }[] }>(
      'backup.files',
      {
        jobId: fullId,
        path: `${data}/links/`,
      },
    );
    assert.equal(links.items.find((i) => i.name === 'sym-rel')?.type, 'link');
    assert.ok(
      links.items.some((i) => i.hardLink),
      'one of the hard links refers to the other',
    );
  });

  it('lists, labels and purges volumes; shows the job log', async () => {
    const before = await call<{ items: { name: string; pool: string; bytes: number; status: string }[] }>(
      'backup.volume.list',
      {
        pool: 'daily',
      },
    );
    assert.ok(before.items.length >= 1);
    assert.ok(before.items.every((v) => v.pool === 'daily'));
    assert.ok(before.items.some((v) => v.bytes > 90 * 1024 * 1024 && v.name.startsWith('daily-')));
    const label = await call<{ message: string }>('backup.volume.label', {
      storage: 'vault',
      pool: 'daily',
      volume: 'manual-0001',
    });
    assert.match(label.message, /manual-0001/);
    await rejects(
      call('backup.volume.label', { storage: 'vault', pool: 'daily', volume: 'manual-0001' }),
      'conflict',
    );
    const purged = await call<{ message: string }>('backup.volume.purge', {
      volume: 'manual-0001',
      confirm: 'manual-0001',
    });
    assert.match(purged.message, /purged/i);
    const after = await call<{ items: { name: string; status: string }[] }>('backup.volume.list', {
      pool: 'daily',
    });
    assert.equal(after.items.find((v) => v.name === 'manual-0001')?.status, 'Purged');
    await rejects(call('backup.volume.purge', { volume: 'manual-0001', confirm: 'other' }), 'invalid');
    const log = await call<{ items: { text: string }[] }>('backup.history.log', { jobId: fullId });
    assert.ok(log.items.some((l) => /Termination:\s+Backup OK/.test(l.text)));
  });

  it('runs an incremental that only takes the changes', async () => {
    await writeFile(path.join(data, 'naïve café', 'new file.txt'), 'added after the full backup\n');
    await appendFile(path.join(data, 'small', 'd1', 'f-1.txt'), 'changed\n');
    await writeFile(path.join(data, 'ignored.tmp'), 'excluded by pattern');
    const rec = await runJob('backup.run', { job: 'tree-backup', level: 'Incremental' });
    assert.equal(rec.state, 'success', JSON.stringify(rec.error));
    const r = rec.result as JobItem;
    assert.equal(r.level, 'Incremental');
    assert.ok(r.files >= 2 && r.files < 20, `incremental files ${r.files}`);
    incrId = r.jobId;
    const listing = await call<{ items: { name: string }[] }>('backup.files', {
      jobId: incrId,
      path: `${data}/naïve café/`,
    });
    assert.ok(listing.items.some((i) => i.name === 'new file.txt'));
    const root = await call<{ items: { name: string }[] }>('backup.files', {
      jobId: incrId,
      path: `${data}/`,
    });
    assert.ok(!root.items.some((i) => i.name === 'ignored.tmp'), 'excludePatterns applied');
  });

  it('restores the incremental (with its full) to another directory, identical in content, modes and times', async () => {
    const where = path.join(lab.t.prefix, 'restore-all');
    const rec = await runJob('backup.restore', { jobId: incrId, where });
    assert.equal(rec.state, 'success', JSON.stringify(rec.error));
    const diffs = (await compareTrees(data, path.join(where, data))).filter(
      (d) => !d.endsWith('ignored.tmp'),
    );
    assert.deepEqual(diffs, []);
  });

  it('restores chosen files and a directory only', async () => {
    const where = path.join(lab.t.prefix, 'restore-some');
    const files = [`${data}/名前 with spaces/ファイル ü.txt`, `${data}/links/`];
    const rec = await runJob('backup.restore', { jobId: fullId, where, files, chain: false });
    assert.equal(rec.state, 'success', JSON.stringify(rec.error));
    const restored = path.join(where, data);
    assert.equal(
      await readFile(path.join(restored, '名前 with spaces', 'ファイル ü.txt'), 'hex'),
      await readFile(path.join(data, '名前 with spaces', 'ファイル ü.txt'), 'hex'),
    );
    const linkDiffs = await compareTrees(path.join(data, 'links'), path.join(restored, 'links'));
    assert.deepEqual(linkDiffs, []);
    assert.equal(existsSync(path.join(restored, 'small')), false, 'files that were not chosen stay out');
    const missing = await runJob('backup.restore', { jobId: fullId, where, files: [`${data}/no such file`] });
    assert.equal(missing.state, 'failed');
    assert.equal((missing.error?.data as { kind?: string } | undefined)?.kind, 'not_found');
  });

  it('cancels a running job: it ends aborted and the catalog stays sound', async () => {
    const seen: string[] = [];
    const off = lab.t.events.on(['job.progress'], (e) => {
      const d = e.data as { progress?: { description: string } };
      if (d.progress) seen.push(d.progress.description);
    });
    const { job } = await call<{ job: string }>('backup.run', {
      job: 'tree-slow',
      level: 'Full',
      estimate: false,
    });
    let baculaId = 0;
    for (let i = 0; i < 100 && !baculaId; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const h = await call<{ items: JobItem[] }>('backup.history', {
        name: 'tree-slow',
        status: ['running'],
      });
      if (h.items[0]) baculaId = h.items[0].jobId;
    }
    assert.ok(baculaId > 0, 'the slow job started');
    await new Promise((r) => setTimeout(r, 1500)); // let it write a few MB
    const plan = await call<{ commands: string[][]; console: string[] }>('backup.cancel', {
      jobId: baculaId,
      dryRun: true,
    });
    const sessions = recordConsole(lab);
    try {
      await call('backup.cancel', { jobId: baculaId });
      assert.deepEqual(
        sessions.sent(),
        [{ argv: plan.commands[0], lines: plan.console }],
        'cancel: as its dry run',
      );
    } finally {
      sessions.stop();
    }
    const rec = await lab.t.waitJob(job);
    off();
    assert.equal(rec.state, 'aborted');
    // live progress from the file daemon while it ran: files, bytes and rate
    assert.ok(
      seen.some((d) => /^backing up: \d+ files, [\d.]+ MiB, [\d.]+ MiB\/s$/.test(d)),
      seen.join(' | '),
    );
    const item = await call<JobItem>('backup.history.get', { jobId: baculaId });
    assert.equal(item.status, 'aborted');
    assert.equal(item.statusCode, 'A');
    const check = await lab.t.deps.runner.run([
      'sqlite3',
      '-readonly',
      lab.paths.catalogDb,
      'PRAGMA integrity_check;',
    ]);
    assert.equal(check.stdout.trim(), 'ok');
    // the catalog and the daemons carry on: another backup succeeds
    const next = await runJob('backup.run', { job: 'tree-backup', level: 'Incremental' });
    assert.equal(next.state, 'success', JSON.stringify(next.error));
    const h = await call<{ items: JobItem[]; total: number }>('backup.history', {
      type: 'backup',
      status: ['aborted'],
    });
    assert.equal(h.total, 1);
  });

  it('refuses an invalid change, keeps the previous files and the director running on them', async () => {
    const schedules = path.join(lab.paths.confDir, 'dir.d', 'schedules.conf');
    const before = await readFile(schedules, 'utf8');
    const dirBefore = (
      await call<{ director: { header: { pid: number; reloaded: string } } }>('backup.status')
    ).director;
    const err = await rejects(
      call('backup.schedule.set', {
        name: 'nightly',
        runs: [{ level: 'Full', when: 'every blursday at 23:05' }],
      }),
      'invalid',
    );
    assert.match(err.message, /bacula-dir rejected the configuration/);
    assert.match(String((err.data as { detail?: string }).detail), /blursday|every/);
    assert.equal(await readFile(schedules, 'utf8'), before);
    const list = await call<{ items: { name: string }[] }>('backup.schedule.list');
    assert.ok(!list.items.some((s) => s.name === 'nightly'));
    const dirAfter = (
      await call<{ director: { up: boolean; header: { pid: number; reloaded: string } } }>('backup.status')
    ).director;
    assert.equal(dirAfter.up, true);
    assert.equal(dirAfter.header.pid, dirBefore.header.pid);
    assert.equal(dirAfter.header.reloaded, dirBefore.header.reloaded, 'no reload happened');
    // a valid schedule then goes through, with a reload
    const ok = await call<{ applied: { reloaded: boolean } }>('backup.schedule.set', {
      name: 'nightly',
      runs: [{ level: 'Incremental', when: 'mon-fri at 23:05' }],
    });
    assert.equal(ok.applied.reloaded, true);
  });

  it('dry runs return the file diff (passwords redacted) and change nothing', async () => {
    const clients = path.join(lab.paths.confDir, 'dir.d', 'clients.conf');
    const before = await readFile(clients, 'utf8');
    const plan = await call<{ dryRun: true; commands: string[][]; files: { path: string; diff: string }[] }>(
      'backup.client.set',
      {
        name: 'web-1',
        address: '192.0.2.10',
        dryRun: true,
      },
    );
    assert.equal(plan.dryRun, true);
    assert.deepEqual(plan.commands[0]?.slice(0, 2), ['bacula-dir', '-t']);
    const d = plan.files.find((f) => f.path === clients);
    assert.ok(d, 'clients.conf in the plan');
    assert.match(d.diff, /^\+ {2}Name = "web-1"$/m);
    assert.match(d.diff, /^\+ {2}Address = 192\.0\.2\.10$/m);
    assert.match(d.diff, /Password = "\*{8}"/);
    assert.doesNotMatch(d.diff, /Password = "(?!\*{8})/);
    assert.equal(await readFile(clients, 'utf8'), before);
    const list = await call<{ items: { name: string }[] }>('backup.client.list');
    assert.ok(!list.items.some((c) => c.name === 'web-1'));
  });

  // after the others: its backup and its labelled-then-purged volume must not change what they see
  it('dry runs of backup operations list exactly the console sessions the real runs send', async () => {
    const rec = recordConsole(lab);
    try {
      const cases: [string, Record<string, unknown>][] = [
        ['backup.volume.label', { storage: 'vault', pool: 'daily', volume: 'dry-equal-0001' }],
        ['backup.run', { job: 'tree-backup', level: 'Incremental' }],
        ['backup.volume.purge', { volume: 'dry-equal-0001', confirm: 'dry-equal-0001' }],
      ];
      for (const [method, params] of cases) {
        const plan = await call<{ commands: string[][]; console: string[] }>(method, {
          ...params,
          dryRun: true,
        });
        assert.deepEqual(rec.sent(), [], `${method}: the dry run sent nothing mutating`);
        rec.clear();
        const r = await call<{ job?: string }>(method, params);
        if (r?.job) assert.equal((await lab.t.waitJob(r.job)).state, 'success');
        assert.deepEqual(
          rec.sent(),
          [{ argv: plan.commands[0], lines: plan.console }],
          `${method}: the real run differs from its dry run`,
        );
        rec.clear();
      }
    } finally {
      rec.stop();
    }
  });

  it('director stopped → backup.status reports it down with the reason, jobs are unavailable; the catalog stays readable', async () => {
    await lab.stopDaemon('dir');
    const st = await call<{
      director: { up: boolean; error?: string };
      storages: { up: boolean; error?: string }[];
    }>('backup.status');
    assert.equal(st.director.up, false);
    assert.match(String(st.director.error), /not running|connection refused/);
    assert.ok(
      st.storages.length > 0 && st.storages.every((x) => !x.up && /director is down/.test(String(x.error))),
    );
    const rec = await runJob('backup.run', { job: 'tree-backup' });
    assert.equal(rec.state, 'failed');
    assert.equal((rec.error?.data as { kind?: string } | undefined)?.kind, 'unavailable');
    const h = await call<{ total: number }>('backup.history', {});
    assert.ok(h.total >= 5);
  });
});

/**
 * Record every bconsole session the agent opens (its argv and the lines it writes) and return
 * those that send anything but reads (dot commands, estimate, status, list).
 */
