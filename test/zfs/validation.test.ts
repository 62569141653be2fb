/**
 * Bad input is rejected by schema with `invalid` before anything runs (the runner records no call),
 * and confirmations are enforced. Runs against the fake OpenZFS runner.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OPENZFS, ZFS_FUSE } from '../../agent/zfs/dialect.js';
import type { RpcError } from '../../rpc/errors.js';
import type { TestAgent } from '../helpers/agent.js';
import { fakeRunner } from './fake-runner.js';
import { type RecordingRunner, startZfsAgent, vdevFiles } from './helpers.js';

const LONG = 'a'.repeat(300);
const BAD_NAMES = [
  'tank;reboot',
  'tank$(id)',
  'tank`id`',
  'tank|sh',
  'tank && id',
  'ta nk',
  '-tank',
  '--force',
  'tank\nfoo',
  'tank/a@b',
  'tank#x',
  'tank/../etc',
  LONG,
];

describe('bad input is refused before anything runs', () => {
  let agent: TestAgent;
  let fake: RecordingRunner;
  let files: string[];

  before(async () => {
    fake = fakeRunner();
    agent = await startZfsAgent({ zfs: { runner: fake, dialect: { ...OPENZFS, version: '2.2.4' } } });
    files = vdevFiles(path.join(agent.prefix, 'vdevs'), ['a', 'b', 'small'], 64 * 1024 * 1024);
  });
  after(() => agent?.stop());

  async function refused(method: string, params: Record<string, unknown>, why?: RegExp) {
    fake.clear();
    await assert.rejects(
      agent.call(method, params),
      (e: RpcError) => {
        assert.equal(e.kind, 'invalid', `${method} ${JSON.stringify(params)}: ${e.kind} ${e.message}`);
        if (why) assert.match(e.message, why);
        return true;
      },
      `${method} ${JSON.stringify(params)} was accepted`,
    );
    assert.deepEqual(fake.calls, [], `${method} ran ${JSON.stringify(fake.calls)}`);
  }

  it('refuses bad pool, dataset and snapshot names', async () => {
    for (const bad of BAD_NAMES) {
      await refused(
        'pool.create',
        { name: bad, topology: { data: [{ type: 'stripe', disks: [files[0]] }] } },
        /\/name/,
      );
      await refused('dataset.create', { name: `tank/${bad}` }, /\/name/);
      await refused('snapshot.create', { dataset: 'tank', name: bad }, /\/name/);
      await refused('pool.scrub', { name: bad });
    }
    for (const bad of ['tank/a', 'tank@', 'tank/a@b@c', 'tank/a@-x', 'tank/a@b\nc', `tank/a@${LONG}`]) {
      await refused('snapshot.rollback', { snapshot: bad }, /\/snapshot/);
    }
    for (const reserved of ['mirror', 'raidz2', 'spare', 'log', 'c0d0']) {
      await refused('pool.create', {
        name: reserved,
        topology: { data: [{ type: 'stripe', disks: [files[0]] }] },
      });
    }
  });

  it('refuses bad device paths and topologies', async () => {
    for (const disk of ['sda', '/dev/sda;id', '/dev/../etc/shadow', '-f', '/tmp/a b']) {
      await refused('pool.create', {
        name: 'newpool',
        topology: { data: [{ type: 'stripe', disks: [disk] }] },
      });
    }
    await refused('pool.create', {
      name: 'newpool',
      topology: { data: [{ type: 'raid5', disks: [files[0]] }] },
    });
    await refused('pool.create', { name: 'newpool', topology: { data: [] } });
    await refused(
      'pool.create',
      { name: 'newpool', topology: { data: [{ type: 'mirror', disks: [files[0]] }] } },
      /needs at least 2/,
    );
    await refused(
      'pool.create',
      { name: 'newpool', topology: { data: [{ type: 'mirror', disks: [files[0], files[0]] }] } },
      /twice/,
    );
  });

  it('refuses unknown properties and bad values', async () => {
    const name = 'tank/calypso/db';
    for (const properties of [
      { nosuch: 'on' },
      { compression: 'rar' },
      { quota: '10 GB' },
      { quota: '1G; reboot' },
      { recordsize: '3K' },
      { copies: 5 },
      { atime: true },
      { mountpoint: '../x' },
      { mountpoint: '/srv/a\nb' },
    ]) {
      await refused('dataset.update', { name, properties });
    }
    await refused('dataset.update', { name, userProperties: { nocolon: 'x' } });
    await refused('dataset.update', { name, userProperties: { 'calypso:x': 'a\nb' } });
    await refused('dataset.update', { name, inherit: ['type'] });
    await refused('pool.create', {
      name: 'newpool',
      topology: { data: [{ type: 'stripe', disks: [files[0]] }] },
      properties: { ashift: 30 },
    });
    await refused('snapshot.hold', { snapshot: `${name}@auto-20241109-0000`, tag: 'a b' });
    await refused('snapshot.policy.set', {
      id: 'p',
      dataset: name,
      schedule: 'every hour',
      retention: { count: 1 },
    });
    await refused('snapshot.policy.set', {
      id: 'p',
      dataset: name,
      schedule: '61 * * * *',
      retention: { count: 1 },
    });
    await refused('snapshot.policy.set', {
      id: 'p',
      dataset: name,
      schedule: '@daily',
      naming: 'auto-%Y',
      retention: { count: 1 },
    });
    await refused('snapshot.policy.set', { id: 'p', dataset: name, schedule: '@daily', retention: {} });
    await refused('dataset.create', { name: 'tank/x', unexpected: 1 });
  });

  it('refuses destroys without confirmation', async () => {
    await refused('pool.destroy', { name: 'tank' });
    await refused('pool.destroy', { name: 'tank', confirm: 'backup' }, /refused/);
    await refused('dataset.destroy', { name: 'tank/calypso', recursive: true }, /refused/);
    await refused('dataset.destroy', { name: 'tank/calypso', recursive: true, confirm: 'tank' }, /refused/);
    await refused('dataset.destroy', { name: 'tank' }, /refused/);
  });

  it('refuses what the detected dialect cannot do', async () => {
    const legacy = await startZfsAgent({ zfs: { runner: fake, dialect: ZFS_FUSE } });
    try {
      fake.clear();
      await assert.rejects(
        legacy.call('dataset.create', { name: 'tank/x', properties: { compression: 'zstd' } }),
        (e: RpcError) => e.kind === 'invalid',
      );
      await assert.rejects(
        legacy.call('zvol.create', { name: 'tank/v', size: '1G' }),
        (e: RpcError) => e.kind === 'unavailable',
      );
      await assert.rejects(
        legacy.call('pool.scrub.pause', { name: 'tank' }),
        (e: RpcError) => e.kind === 'unavailable',
      );
      assert.deepEqual(fake.mutations(), []);
    } finally {
      await legacy.stop();
    }
  });
});
