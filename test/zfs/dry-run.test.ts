/**
 * `dryRun: true` on every mutating ZFS method returns the exact argv and runs nothing mutating,
 * and the real run then sends exactly those argv (recorded by the fake runner). Runs against a
 * fake OpenZFS (fake-runner.ts) so that the production dialect's flags are the ones checked; a
 * meta-check fails when a mutating method has no case here.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OPENZFS } from '../../agent/zfs/dialect.js';
import { RpcError } from '../../rpc/errors.js';
import type { TestAgent } from '../helpers/agent.js';
import { fakeRunner } from './fake-runner.js';
import { type RecordingRunner, startZfsAgent, vdevFiles } from './helpers.js';

const D1 = '/dev/disk/by-id/ata-WDC_WD40EFRX-68N32N0_WD-WCC7K4JKN36U-part1';
const DB = 'tank/calypso/db';
const SNAP = `${DB}@auto-20241109-0300`;
const NOW = Date.UTC(2024, 10, 9, 12, 0);
const AREAS = ['tank/', 'pool.', 'dataset.', 'zvol.', 'snapshot.', 'replication.', 'storage.'];

describe('dry runs of every mutating ZFS method (OpenZFS dialect)', () => {
  let agent: TestAgent;
  let fake: RecordingRunner;
  let f: string[];
  const covered = new Set<string>();

  before(async () => {
    fake = fakeRunner();
    agent = await startZfsAgent({
      clock: { now: () => NOW },
      // the fake's pool never resilvers: the scan jobs end after two idle polls, not a transaction group's wait
      zfs: { runner: fake, dialect: { ...OPENZFS, version: '2.2.4' }, scanSettleMs: 0 },
    });
    f = vdevFiles(path.join(agent.prefix, 'vdevs'), ['f1', 'f2', 'f3', 'f4'], 64 * 1024 * 1024);
    await agent.call('snapshot.policy.set', {
      id: 'db-hourly',
      dataset: DB,
      schedule: '@hourly',
      retention: { count: 2 },
    });
  });
  after(() => agent?.stop());

  const cases: [string, () => Record<string, unknown>, () => string[][]][] = [
    [
      'pool.create',
      () => ({
        name: 'newpool',
        topology: { data: [{ type: 'mirror', disks: [f[0], f[1]] }], spares: [f[2]] },
        properties: { ashift: 12 },
        filesystemProperties: { compression: 'lz4' },
      }),
      () => [
        [
          'zpool',
          'create',
          '-o',
          'ashift=12',
          '-O',
          'compression=lz4',
          '--',
          'newpool',
          'mirror',
          f[0]!,
          f[1]!,
          'spare',
          f[2]!,
        ],
      ],
    ],
    [
      'pool.destroy',
      () => ({ name: 'backup', confirm: 'backup' }),
      () => [['zpool', 'destroy', '--', 'backup']],
    ],
    [
      'pool.import',
      () => ({ pool: 'old', dirs: ['/srv/vdevs'], altroot: '/mnt/x' }),
      () => [['zpool', 'import', '-d', '/srv/vdevs', '-R', '/mnt/x', '--', 'old']],
    ],
    ['pool.export', () => ({ name: 'backup' }), () => [['zpool', 'export', '--', 'backup']]],
    ['pool.detach', () => ({ name: 'tank', device: D1 }), () => [['zpool', 'detach', '--', 'tank', D1]]],
    [
      'pool.offline',
      () => ({ name: 'tank', device: D1, temporary: true }),
      () => [['zpool', 'offline', '-t', '--', 'tank', D1]],
    ],
    ['pool.clear', () => ({ name: 'tank' }), () => [['zpool', 'clear', '--', 'tank']]],
    ['pool.scrub', () => ({ name: 'tank' }), () => [['zpool', 'scrub', '--', 'tank']]],
    ['pool.scrub.pause', () => ({ name: 'tank' }), () => [['zpool', 'scrub', '-p', '--', 'tank']]],
    ['pool.scrub.stop', () => ({ name: 'tank' }), () => [['zpool', 'scrub', '-s', '--', 'tank']]],
    [
      'pool.replace',
      () => ({ name: 'tank', device: D1, newDevice: f[3] }),
      () => [['zpool', 'replace', '--', 'tank', D1, f[3]!]],
    ],
    [
      'pool.attach',
      () => ({ name: 'backup', device: 'sdb', newDevice: f[3], force: true }),
      () => [['zpool', 'attach', '-f', '--', 'backup', 'sdb', f[3]!]],
    ],
    [
      'pool.online',
      () => ({ name: 'tank', device: D1, expand: true }),
      () => [['zpool', 'online', '-e', '--', 'tank', D1]],
    ],
    [
      'dataset.create',
      () => ({ name: 'tank/calypso/new', properties: { compression: 'zstd', recordsize: '1M' } }),
      () => [['zfs', 'create', '-o', 'compression=zstd', '-o', 'recordsize=1M', '--', 'tank/calypso/new']],
    ],
    [
      'dataset.update',
      () => ({ name: DB, properties: { sync: 'always', quota: '100G' }, inherit: ['atime'] }),
      () => [
        ['zfs', 'set', 'quota=100G', DB],
        ['zfs', 'set', 'sync=always', DB],
        ['zfs', 'inherit', 'atime', '--', DB],
      ],
    ],
    ['dataset.destroy', () => ({ name: 'tank/clone' }), () => [['zfs', 'destroy', '--', 'tank/clone']]],
    [
      'dataset.destroy',
      () => ({ name: 'tank/calypso/iscsi', recursive: true, confirm: 'tank/calypso/iscsi' }),
      () => [['zfs', 'destroy', '-r', '--', 'tank/calypso/iscsi']],
    ],
    [
      'zvol.create',
      () => ({ name: 'tank/calypso/iscsi/lun1', size: '10G', sparse: true, blocksize: '16K' }),
      () => [['zfs', 'create', '-s', '-b', '16K', '-V', '10G', '--', 'tank/calypso/iscsi/lun1']],
    ],
    [
      'zvol.resize',
      () => ({ name: 'tank/calypso/iscsi/lun0', size: '200G' }),
      () => [['zfs', 'set', 'volsize=200G', 'tank/calypso/iscsi/lun0']],
    ],
    [
      'snapshot.create',
      () => ({ dataset: DB, name: 'manual-1', recursive: true }),
      () => [['zfs', 'snapshot', '-r', '--', `${DB}@manual-1`]],
    ],
    [
      'snapshot.destroy',
      () => ({ dataset: DB, from: 'auto-20241109-0000', to: 'auto-20241109-0200' }),
      () => [['zfs', 'destroy', '--', `${DB}@auto-20241109-0000%auto-20241109-0200`]],
    ],
    [
      'snapshot.destroy',
      () => ({ snapshot: SNAP, recursive: true }),
      () => [['zfs', 'destroy', '-r', '--', SNAP]],
    ],
    [
      'snapshot.rollback',
      () => ({ snapshot: SNAP, destroyNewer: true }),
      () => [['zfs', 'rollback', '-r', '--', SNAP]],
    ],
    [
      'snapshot.clone',
      () => ({ snapshot: SNAP, target: 'tank/restore', properties: { readonly: 'on' } }),
      () => [['zfs', 'clone', '-o', 'readonly=on', '--', SNAP, 'tank/restore']],
    ],
    [
      'snapshot.hold',
      () => ({ snapshot: SNAP, tag: 'backup', recursive: true }),
      () => [['zfs', 'hold', '-r', '--', 'backup', SNAP]],
    ],
    [
      'snapshot.release',
      () => ({ snapshot: SNAP, tag: 'backup' }),
      () => [['zfs', 'release', '--', 'backup', SNAP]],
    ],
    [
      'snapshot.policy.set',
      () => ({ id: 'x', dataset: DB, schedule: '*/15 * * * *', retention: { count: 4 } }),
      () => [],
    ],
    [
      'snapshot.policy.run',
      () => ({ id: 'db-hourly' }),
      () => [
        ['zfs', 'snapshot', '--', `${DB}@auto-20241109-1200`],
        ['zfs', 'destroy', '--', `${DB}@auto-20241109-0000`],
        ['zfs', 'destroy', '--', `${DB}@auto-20241109-0100`],
        ['zfs', 'destroy', '--', `${DB}@auto-20241109-0200`],
      ],
    ],
    [
      'replication.run',
      () => ({ source: DB, target: 'backup/db' }),
      () => [
        ['zfs', 'send', '--', SNAP],
        ['zfs', 'receive', '-s', '--', 'backup/db'],
      ],
    ],
    ['pool.scrub.schedule.set', () => ({ pool: 'tank', schedule: '0 3 * * 0' }), () => []],
    ['pool.scrub.schedule.delete', () => ({ pool: 'tank' }), () => []],
    // last: its real run deletes the policy the cases above use
    ['snapshot.policy.delete', () => ({ id: 'db-hourly' }), () => []],
  ];

  for (const [i, [method, params, expected]] of cases.entries()) {
    it(`${method} (case ${i})`, async () => {
      fake.clear();
      const plan = await agent.call<{ dryRun: true; commands: string[][] }>(method, {
        ...params(),
        dryRun: true,
      });
      assert.equal(plan.dryRun, true);
      assert.deepEqual(plan.commands, expected());
      assert.deepEqual(fake.mutations(), [], `${method} ran a mutating command during a dry run`);
      covered.add(method);
    });
    it(`${method} (case ${i}): the real run sends exactly the plan`, async () => {
      const plan = await agent.call<{ commands: string[][] }>(method, { ...params(), dryRun: true });
      fake.clear();
      let r: unknown;
      try {
        r = await agent.call(method, params());
        const job = (r as { job?: string } | undefined)?.job;
        if (job) await agent.waitJob(job);
      } catch {
        // the fake answers reads from fixed fixtures, so a read after the change may not find
        // what was just made (a new pool, a clone): what was sent is what is compared
      }
      assert.deepEqual(fake.mutations(), plan.commands, `${method}: the real run differs from its dry run`);
    });
  }

  it('storage.layout.apply plans the ten datasets', async () => {
    fake.clear();
    const plan = await agent.call<{ commands: string[][] }>('storage.layout.apply', {
      pool: 'backup',
      dryRun: true,
    });
    assert.equal(plan.commands.length, 10);
    assert.deepEqual(plan.commands[0], [
      'zfs',
      'create',
      '-p',
      '-o',
      'atime=off',
      '-o',
      'compression=lz4',
      '-o',
      `mountpoint=${agent.deps.layout.srv}`,
      '--',
      'backup/calypso',
    ]);
    assert.deepEqual(plan.commands[2]!.slice(-3), ['recordsize=1M', '--', 'backup/calypso/backups']);
    assert.deepEqual(fake.mutations(), []);
    covered.add('storage.layout.apply');
  });

  it('covers every mutating ZFS method', () => {
    const mutating = agent.agent.registry
      .list()
      .filter((m) => m.def.mutating && AREAS.some((a) => m.def.name.startsWith(a)))
      .map((m) => m.def.name);
    assert.ok(mutating.length >= 29);
    assert.deepEqual(
      mutating.filter((m) => !covered.has(m)),
      [],
    );
  });
});

