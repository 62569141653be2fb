/**
 * Scrub schedules on a real ZFS (zfs-fuse scrubs): set (dry run changes nothing, bad input is
 * refused), the agent's cron loop starts the scrub as a `pool.scrub` job, and the maintenance
 * calendar shows the schedule with its next run and the last scrub read from `zpool status`.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createZfsService } from '../../agent/zfs/service.js';
import type { RpcError } from '../../rpc/errors.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { clearOfMinuteEnd } from '../helpers/time.js';
import { destroyPools, FAST, poolName, useZfsFuse, vdevFiles, zfsImpl } from './helpers.js';

interface Cal {
  items: {
    source: string;
    id: string;
    schedule?: string;
    nextRun?: string;
    lastRun?: { at: string; result: string; summary?: string };
  }[];
  errors: unknown[];
}

describe(`scrub schedules on ${zfsImpl()}`, () => {
  let fuse: Awaited<ReturnType<typeof useZfsFuse>> | undefined;
  let agent: TestAgent | undefined;
  const pool = poolName('sc');

  before(async () => {
    fuse = await useZfsFuse();
    agent = await startTestAgent({ services: [createZfsService({ ...FAST, schedulerTickMs: 100 })] });
    const [file] = vdevFiles(path.join(agent.prefix, 'vdevs'), ['a.img'], 128 * 1024 * 1024);
    await agent.call('pool.create', {
      name: pool,
      topology: { data: [{ type: 'stripe', disks: [file!] }] },
      altroot: path.join(agent.prefix, 'mnt'),
    });
  });

  after(async () => {
    await destroyPools([pool]);
    await agent?.stop();
    await fuse?.release();
  });

  it('refuses bad input and changes nothing on a dry run', async () => {
    const a = agent!;
    await assert.rejects(
      a.call('pool.scrub.schedule.set', { pool, schedule: '61 * * * *' }),
      (e: RpcError) => e.kind === 'invalid' && /schedule/.test(e.message),
    );
    await assert.rejects(
      a.call('pool.scrub.schedule.set', { pool: `${pool}x`, schedule: '@weekly' }),
      (e: RpcError) => e.kind === 'not_found',
    );
    const dry = await a.call<{ dryRun: boolean; notes: string[] }>('pool.scrub.schedule.set', {
      pool,
      schedule: '@weekly',
      dryRun: true,
    });
    assert.deepEqual(dry.notes, [`store config zfs/scrub-schedule/${pool}`]);
    assert.equal((await a.call<{ total: number }>('pool.scrub.schedule.list')).total, 0);
  });

  it('starts the scrub from the cron loop and shows it on the calendar with its result', async () => {
    const a = agent!;
    await clearOfMinuteEnd(); // the next minute's scrub would be the schedule's lastStart
    const set = await a.call<{ pool: string; nextRun: number }>('pool.scrub.schedule.set', {
      pool,
      schedule: '* * * * *',
    });
    assert.ok(set.nextRun > Date.now());
    let job: string | undefined;
    for (let i = 0; i < 200 && !job; i++) {
      job = a.deps.jobs.list({ method: 'pool.scrub' }).items[0]?.id;
      if (!job) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(job, 'the scheduler started a pool.scrub job');
    const rec = await a.waitJob(job);
    assert.equal(rec.state, 'success', JSON.stringify(rec.error));
    assert.equal(rec.user, 'calypso-scheduler');
    const got = await a.call<{ lastStart?: { job?: string } }>('pool.scrub.schedule.get', { pool });
    assert.equal(got.lastStart?.job, job);

    const cal = await a.call<Cal>('maintenance.calendar');
    assert.deepEqual(cal.errors, []);
    const e = cal.items.find((x) => x.source === 'zfs.scrub' && x.id === pool);
    assert.ok(e, JSON.stringify(cal));
    assert.equal(e.schedule, '* * * * *');
    assert.ok(e.nextRun && Date.parse(e.nextRun) > Date.now() - 1000);
    assert.equal(e.lastRun?.result, 'success', JSON.stringify(e));
    assert.match(e.lastRun?.summary ?? '', /with 0 errors/);

    await a.call('pool.scrub.schedule.delete', { pool });
    assert.equal((await a.call<{ total: number }>('pool.scrub.schedule.list')).total, 0);
    const audited = a.deps.audit.query({ method: 'pool.scrub.schedule.set' }).items;
    assert.ok(
      audited.some((r) => r.outcome === 'ok'),
      'the set is audited',
    );
  });
});
