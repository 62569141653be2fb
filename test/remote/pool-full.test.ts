/**
 * The receiving pool full: the remote's prefix on a small pool of its own (a 64 MiB file vdev),
 * a first push that fits, then one of 48 MiB of incompressible data that does not: the run fails
 * with "the receiving pool <pool> is full", raises its own critical alert, and the receiver keeps
 * its previous snapshot intact (same GUID, still held). Freed space and a good run clear it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { destroyPoolsChecked, poolName, vdevFiles, zfsImpl } from '../zfs/helpers.js';
import { pairDr, type ReplLab, snapshotGuids, startReplLab } from './lab.js';

describe(`replication into a full receiving pool on ${zfsImpl()}`, { timeout: 600_000 }, () => {
  let lab: ReplLab;
  let small: string;
  let src: string;
  let dst: string;
  const guids = (ds: string) => snapshotGuids(lab, ds);
  const mnt = async (ds: string) =>
    (await lab.zfs(['list', '-H', '-o', 'mountpoint', '--', ds])).stdout.trim();
  const run = async () => {
    const { job } = await lab.sender.call<{ job: string }>('replication.task.run', { id: 'f' });
    return lab.sender.waitJob(job);
  };

  before(async () => {
    lab = await startReplLab('rf');
    small = poolName('rs');
    const [file] = vdevFiles(path.join(lab.sender.prefix, 'vdevs'), ['small.img'], 64 * 1024 * 1024);
    await lab.sender.call('pool.create', {
      name: small,
      topology: { data: [{ type: 'stripe', disks: [file] }] },
      altroot: path.join(lab.sender.prefix, 'mnt-small'),
    });
    src = `${lab.pool}/src`;
    const prefix = `${small}/backup`;
    dst = `${prefix}/src`;
    await pairDr(lab, prefix, [src, prefix]);
    await lab.sender.call('replication.task.create', { id: 'f', remote: 'dr', source: src, target: dst });
  });
  after(async () => {
    await destroyPoolsChecked([small]).catch(() => {});
    await lab?.stop();
  });

  it('a stream larger than the receiving pool: a clear error, its own alert, the receiver intact', async () => {
    writeFileSync(path.join(await mnt(src), 'a.bin'), randomBytes(1024 * 1024));
    await lab.sender.call('snapshot.create', { dataset: src, name: 's1' });
    const first = await run();
    assert.equal(first.state, 'success', JSON.stringify(first.error));
    const before = await guids(dst);
    const big = path.join(await mnt(src), 'big.bin');
    writeFileSync(big, randomBytes(48 * 1024 * 1024));
    await lab.sender.call('snapshot.create', { dataset: src, name: 's2' });
    const full = await run();
    assert.equal(full.state, 'failed');
    assert.match(
      full.error?.message ?? '',
      new RegExp(`the receiving pool ${small} is full \\(remote dr\\): `),
    );
    assert.match(full.error?.message ?? '', /restarts from @s1/);
    const alert = lab.sender.deps.alerts.get('replication.task:f:pool-full');
    assert.equal(alert?.state, 'active');
    assert.equal(alert?.level, 'critical');
    assert.match(alert?.title ?? '', new RegExp(`receiving pool ${small} is full`));
    // nothing of the cut stream: s1 is the receiver's newest, the same snapshot, still held
    assert.deepEqual(await guids(dst), before);
    assert.equal(
      (await lab.zfs(['get', '-H', '-o', 'value', 'userrefs', '--', `${dst}@s1`])).stdout.trim(),
      '1',
    );
    // the source shrinks below the pool's size: the next run succeeds and clears both alerts
    rmSync(big);
    writeFileSync(path.join(await mnt(src), 'c.bin'), randomBytes(1024 * 1024));
    await lab.sender.call('snapshot.destroy', { snapshot: `${src}@s2` });
    await lab.sender.call('snapshot.create', { dataset: src, name: 's3' });
    const good = await run();
    assert.equal(good.state, 'success', JSON.stringify(good.error));
    assert.deepEqual(await guids(dst), await guids(src));
    assert.equal(lab.sender.deps.alerts.get('replication.task:f:pool-full')?.state, 'cleared');
    assert.equal(lab.sender.deps.alerts.get('replication.task:f')?.state, 'cleared');
  });
});