describe('a dry run plans from its params when ZFS cannot be read', () => {
  let agent: TestAgent;
  before(async () => {
    // what an agent without access to zfs-fuse's socket sees (the demo's `nobody`)
    const broken = fakeRunner({
      answer: (argv) => {
        if (argv[0] === 'zpool' || argv[0] === 'zfs')
          throw new RpcError('failed', `${argv[0]}: internal error: failed to initialize ZFS library`, {
            stderr:
              'Please make sure that the zfs-fuse daemon is running.\ninternal error: failed to initialize ZFS library',
          });
        return undefined;
      },
    });
    agent = await startZfsAgent({ zfs: { runner: broken, dialect: { ...OPENZFS, version: '2.2.4' } } });
  });
  after(() => agent?.stop());

  it('pool.create dryRun returns the plan and names the live checks it skipped; the real run is unavailable', async () => {
    const dev = vdevFiles(path.join(agent.prefix, 'vdevs'), ['s1'], 64 * 1024 * 1024);
    const plan = await agent.call<{ dryRun: true; commands: string[][]; notes?: string[] }>('pool.create', {
      name: 'demo',
      topology: { data: [{ type: 'stripe', disks: dev }] },
      dryRun: true,
    });
    assert.deepEqual(plan.commands[0]?.slice(0, 2), ['zpool', 'create']);
    assert.match(
      String(plan.notes?.[0]),
      /live checks skipped .*existing pools .*failed to initialize ZFS library/,
    );
    await assert.rejects(
      agent.call('pool.create', { name: 'demo', topology: { data: [{ type: 'stripe', disks: dev }] } }),
      { kind: 'unavailable' },
    );
  });
});
