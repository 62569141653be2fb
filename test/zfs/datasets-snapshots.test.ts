/**
 * Datasets, snapshots, snapshot policies and replication on a real ZFS (zfs-fuse), through RPC.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AgentEvent } from '../../agent/events.js';
import type { JobRecord } from '../../agent/jobs.js';
import { RpcError } from '../../rpc/errors.js';
import type { TestAgent } from '../helpers/agent.js';
import {
  destroyPools,
  poolName,
  type RecordingRunner,
  recordingRunner,
  startZfsAgent,
  useZfsFuse,
  vdevFiles,
  zfsImpl,
} from './helpers.js';

/** the same file runs on zfs-fuse (host) and on OpenZFS (the kernel lab): a few behaviours differ by design */
const OPENZFS = zfsImpl() === 'openzfs';

interface Snap {
  name: string;
  snapshot: string;
  holds: number;
  created?: number;
}
interface Page {
  items: Snap[];
  total: number;
  cached: boolean;
}
interface Node {
  name: string;
  compression?: string;
  quota?: number;
  children: Node[];
}

describe(`datasets, snapshots, policies and replication on ${zfsImpl()}`, () => {
  let fuse: Awaited<ReturnType<typeof useZfsFuse>> | undefined;
  let agent: TestAgent;
  let runner: RecordingRunner;
  let offset = 0;
  const src = poolName('s');
  const dst = poolName('d');
  const events: AgentEvent[] = [];
  const mountOf = async (name: string) =>
    (await agent.call<{ mountpoint: string }>('dataset.get', { name })).mountpoint;

  before(async () => {
    fuse = await useZfsFuse();
    runner = recordingRunner();
    agent = await startZfsAgent({
      runner,
      clock: { now: () => Date.now() + offset },
      zfs: { schedulerTickMs: 100 },
    });
    agent.events.on(['job.progress', 'snapshot.policy.run'], (ev) => events.push(ev));
    const [a, b] = vdevFiles(path.join(agent.prefix, 'vdevs'), ['src.img', 'dst.img'], 256 * 1024 * 1024);
    for (const [name, file] of [
      [src, a],
      [dst, b],
    ] as const) {
      await agent.call('pool.create', {
        name,
        topology: { data: [{ type: 'stripe', disks: [file] }] },
        altroot: path.join(agent.prefix, 'mnt', name),
      });
    }
  });

  after(async () => {
    await destroyPools([src, dst]);
    await agent?.stop();
    await fuse?.release();
  });

  it('creates, lists as a tree, updates and reads datasets', async () => {
    const dry = await agent.call<{ commands: string[][] }>('dataset.create', {
      name: `${src}/data`,
      properties: { compression: 'on', quota: '128M' },
      userProperties: { 'calypso:role': 'test' },
      dryRun: true,
    });
    assert.deepEqual(dry.commands, [
      [
        'zfs',
        'create',
        '-o',
        'calypso:role=test',
        '-o',
        'compression=on',
        '-o',
        'quota=128M',
        '--',
        `${src}/data`,
      ],
    ]);
    const ds = await agent.call<{ name: string; quota: number; compression: string }>('dataset.create', {
      name: `${src}/data`,
      properties: { compression: 'on', quota: '128M' },
      userProperties: { 'calypso:role': 'test' },
    });
    assert.equal(ds.quota, 128 * 1024 * 1024);
    assert.equal(ds.compression, 'on');
    await agent.call('dataset.create', { name: `${src}/data/child/grand`, parents: true });
    const tree = (await agent.call<{ items: Node[] }>('dataset.list', { root: src })).items;
    assert.equal(tree.length, 1);
    assert.deepEqual(
      tree[0]!.children.map((c) => c.name),
      [`${src}/data`],
    );
    assert.equal(tree[0]!.children[0]!.children[0]!.children[0]!.name, `${src}/data/child/grand`);
    const upd = await agent.call<{ compression: string }>('dataset.update', {
      name: `${src}/data`,
      properties: { atime: 'off' },
      inherit: ['compression'],
    });
    assert.equal(upd.compression, 'off');
    const got = await agent.call<{ properties: Record<string, { value: string; source: string }> }>(
      'dataset.get',
      {
        name: `${src}/data`,
      },
    );
    assert.equal(got.properties.atime?.value, 'off');
    assert.equal(got.properties['calypso:role']?.value, 'test');
    // lz4: refused on zfs-fuse (it has none), taken by OpenZFS
    const lz4 = agent.call<{ compression: string }>('dataset.update', {
      name: `${src}/data`,
      properties: { compression: 'lz4' },
    });
    if (OPENZFS) assert.equal((await lz4).compression, 'lz4');
    else
      await assert.rejects(
        lz4,
        (e: RpcError) => e.kind === 'invalid' && /not supported by zfs-fuse/.test(e.message),
      );
  });

  it('creates, lists, holds, destroys (range) and rolls back snapshots', async () => {
    const ds = `${src}/data`;
    for (const s of ['a', 'b', 'c', 'd', 'e'])
      await agent.call('snapshot.create', { dataset: ds, name: s, recursive: true });
    const all = await agent.call<Page>('snapshot.list', { dataset: ds, recursive: true, limit: 100 });
    assert.equal(all.total, 15); // data, data/child, data/child/grand × 5
    const own = await agent.call<Page>('snapshot.list', { dataset: ds, limit: 2, offset: 1 });
    assert.deepEqual(
      own.items.map((s) => s.snapshot),
      ['b', 'c'],
    );
    assert.equal(own.total, 5);
    const cached = await agent.call<Page>('snapshot.list', {
      dataset: ds,
      sort: 'name',
      order: 'desc',
      limit: 1,
    });
    assert.equal(cached.cached, true);
    assert.equal(cached.items[0]!.snapshot, 'e');

    const held = await agent.call<Snap>('snapshot.hold', { snapshot: `${ds}@b`, tag: 'keep' });
    assert.equal(held.holds, 1);
    // zfs-fuse cannot list hold tags (its `zfs holds` needs a missing pyzfs.py): the count only
    const holds = await agent.call<{ count: number; tags?: { tag: string; since: number }[] }>(
      'snapshot.holds',
      { snapshot: `${ds}@b` },
    );
    if (OPENZFS) {
      assert.equal(holds.count, 1);
      assert.deepEqual(
        holds.tags?.map((h) => h.tag),
        ['keep'],
      );
      assert.ok(Math.abs(holds.tags![0]!.since - Date.now()) < 10 * 60_000, JSON.stringify(holds));
    } else assert.deepEqual(holds, { count: 1 });
    await assert.rejects(
      agent.call('snapshot.destroy', { snapshot: `${ds}@b` }),
      (e: RpcError) => e.kind === 'conflict',
    );
    await agent.call('snapshot.release', { snapshot: `${ds}@b`, tag: 'keep' });

    const dry = await agent.call<{ commands: string[][] }>('snapshot.destroy', {
      dataset: ds,
      from: 'b',
      to: 'c',
      recursive: true,
      dryRun: true,
    });
    // OpenZFS destroys a range in one command (`@b%c`); zfs-fuse has no ranges: one destroy per snapshot
    assert.deepEqual(
      dry.commands,
      OPENZFS
        ? [['zfs', 'destroy', '-r', '--', `${ds}@b%c`]]
        : [
            ['zfs', 'destroy', '-r', '--', `${ds}@b`],
            ['zfs', 'destroy', '-r', '--', `${ds}@c`],
          ],
    );
    const gone = await agent.call<{ destroyed: string[] }>('snapshot.destroy', {
      dataset: ds,
      from: 'b',
      to: 'c',
      recursive: true,
    });
    assert.deepEqual(gone.destroyed, [`${ds}@b`, `${ds}@c`]);
    const after = await agent.call<Page>('snapshot.list', { dataset: ds });
    assert.equal(after.cached, false); // the destroy invalidated the cache
    assert.deepEqual(
      after.items.map((s) => s.snapshot),
      ['a', 'd', 'e'],
    );

    const mp = await mountOf(ds);
    writeFileSync(path.join(mp, 'file'), 'after e');
    await assert.rejects(
      agent.call('snapshot.rollback', { snapshot: `${ds}@d` }),
      (e: RpcError) => e.kind === 'conflict' && /more recent snapshots/.test(String(e.data.stderr)),
    );
    await agent.call('snapshot.rollback', { snapshot: `${ds}@d`, destroyNewer: true });
    const left = await agent.call<Page>('snapshot.list', { dataset: ds });
    assert.deepEqual(
      left.items.map((s) => s.snapshot),
      ['a', 'd'],
    );
    const clone = await agent.call<{ name: string; origin: string }>('snapshot.clone', {
      snapshot: `${ds}@a`,
      target: `${src}/clone`,
    });
    assert.equal(clone.origin, `${ds}@a`);
    // zfs-fuse may still hold a clone it has just mounted ("dataset is busy"): retry briefly
    for (let i = 0; ; i++) {
      try {
        await agent.call('dataset.destroy', { name: `${src}/clone` });
        break;
      } catch (e) {
        if (i >= 4 || !/dataset is busy/.test(String((e as Error).message))) throw e;
        await new Promise((r) => setTimeout(r, 500 * (i + 1)));
      }
    }
  });

  it('destroys recursively only with confirmation', async () => {
    runner.clear();
    await assert.rejects(
      agent.call('dataset.destroy', { name: `${src}/data/child`, recursive: true }),
      (e: RpcError) => e.kind === 'invalid' && /refused/.test(e.message),
    );
    assert.deepEqual(runner.mutations(), []);
    await agent.call('dataset.destroy', {
      name: `${src}/data/child`,
      recursive: true,
      confirm: `${src}/data/child`,
    });
    const tree = (await agent.call<{ items: Node[] }>('dataset.list', { root: `${src}/data` })).items;
    assert.deepEqual(tree[0]!.children, []);
  });

  it('prunes policy snapshots by count and by age', async () => {
    const ds = `${src}/data`;
    const policy = await agent.call<{ id: string; naming: string; nextRun: number }>('snapshot.policy.set', {
      id: 'manual',
      dataset: ds,
      schedule: '0 0 1 1 *', // effectively never: runs are triggered by hand below
      retention: { count: 2 },
    });
    assert.equal(policy.naming, 'auto-%Y%m%d-%H%M');
    const runs: { created?: string; destroyed: string[] }[] = [];
    for (let i = 0; i < 4; i++) {
      runs.push(await agent.call('snapshot.policy.run', { id: 'manual' }));
      offset += 60_000;
    }
    assert.ok(runs.every((r) => r.created?.startsWith(`${ds}@auto-`)));
    assert.deepEqual(
      runs.map((r) => r.destroyed.length),
      [0, 0, 1, 1],
    );
    assert.equal(runs[2]!.destroyed[0], runs[0]!.created);
    let autos = (await agent.call<Page>('snapshot.list', { dataset: ds })).items.filter((s) =>
      s.snapshot.startsWith('auto-'),
    );
    assert.deepEqual(
      autos.map((s) => s.name),
      [runs[2]!.created, runs[3]!.created],
    );
    // the hand-made snapshots (a, d) are never the policy's
    assert.ok(
      (await agent.call<Page>('snapshot.list', { dataset: ds })).items.some((s) => s.snapshot === 'a'),
    );

    await agent.call('snapshot.policy.set', {
      id: 'manual',
      dataset: ds,
      schedule: '0 0 1 1 *',
      retention: { maxAgeSeconds: 120 },
    });
    offset += 10 * 60_000;
    const aged = await agent.call<{ created: string; destroyed: string[] }>('snapshot.policy.run', {
      id: 'manual',
    });
    assert.deepEqual(aged.destroyed, [runs[2]!.created, runs[3]!.created]);
    autos = (await agent.call<Page>('snapshot.list', { dataset: ds })).items.filter((s) =>
      s.snapshot.startsWith('auto-'),
    );
    assert.deepEqual(
      autos.map((s) => s.name),
      [aged.created],
    );
    const listed = (
      await agent.call<{ items: { id: string; lastRun: { destroyed: string[] } }[] }>(
        'snapshot.policy.list',
        {},
      )
    ).items;
    assert.equal(listed.find((p) => p.id === 'manual')!.lastRun.destroyed.length, 2);
    await agent.call('snapshot.policy.delete', { id: 'manual' });
  });

  it('runs a due policy from the scheduler', async () => {
    const ds = `${src}/data`;
    const seen = events.length;
    await agent.call('snapshot.policy.set', {
      id: 'every-minute',
      dataset: ds,
      schedule: '* * * * *',
      naming: 'sched-%Y%m%d-%H%M',
      retention: { count: 5 },
    });
    for (let i = 0; i < 100 && !events.slice(seen).some((e) => e.topic === 'snapshot.policy.run'); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const ran = events.slice(seen).find((e) => e.topic === 'snapshot.policy.run');
    assert.ok(ran, 'the scheduler ran the policy');
    assert.match(
      String((ran.data as { created?: string }).created),
      new RegExp(`^${ds}@sched-\\d{8}-\\d{4}$`),
    );
    await agent.call('snapshot.policy.delete', { id: 'every-minute' });
  });

  it('replicates full, then incremental, to a second pool with byte progress', async () => {
    const ds = `${src}/data`;
    const target = `${dst}/copy`;
    const mp = await mountOf(ds);
    const first = randomBytes(24 * 1024 * 1024);
    writeFileSync(path.join(mp, 'big1'), first);
    await agent.call('snapshot.create', { dataset: ds, name: 'r1' });
    const dry = await agent.call<{ commands: string[][]; notes: string[] }>('replication.run', {
      source: ds,
      target,
      dryRun: true,
    });
    assert.deepEqual(dry.commands, [
      ['zfs', 'send', '--', `${ds}@r1`],
      // OpenZFS receives resumably (-s: a cut stream leaves a token that replication.run resumes from)
      ['zfs', 'receive', ...(OPENZFS ? ['-s'] : []), '--', target],
    ]);
    assert.match(dry.notes[0]!, /^full /);

    const full = await agent.call<{ job: string }>('replication.run', { source: ds, target });
    const rec1 = await agent.waitJob(full.job);
    assert.equal(rec1.state, 'success', JSON.stringify(rec1.error));
    const r1 = rec1.result as { mode: string; bytes: number; estimate: number };
    assert.equal(r1.mode, 'full');
    assert.ok(r1.bytes > first.length, `${r1.bytes} bytes sent`);
    assert.ok(Math.abs(r1.bytes - r1.estimate) / r1.bytes < 0.2, `estimate ${r1.estimate} vs ${r1.bytes}`);

    const second = randomBytes(16 * 1024 * 1024);
    writeFileSync(path.join(mp, 'big2'), second);
    await agent.call('snapshot.create', { dataset: ds, name: 'r2' });
    const inc = await agent.call<{ job: string }>('replication.run', { source: ds, target });
    const rec2 = await agent.waitJob(inc.job);
    assert.equal(rec2.state, 'success', JSON.stringify(rec2.error));
    const r2 = rec2.result as { mode: string; from: string; bytes: number; estimate: number };
    assert.equal(r2.mode, 'incremental');
    assert.equal(r2.from, `${ds}@r1`);
    assert.ok(r2.bytes > second.length && r2.bytes < second.length + first.length / 2, `${r2.bytes} bytes`);
    const progress = events.filter((e) => e.topic === 'job.progress' && (e.data as JobRecord).id === inc.job);
    const described = progress.map((e) => (e.data as JobRecord).progress.description);
    assert.ok(
      // a fast send may report its only in-flight progress while still in bytes (`312 B of about 16.1 MiB`)
      described.some((d) => /\d (B|KiB|MiB|GiB) of about \d/.test(d)),
      JSON.stringify(described),
    );
    assert.equal((progress.at(-1)!.data as JobRecord).progress.percent, 100);

    const copied = await agent.call<Page>('snapshot.list', { dataset: target });
    assert.deepEqual(
      copied.items.map((s) => s.snapshot),
      ['r1', 'r2'],
    );
    const tmp = await mountOf(target);
    assert.ok(readFileSync(path.join(tmp, 'big2')).equals(second));
    await assert.rejects(
      agent.call('replication.run', { source: ds, target, mode: 'incremental' }).then(async (r) => {
        const rec = await agent.waitJob((r as { job: string }).job);
        throw new RpcError(
          rec.error!.data ? (rec.error!.data as { kind: 'conflict' }).kind : 'failed',
          rec.error!.message,
        );
      }),
      (e: RpcError) => e.kind === 'conflict' && /already has r2/.test(e.message),
    );
  });
});
