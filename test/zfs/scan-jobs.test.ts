/**
 * Scrub jobs against controlled tools: progress from successive `zpool status` outputs, the lock,
 * job.abort stopping the scrub, and a hung `zpool` (a script on a PATH the test controls) that
 * times out and fails its job cleanly.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { JobRecord } from '../../agent/jobs.js';
import { createRunner } from '../../agent/runner.js';
import { type Dialect, OPENZFS, ZFS_FUSE } from '../../agent/zfs/dialect.js';
import type { ScanResult } from '../../agent/zfs/scan-watch.js';
import type { RpcError } from '../../rpc/errors.js';
import type { TestAgent } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';
import { fakeRunner } from './fake-runner.js';
import { startZfsAgent } from './helpers.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
/** A date as zfs-fuse prints it (C locale, UTC as the driver asks). */
function zdate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

function status(scanLine: string): string {
  return [
    '  pool: big',
    ' state: ONLINE',
    ` scrub: ${scanLine}`,
    'config:',
    '',
    '\tNAME                  STATE     READ WRITE CKSUM',
    '\tbig                   ONLINE       0     0     0',
    '\t  /tmp/zx/big1.img    ONLINE       0     0     0',
    '',
    'errors: No known data errors',
    '',
  ].join('\n');
}

/** A mirror as OpenZFS prints it, one side marked with `note` (e.g. "(awaiting resilver)"). */
function openzfsStatus(scanLine: string, note = ''): string {
  return [
    '  pool: big',
    ' state: ONLINE',
    `  scan: ${scanLine}`,
    'config:',
    '',
    '\tNAME                  STATE     READ WRITE CKSUM',
    '\tbig                   ONLINE       0     0     0',
    '\t  mirror-0            ONLINE       0     0     0',
    '\t    /tmp/zx/big1.img  ONLINE       0     0     0',
    `\t    /tmp/zx/big2.img  ONLINE       0     0     0  ${note}`,
    '',
    'errors: No known data errors',
    '',
  ].join('\n');
}

