/**
 * The backup service's configuration methods in an in-process agent, without daemons running:
 * rendering to disk (modes), secrets kept out of LMDB and the audit log, dry runs, refusals and
 * rollback, configuration history (diff, restore), and `unavailable` reasons.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { baculaPaths } from '../../agent/backup/paths.js';
import { clientKey } from '../../agent/backup/secrets.js';
import { createBackupService } from '../../agent/backup/service.js';
import { readableValue } from '../../agent/config-set/versions.js';
import { createRunner } from '../../agent/runner.js';
import { RpcError } from '../../rpc/errors.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { freePorts } from './lab.js';

async function kindOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof RpcError, String(err));
    return err.kind;
  }
}

describe('backup configuration methods (no daemons running)', () => {
  let t: TestAgent;
  let confDir: string;
  const webPassword = 'web-1-password-from-the-client';

  before(async () => {
    t = await startTestAgent({ services: [createBackupService()] });
    confDir = baculaPaths(t.deps.layout).confDir;
    const [dir, fd, sd] = await freePorts(3);
    await t.call('backup.settings.set', { dirPort: dir, fdPort: fd, sdPort: sd });
  });
  after(async () => {
    await t?.stop();
  });

  it('renders every file with mode 0600 and generates the daemon passwords into secrets.env', () => {
    for (const rel of [
      'bacula-dir.conf',
      'dir.d/jobs.conf',
      'bacula-sd.conf',
      'sd.d/devices.conf',
      'bacula-fd.conf',
      'bconsole.conf',
    ]) {
      assert.equal(statSync(path.join(confDir, rel)).mode & 0o777, 0o600, rel);
    }
    const secretsFile = t.deps.layout.secretsFile;
    assert.equal(statSync(secretsFile).mode & 0o777, 0o600);
    const env = readFileSync(secretsFile, 'utf8');
    for (const k of ['BACULA_DIR_PASSWORD', 'BACULA_SD_PASSWORD', 'BACULA_FD_PASSWORD'])
      assert.match(env, new RegExp(`^${k}=\\S{20,}$`, 'm'));
    const dirPw = t.deps.secrets.get('BACULA_DIR_PASSWORD')!;
    assert.ok(readFileSync(path.join(confDir, 'bconsole.conf'), 'utf8').includes(dirPw));
  });

  it('stores client passwords in secrets.env only: not in LMDB, not in the audit log', async () => {
    const r = await t.call<{ item: Record<string, unknown>; applied: { changed: string[] } }>(
      'backup.client.set',
      {
        name: 'web-1',
        address: '192.0.2.10',
        password: webPassword,
      },
    );
    assert.equal(r.item.password, undefined);
    assert.ok(r.applied.changed.some((f) => f.endsWith('clients.conf')));
    assert.equal(t.deps.secrets.get(clientKey('web-1')), webPassword);
    assert.ok(readFileSync(path.join(confDir, 'dir.d', 'clients.conf'), 'utf8').includes(webPassword));
    const lmdb = JSON.stringify(
      [...t.deps.store.db('config').getRange({})].map((e) => readableValue(e.value)),
    );
    assert.ok(!lmdb.includes(webPassword));
    for (const k of ['BACULA_DIR_PASSWORD', 'BACULA_SD_PASSWORD', 'BACULA_FD_PASSWORD'])
      assert.ok(!lmdb.includes(t.deps.secrets.get(k)!));
    const audit = JSON.stringify(await t.call('audit.query', { method: 'backup.client.set' }));
    assert.ok(audit.includes('backup.client.set'));
    assert.ok(!audit.includes(webPassword));
  });

  it('dry run: the redacted diff of each file, nothing written', async () => {
    const jobs = path.join(confDir, 'dir.d', 'jobs.conf');
    await t.call('backup.fileset.set', { name: 'etc', include: ['/etc'] });
    await t.call('backup.pool.set', { name: 'daily', storage: 'calypso-disk' });
    const before = readFileSync(jobs, 'utf8');
    const versions = (await t.call<{ items: unknown[] }>('backup.config.history')).items.length;
    const plan = await t.call<{
      dryRun: boolean;
      commands: string[][];
      files: { path: string; diff: string }[];
    }>('backup.job.set', {
      name: 'etc-backup',
      client: 'web-1',
      fileset: 'etc',
      pool: 'daily',
      dryRun: true,
    });
    assert.equal(plan.dryRun, true);
    assert.deepEqual(
      plan.files.map((f) => f.path),
      [jobs],
    );
    assert.match(plan.files[0]!.diff, /^\+ {2}Name = "etc-backup"$/m);
    assert.match(plan.files[0]!.diff, /^\+ {2}Client = "web-1"$/m);
    assert.equal(readFileSync(jobs, 'utf8'), before);
    assert.equal((await t.call<{ items: unknown[] }>('backup.job.list')).items.length, 0);
    assert.equal((await t.call<{ items: unknown[] }>('backup.config.history')).items.length, versions);
    // a new client's diff shows its password redacted, even though it was given
    const c = await t.call<{ files: { diff: string }[] }>('backup.client.set', {
      name: 'db-1',
      address: '192.0.2.11',
      password: 'db-1-password-given-here',
      dryRun: true,
    });
    const diff = c.files.map((f) => f.diff).join('\n');
    assert.match(diff, /^\+ {2}Password = "\*{8}"$/m);
    assert.ok(!diff.includes('db-1-password-given-here'));
    assert.equal(t.deps.secrets.get(clientKey('db-1')), undefined);
  });

  it('refuses what Bacula would refuse, and keeps the previous files', async () => {
    const before = readFileSync(path.join(confDir, 'dir.d', 'schedules.conf'), 'utf8');
    assert.equal(
      await kindOf(
        t.call('backup.schedule.set', { name: 'odd', runs: [{ when: 'every blursday at 23:05' }] }),
      ),
      'invalid',
    );
    assert.equal(readFileSync(path.join(confDir, 'dir.d', 'schedules.conf'), 'utf8'), before);
    assert.equal((await t.call<{ items: unknown[] }>('backup.schedule.list')).items.length, 0);
    // caught by the reference checks, with a precise message
    await assert.rejects(
      t.call('backup.job.set', { name: 'x', client: 'nobody', fileset: 'etc', pool: 'daily' }),
      /client "nobody" does not exist/,
    );
    assert.equal(
      await kindOf(
        t.call('backup.job.set', {
          name: 'x',
          client: 'web-1',
          fileset: 'etc',
          pool: 'Scratch',
          storage: 'calypso-disk',
        }),
      ),
      'invalid',
    );
    assert.equal(await kindOf(t.call('backup.pool.set', { name: 'Scratch' })), 'invalid');
    assert.equal(
      await kindOf(t.call('backup.client.set', { name: 'calypso-fd', address: '127.0.0.1' })),
      'conflict',
    );
    assert.equal(await kindOf(t.call('backup.storage.set', { name: 'lib', type: 'tape' })), 'invalid');
    // schema: names and paths
    assert.equal(
      await kindOf(t.call('backup.fileset.set', { name: 'bad name', include: ['/etc'] })),
      'invalid',
    );
    assert.equal(
      await kindOf(t.call('backup.fileset.set', { name: 'q', include: ['/etc/"quoted"'] })),
      'invalid',
    );
  });

  it('refuses to delete what is in use; deletes what is not', async () => {
    await t.call('backup.job.set', { name: 'etc-backup', client: 'web-1', fileset: 'etc', pool: 'daily' });
    await assert.rejects(t.call('backup.pool.delete', { name: 'daily' }), /used by job etc-backup/);
    assert.equal(await kindOf(t.call('backup.client.delete', { name: 'web-1' })), 'conflict');
    assert.equal(await kindOf(t.call('backup.fileset.delete', { name: 'nope' })), 'not_found');
    await t.call('backup.job.delete', { name: 'etc-backup' });
    await t.call('backup.client.delete', { name: 'web-1' });
    assert.equal(t.deps.secrets.get(clientKey('web-1')), undefined);
    assert.ok(!readFileSync(t.deps.layout.secretsFile, 'utf8').includes(webPassword));
    const clients = await t.call<{ items: { name: string; builtin?: boolean }[] }>('backup.client.list');
    assert.deepEqual(
      clients.items.map((c) => [c.name, c.builtin ?? false]),
      [['calypso-fd', true]],
    );
  });

  it('keeps a history of applied versions to diff and restore', async () => {
    const h = await t.call<{ items: { version: number; summary: string }[] }>('backup.config.history');
    assert.ok(h.items.length >= 6);
    const newest = h.items[0]!;
    assert.equal(newest.summary, 'backup.client.delete web-1');
    const withJob = h.items.find((i) => i.summary === 'backup.job.set etc-backup')!;
    const d = await t.call<{ files: { path: string; diff: string }[] }>('backup.config.diff', {
      from: withJob.version,
      to: newest.version,
    });
    const all = d.files.map((f) => f.diff).join('\n');
    assert.match(all, /^- {2}Name = "etc-backup"$/m);
    assert.match(all, /^- {2}Name = "web-1"$/m);
    assert.ok(!all.includes(webPassword));
    const r = await t.call<{ changed: string[] }>('backup.config.restore', { version: withJob.version });
    assert.ok(r.changed.length > 0);
    assert.deepEqual(
      (await t.call<{ items: { name: string }[] }>('backup.job.list')).items.map((j) => j.name),
      ['etc-backup'],
    );
    assert.match(readFileSync(path.join(confDir, 'dir.d', 'jobs.conf'), 'utf8'), /Name = "etc-backup"/);
    assert.equal(await kindOf(t.call('backup.config.diff', { from: 9999 })), 'not_found');
  });

  it('only admins change the configuration; auditors read it', async () => {
    assert.equal(
      await kindOf(t.call('backup.fileset.set', { name: 'a', include: ['/a'] }, { role: 'operator' })),
      'denied',
    );
    assert.equal(await kindOf(t.call('backup.fileset.list', {}, { role: 'auditor' })), 'ok');
  });

  it('the status says the director is not running; operations say why they cannot run', async () => {
    const st = await t.call<{ director: { up: boolean; error?: string } }>('backup.status');
    assert.equal(st.director.up, false);
    assert.match(
      String(st.director.error),
      /bacula director is not running or not reachable .*connection refused/,
    );
    const err = await t.call('backup.cancel', { jobId: 1 }).catch((e: unknown) => e);
    assert.ok(err instanceof RpcError);
    assert.equal(err.kind, 'unavailable');
    // the catalog exists (created on the first apply) and is readable without the director
    assert.deepEqual(await t.call('backup.history'), { items: [], total: 0 });
  });
});

describe('backup service without Bacula installed', () => {
  let t: TestAgent;
  before(async () => {
    t = await startTestAgent({
      services: [createBackupService()],
      runner: createRunner({ path: '/nonexistent' }),
    });
  });
  after(async () => {
    await t?.stop();
  });

  it('is unavailable with the reason, for operations and for configuration changes', async () => {
    for (const [m, p] of [
      ['backup.status', {}],
      ['backup.config.apply', {}],
    ] as const) {
      const err = await t.call(m, p).catch((e: unknown) => e);
      assert.ok(err instanceof RpcError, m);
      assert.equal(err.kind, 'unavailable', m);
      assert.match(String(err.data.reason ?? err.message), /not installed/, m);
    }
    // reading the desired state needs nothing installed
    assert.equal((await t.call<{ items: unknown[] }>('backup.client.list')).items.length, 1);
  });
});
