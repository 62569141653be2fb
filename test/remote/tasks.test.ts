/**
 * Replication tasks beyond a run by hand, through a real sshd and the guard on zfs-fuse: a run
 * after a snapshot policy's new snapshot (the zfs subsystem's event), a run on a cron schedule
 * (the agent's cron loop, ticking every 200 ms here), the task on the maintenance calendar,
 * retention per side that keeps the held last common snapshot, and the guard's destroy: a
 * snapshot yes (ZFS still refuses a held one), a filesystem never.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobRecord } from '../../agent/jobs.js';
import { clearOfMinuteEnd } from '../helpers/time.js';
import { zfsImpl } from '../zfs/helpers.js';
import { pairDr, type ReplLab, run, startReplLab } from './lab.js';

describe(`replication tasks: triggers and retention on ${zfsImpl()}`, { timeout: 600_000 }, () => {
  let lab: ReplLab;
  let src: string;
  let dst: string;
  const names = async (ds: string) =>
    (await lab.zfs(['list', '-H', '-t', 'snapshot', '-o', 'name', '-d', '1', '--', ds])).stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/^[^@]*@/, ''));
  const holds = async (snap: string) =>
    Number((await lab.zfs(['get', '-H', '-o', 'value', 'userrefs', '--', snap])).stdout.trim());
  const write = async () => {
    const mnt = (await lab.zfs(['list', '-H', '-o', 'mountpoint', '--', src])).stdout.trim();
    writeFileSync(path.join(mnt, `f${Date.now()}.bin`), randomBytes(64 * 1024));
  };
  const jobs = async () =>
    (await lab.sender.call<{ items: JobRecord[] }>('job.list', { method: 'replication.task.run' })).items;
  /** the next job of the task that is not one of `seen`, once it has ended */
  const nextJob = async (seen: Set<string>) => {
    for (let i = 0; i < 300; i++) {
      const j = (await jobs()).find((x) => !seen.has(x.id));
      if (j) return lab.sender.waitJob(j.id);
      await sleep(100);
    }
    assert.fail('no run started');
  };

  before(async () => {
    lab = await startReplLab('rt', { tickMs: 200 });
    src = `${lab.pool}/src`;
    const prefix = `${lab.pool}/backup`;
    dst = `${prefix}/src`;
    await pairDr(lab, prefix, [src, prefix]);
  });
  after(async () => {
    await lab?.stop();
  });

  it('create refuses a schedule that does not parse, in plain words', async () => {
    await assert.rejects(
      lab.sender.call('replication.task.create', {
        id: 't1',
        remote: 'dr',
        source: src,
        target: dst,
        schedule: '61 * * * *',
      }),
      /schedule: .*61/,
    );
    assert.equal((await lab.sender.call<{ total: number }>('replication.task.list')).total, 0);
  });

  it('a snapshot policy run that creates a snapshot starts the task that follows it', async () => {
    await lab.sender.call('replication.task.create', {
      id: 't1',
      remote: 'dr',
      source: src,
      target: dst,
      onSnapshotPolicy: 'p1',
    });
    await lab.sender.call('snapshot.policy.set', {
      id: 'p1',
      dataset: src,
      schedule: '0 0 1 1 *',
      naming: 'p-%Y%m%d-%H%M%S',
      retention: { count: 100 },
    });
    await write();
    const seen = new Set((await jobs()).map((j) => j.id));
    await lab.sender.call('snapshot.policy.run', { id: 'p1' });
    const job = await nextJob(seen);
    assert.equal(job.state, 'success', JSON.stringify(job.error));
    assert.equal(job.user, 'calypso-scheduler');
    assert.equal((job.result as { mode: string }).mode, 'full');
    assert.deepEqual(await names(dst), await names(src));
  });

  it('a cron schedule runs the task on the agent’s cron loop; the task is on the maintenance calendar', async () => {
    // `* * * * *` runs once a minute: started in a minute's last seconds, the run and the one-second look below
    // would reach the next minute, whose run is due (CI run 40: 15:54:5x, a second job, and the next two tests
    // failing beside it)
    await clearOfMinuteEnd();
    await lab.sender.call('snapshot.create', { dataset: src, name: 'c1' });
    const seen = new Set((await jobs()).map((j) => j.id));
    // the dry run of update changes nothing and says what it would
    const dry = await lab.sender.call<{ commands: unknown[]; notes: string[] }>('replication.task.update', {
      id: 't1',
      schedule: '* * * * *',
      dryRun: true,
    });
    assert.deepEqual(dry.commands, []);
    assert.match(dry.notes.join(' '), /changes task t1/);
    assert.equal(
      (await lab.sender.call<{ schedule?: string }>('replication.task.get', { id: 't1' })).schedule,
      undefined,
    );
    const updated = await lab.sender.call<{ schedule?: string }>('replication.task.update', {
      id: 't1',
      schedule: '* * * * *',
    });
    assert.equal(updated.schedule, '* * * * *');
    const job = await nextJob(seen);
    assert.equal(job.state, 'success', JSON.stringify(job.error));
    assert.equal(job.user, 'calypso-scheduler');
    assert.equal((job.result as { snapshot: string }).snapshot, 'c1');
    const cal = await lab.sender.call<{
      items: { source: string; id: string; schedule: string; nextRun: string }[];
    }>('maintenance.calendar');
    const e = cal.items.find((x) => x.source === 'replication.task' && x.id === 't1');
    assert.ok(e, JSON.stringify(cal.items));
    assert.match(e.schedule, /\* \* \* \* \*; after snapshot policy p1/);
    assert.ok(Date.parse(e.nextRun) > Date.now());
    // once in its minute only: the next ticks start nothing more
    await sleep(1000);
    assert.equal((await jobs()).filter((j) => !seen.has(j.id)).length, 1);
    await lab.sender.call('replication.task.update', { id: 't1', schedule: null });
  });

  it('retention keep 1 on both sides: only the held last common snapshot is left, on both', async () => {
    await lab.sender.call('replication.task.update', {
      id: 't1',
      retention: { source: { keep: 1 }, target: { keep: 1 } },
    });
    await write();
    await lab.sender.call('snapshot.create', { dataset: src, name: 'c2' });
    const older = (await names(src)).filter((n) => n !== 'c2');
    assert.ok(older.length >= 2);
    const dry = await lab.sender.call<{ commands: string[][] }>('replication.task.run', {
      id: 't1',
      dryRun: true,
    });
    const destroys = dry.commands.filter((c) => c.includes('destroy') || /zfs destroy/.test(c.at(-1)!));
    assert.equal(destroys.length, older.length * 2, JSON.stringify(dry.commands));
    const { job } = await lab.sender.call<{ job: string }>('replication.task.run', { id: 't1' });
    const done = await lab.sender.waitJob(job);
    assert.equal(done.state, 'success', JSON.stringify(done.error));
    const res = done.result as { pruned: { source: string[]; target: string[] } };
    assert.deepEqual(res.pruned.source.sort(), older.map((n) => `${src}@${n}`).sort());
    assert.deepEqual(res.pruned.target.sort(), older.map((n) => `${dst}@${n}`).sort());
    assert.deepEqual(await names(src), ['c2']);
    assert.deepEqual(await names(dst), ['c2']);
    assert.equal(await holds(`${src}@c2`), 1);
    assert.equal(await holds(`${dst}@c2`), 1);
  });

  it('the guard lets the key destroy a snapshot (ZFS refuses the held one) but never a filesystem', async () => {
    const fs = await run(lab.ssh('dr', ['zfs', 'destroy', '--', dst]));
    assert.equal(fs.code, 126);
    assert.match(fs.stderr, /calypso: refused: .*never a filesystem/);
    const held = await run(lab.ssh('dr', ['zfs', 'destroy', '--', `${dst}@c2`]));
    assert.notEqual(held.code, 0);
    assert.doesNotMatch(held.stderr, /refused/);
    assert.deepEqual(await names(dst), ['c2']);
  });

  it('delete releases the holds', async () => {
    await lab.sender.call('replication.task.delete', { id: 't1' });
    assert.equal(await holds(`${src}@c2`), 0);
    assert.equal(await holds(`${dst}@c2`), 0);
  });
});