describe('scrub jobs with controlled tools', () => {
  const agents: TestAgent[] = [];
  after(async () => {
    for (const a of agents) await a.stop();
  });

  it('reports progress from zpool status until the scrub it started has finished', async () => {
    let polls = 0; // the first poll is the handler checking that the pool exists
    const fake = fakeRunner({
      answer: (argv) => {
        if (argv[1] !== 'status') return undefined;
        polls++;
        if (polls <= 4) return status(`scrub in progress for 0h0m, ${polls * 20}.00% done, 0h0m to go`);
        return status(`scrub completed after 0h0m with 0 errors on ${zdate(Date.now())}`);
      },
    });
    const agent = await startZfsAgent({ zfs: { runner: fake, dialect: ZFS_FUSE, scanPollMs: 20 } });
    agents.push(agent);
    const seen: number[] = [];
    agent.events.on(['job.progress'], (ev) => seen.push((ev.data as JobRecord).progress.percent));
    const { job } = await agent.call<{ job: string }>('pool.scrub', { name: 'big' });
    await assert.rejects(agent.call('pool.scrub', { name: 'big' }), (e: RpcError) => e.kind === 'busy');
    const rec = await agent.waitJob(job);
    assert.equal(rec.state, 'success', JSON.stringify(rec.error));
    for (const p of [40, 60, 80, 100]) assert.ok(seen.includes(p), `progress ${p} in ${seen}`);
    assert.ok(fake.calls.some((c) => c.join(' ') === 'zpool scrub -- big'));
  });

  it('stops the scrub when its job is aborted', async () => {
    const fake = fakeRunner({
      answer: (argv) =>
        argv[1] === 'status' ? status('scrub in progress for 0h1m, 3.23% done, 0h30m to go') : undefined,
    });
    const agent = await startZfsAgent({ zfs: { runner: fake, dialect: ZFS_FUSE, scanPollMs: 20 } });
    agents.push(agent);
    const { job } = await agent.call<{ job: string }>('pool.scrub', { name: 'big' });
    for (let i = 0; i < 100 && agent.deps.jobs.get(job).progress.percent === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(agent.deps.jobs.get(job).progress.percent, 3.2);
    agent.deps.jobs.abort(job);
    const rec = await agent.waitJob(job);
    assert.equal(rec.state, 'aborted');
    assert.ok(
      fake.calls.some((c) => c.join(' ') === 'zpool scrub -s -- big'),
      JSON.stringify(fake.calls.map((c) => c.join(' '))),
    );
  });

  it('fails the job cleanly when zpool hangs', async () => {
    const bin = tempDir('calypso-test-hung-');
    try {
      mkdirSync(bin.dir, { recursive: true });
      const marker = `${(31 + Math.random()).toFixed(6)}`;
      const script = path.join(bin.dir, 'zpool');
      writeFileSync(script, `#!/bin/sh\n# a zpool that never answers\nexec sleep ${marker}\n`);
      chmodSync(script, 0o755);
      const hung = createRunner({ path: `${bin.dir}:/usr/bin:/bin`, killGraceMs: 200 });
      const agent = await startZfsAgent({ zfs: { runner: hung, dialect: ZFS_FUSE, statusTimeoutMs: 300 } });
      agents.push(agent);
      const started = Date.now();
      const { job } = await agent.call<{ job: string }>('pool.scrub', { name: 'big' });
      const rec = await agent.waitJob(job);
      assert.equal(rec.state, 'failed');
      assert.equal((rec.error?.data as { kind?: string } | undefined)?.kind, 'timeout');
      assert.ok(Date.now() - started < 10_000);
      // the lock is free again and no sleeping zpool is left behind
      const again = await agent.call<{ job: string }>('pool.scrub', { name: 'big' });
      assert.equal((await agent.waitJob(again.job)).state, 'failed');
      const leftovers = readdirSync('/proc')
        .filter((e) => /^\d+$/.test(e))
        .filter((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
          } catch {
            return false;
          }
        });
      assert.deepEqual(leftovers, []);
    } finally {
      bin.cleanup();
    }
  });

  /** `pool.online` of `device` against `fake`, scans polled every 20 ms: the job's record, checked successful */
  async function onlineJob(
    fake: ReturnType<typeof fakeRunner>,
    dialect: Dialect,
    scanSettleMs: number,
    device: string,
  ) {
    const agent = await startZfsAgent({ zfs: { runner: fake, dialect, scanPollMs: 20, scanSettleMs } });
    agents.push(agent);
    const { job } = await agent.call<{ job: string }>('pool.online', { name: 'big', device });
    const rec = await agent.waitJob(job);
    assert.equal(rec.state, 'success', JSON.stringify(rec.error));
    return rec;
  }

  // the CI of stop 35 (2026-12-07): OpenZFS under load started the resilver of `zpool online` after the job's
  // two idle polls of 100 ms had said "none", and the next scrub was refused ("currently resilvering")
  it('follows a resilver that shows only after the command returned', async () => {
    const hourAgo = zdate(Date.now() - 3600_000);
    let onlineAt = 0;
    let scanning = 0;
    const fake = fakeRunner({
      answer: (argv) => {
        if (argv[1] === 'online') {
          onlineAt = Date.now();
          return '';
        }
        if (argv[1] !== 'status') return undefined;
        if (!onlineAt || Date.now() - onlineAt < 400)
          return status(`scrub completed after 0h0m with 0 errors on ${hourAgo}`);
        if (++scanning <= 3)
          return status(`resilver in progress for 0h0m, ${scanning * 25}.00% done, 0h0m to go`);
        return status(`resilver completed after 0h0m with 0 errors on ${zdate(Date.now())}`);
      },
    });
    const rec = await onlineJob(fake, ZFS_FUSE, 3000, '/tmp/zx/big1.img');
    assert.deepEqual(
      [(rec.result as ScanResult).function, (rec.result as ScanResult).state, scanning > 3],
      ['resilver', 'finished', true],
    );
  });

  it('says no resilver was needed only once none showed for the settle time', async () => {
    const hourAgo = zdate(Date.now() - 3600_000);
    const fake = fakeRunner({
      answer: (argv) =>
        argv[1] === 'status' ? status(`scrub completed after 0h0m with 0 errors on ${hourAgo}`) : undefined,
    });
    const t0 = Date.now();
    const rec = await onlineJob(fake, ZFS_FUSE, 600, '/tmp/zx/big1.img');
    assert.equal((rec.result as ScanResult).state, 'none');
    assert.ok(Date.now() - t0 >= 600, `ended after ${Date.now() - t0} ms`);
  });

  it('waits out a resilver that OpenZFS deferred ("awaiting resilver") after the first one finished', async () => {
    let polls = 0;
    const fake = fakeRunner({
      answer: (argv) => {
        if (argv[1] !== 'status') return undefined;
        polls++;
        const now = zdate(Date.now());
        if (polls <= 4)
          return openzfsStatus(`resilvered 1.00M in 00:00:01 with 0 errors on ${now}`, '(awaiting resilver)');
        if (polls <= 6) return openzfsStatus(`resilver in progress since ${now}`);
        return openzfsStatus(`resilvered 7.00M in 00:00:02 with 0 errors on ${now}`);
      },
    });
    const rec = await onlineJob(fake, OPENZFS, 0, '/tmp/zx/big2.img');
    const result = rec.result as ScanResult;
    assert.deepEqual([result.state, result.scan.processed], ['finished', 7 * 1024 * 1024]);
  });
});
