import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createLogger } from '../../agent/log.js';
import { openStore } from '../../agent/store.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';

let t: TestAgent;
before(async () => {
  t = await startTestAgent();
});
after(() => t.stop());

test('system.ping returns the package version', async () => {
  const r = await t.call<{ version: string }>('system.ping', {}, { role: 'public' });
  assert.equal(r.version, t.deps.version);
});

test('system.info reports host, OS, CPU and memory from systeminformation', async () => {
  const r = await t.call<{
    hostname: string;
    cpu: { cores: number };
    memory: { total: number };
    os: { kernel: string };
  }>('system.info', {}, { role: 'auditor' });
  assert.ok(r.hostname.length > 0);
  assert.ok(r.cpu.cores >= 1);
  assert.ok(r.memory.total > 100 * 1024 * 1024);
  assert.equal(r.os.kernel, readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
});

test('system.capabilities says what exists, with versions, and why not', async () => {
  const caps = await t.call<
    { name: string; available: boolean; reason?: string; version?: string; variant?: string }[]
  >('system.capabilities', {}, { role: 'auditor' });
  const by = new Map(caps.map((c) => [c.name, c]));
  for (const name of [
    'zfs',
    'scst',
    'tgt',
    'mhvtl',
    'mtx',
    'mt',
    'bconsole',
    'bacula-dir',
    'minio',
    'smartctl',
    'udevadm',
  ])
    assert.ok(by.has(name), `${name} is probed`);
  // this machine (and CI) has zfs-fuse, tgt and Bacula from Debian, and no SCST/mhvtl kernel modules
  assert.equal(by.get('zfs')?.available, true);
  assert.equal(by.get('zfs')?.variant, 'zfs-fuse');
  assert.equal(by.get('bacula-dir')?.available, true);
  assert.match(by.get('bacula-dir')?.version ?? '', /^\d+\.\d+/);
  assert.equal(by.get('scst')?.available, false);
  assert.match(by.get('scst')?.reason ?? '', /not installed|kernel support missing/);
  assert.equal(by.get('minio')?.available, false);
  assert.match(by.get('minio')?.reason ?? '', /minio not installed/);
  await assert.rejects(t.deps.capabilities.require('minio'), (e: unknown) => {
    const err = e as { kind: string; data: { reason: string } };
    return err.kind === 'unavailable' && /minio/.test(err.data.reason);
  });
});

test('LMDB state: forward migrations run once, after a backup hook; a newer schema is refused', async () => {
  const d = tempDir();
  const ran: string[] = [];
  const migrations = [
    { version: 1, description: 'initial', up: async () => void ran.push('1') },
    {
      version: 2,
      description: 'add a setting',
      up: async (s: Awaited<ReturnType<typeof openStore>>) => {
        ran.push('2');
        await s.db('settings').put('migrated', true);
      },
    },
  ];
  const hooks: string[] = [];
  const s1 = await openStore({ path: d.dir, migrations: migrations.slice(0, 1) });
  await s1.close();
  const s2 = await openStore({
    path: d.dir,
    migrations,
    beforeMigrate: async (from, to) => void hooks.push(`${from}->${to}`),
  });
  assert.equal(s2.schemaVersion(), 2);
  assert.equal(s2.db('settings').get('migrated'), true);
  await s2.close();
  const s3 = await openStore({ path: d.dir, migrations });
  await s3.close();
  assert.deepEqual(ran, ['1', '2']);
  assert.deepEqual(hooks, ['1->2']);
  await assert.rejects(
    openStore({ path: d.dir, migrations: migrations.slice(0, 1) }),
    /newer than this agent knows/,
  );
  d.cleanup();
});

test('the log file gets JSON lines with secrets redacted', async () => {
  const d = tempDir();
  const file = path.join(d.dir, 'log/agent.log');
  const log = await createLogger({ level: 'info', file });
  log.info({ params: { name: 'tank', password: 'hunter2' }, token: 'cal_x' }, 'pool.create: created');
  await new Promise<void>((r) => log.flush(() => r()));
  let text = '';
  for (let i = 0; i < 100 && !text.includes('pool.create'); i++) {
    await new Promise((r) => setTimeout(r, 50));
    try {
      text = readFileSync(path.join(path.dirname(file), 'current.log'), 'utf8');
    } catch {
      /* rolled file not there yet */
    }
  }
  const line = JSON.parse(text.trim().split('\n').pop()!) as {
    params: { password: string; name: string };
    token: string;
  };
  assert.equal(line.params.name, 'tank');
  assert.equal(line.params.password, '[redacted]');
  assert.equal(line.token, '[redacted]');
  assert.ok(!text.includes('hunter2'));
  d.cleanup();
});
