/**
 * SMART self-test schedules per disk, on a runner that answers like smartctl 7.3 (constructed
 * JSON in test/fixtures/smartctl/ata-constructed: no disk here runs self-tests): set (dry run
 * stores nothing, bad input refused), the cron loop starts `smartctl -t short|long` as a
 * `disk.selftest` job, the result is read back from `smartctl -l selftest` and shown on
 * `disk.selftest.schedule.list` and `maintenance.calendar`; a read failure in the log is a failed run.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { parseSelfTestLog } from '../../agent/hardware/selftest-schedule.js';
import { createHardwareService } from '../../agent/hardware/service.js';
import type { RpcError } from '../../rpc/errors.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { fakeRunner } from '../helpers/fake-runner.js';
import { fixture, fixtureFile } from './fixtures.js';

const json = (f: string) => readFileSync(fixtureFile('smartctl', 'ata-constructed', f), 'utf8');
const DISK = 'wwn-0x5000cca267c3d4e5';
let logFile = 'selftest-log.json';

const runner = fakeRunner(
  (argv) => {
    if (argv.includes('--version')) return 'smartctl 7.3 2022-02-28 r5338';
    if (argv.includes('-t')) return '{"smartctl":{"exit_status":0}}';
    if (argv.includes('selftest'))
      return { stdout: json(logFile), code: logFile.includes('failure') ? 64 : 0 };
    return json('done.json');
  },
  { which: (name) => (name === 'smartctl' ? '/usr/sbin/smartctl' : undefined) },
);

interface Sched {
  disk: string;
  type: string;
  lastJob?: string;
  lastRun?: { result: string; summary?: string };
  nextRun?: number;
}
interface Cal {
  items: { source: string; id: string; nextRun?: string; lastRun?: { result: string; summary?: string } }[];
}

let agent: TestAgent;
before(async () => {
  agent = await startTestAgent({
    sysroot: fixture('sata-ahci'),
    runner,
    services: [createHardwareService({ startMonitor: false, selfTestPollMs: 5, scheduleTickMs: 50 })],
  });
});
after(() => agent.stop());

async function waitRun(type: string): Promise<Sched> {
  for (let i = 0; i < 400; i++) {
    const s = (await agent.call<{ items: Sched[] }>('disk.selftest.schedule.list')).items.find(
      (x) => x.type === type,
    );
    if (s?.lastRun) return s;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the ${type} schedule never ran`);
}

test('the self-test log parser reads the newest entry (ATA, as smartctl 7.3 prints it)', () => {
  assert.deepEqual(parseSelfTestLog(json('selftest-log.json')), {
    type: 'Short offline',
    status: 'Completed without error',
    passed: true,
    hours: 21873,
  });
  assert.equal(parseSelfTestLog(json('selftest-log-read-failure.json'))?.passed, false);
  assert.equal(parseSelfTestLog('not json'), undefined);
});

test('bad input is refused and a dry run stores nothing', async () => {
  await assert.rejects(
    agent.call('disk.selftest.schedule.set', { disk: DISK, type: 'short', schedule: '* 25 * * *' }),
    (e: RpcError) => e.kind === 'invalid' && /schedule/.test(e.message),
  );
  await assert.rejects(
    agent.call('disk.selftest.schedule.set', { disk: DISK, type: 'quick', schedule: '@daily' }),
    (e: RpcError) => e.kind === 'invalid',
  );
  await assert.rejects(
    agent.call('disk.selftest.schedule.set', { disk: 'sdz', type: 'short', schedule: '@daily' }),
    (e: RpcError) => e.kind === 'not_found',
  );
  const dry = await agent.call<{ notes: string[] }>('disk.selftest.schedule.set', {
    disk: 'sda',
    type: 'short',
    schedule: '@daily',
    dryRun: true,
  });
  assert.deepEqual(dry.notes, [`store config hardware/selftest-schedule/${DISK}/short`]);
  assert.equal((await agent.call<{ total: number }>('disk.selftest.schedule.list')).total, 0);
});

test('a due short test runs as a job; its result comes from the self-test log, on the calendar', async () => {
  runner.clear();
  const set = await agent.call<Sched>('disk.selftest.schedule.set', {
    disk: 'sda',
    type: 'short',
    schedule: '* * * * *',
  });
  assert.equal(set.disk, DISK, 'the schedule keeps the stable id');
  const s = await waitRun('short');
  assert.equal(s.lastRun?.result, 'success', JSON.stringify(s));
  assert.equal(s.lastRun?.summary, 'Short offline: Completed without error (at 21873 power-on hours)');
  const job = await agent.waitJob(s.lastJob!);
  assert.equal(job.state, 'success');
  assert.equal(job.user, 'calypso-scheduler');
  assert.ok(runner.calls.some((c) => c.join(' ') === 'smartctl -j -t short /dev/sda'));
  assert.ok(runner.calls.some((c) => c.join(' ') === 'smartctl -j -l selftest /dev/sda'));
  const cal = await agent.call<Cal>('maintenance.calendar');
  const e = cal.items.find((x) => x.source === 'hardware.selftest' && x.id === `${DISK}/short`);
  assert.ok(e?.nextRun, JSON.stringify(cal));
  assert.equal(e.lastRun?.result, 'success');
  await agent.call('disk.selftest.schedule.delete', { disk: DISK, type: 'short' });
});

test('a read failure in the log makes the scheduled long test a failed run on the calendar', async () => {
  logFile = 'selftest-log-read-failure.json';
  await agent.call('disk.selftest.schedule.set', { disk: DISK, type: 'long', schedule: '* * * * *' });
  const s = await waitRun('long');
  assert.equal(s.lastRun?.result, 'failed');
  assert.match(s.lastRun?.summary ?? '', /Extended offline: Completed: read failure/);
  const failed = await agent.call<Cal>('maintenance.calendar', { failed: true });
  assert.deepEqual(
    failed.items.map((x) => x.id),
    [`${DISK}/long`],
  );
  await agent.call('disk.selftest.schedule.delete', { disk: DISK, type: 'long' });
  assert.equal((await agent.call<{ total: number }>('disk.selftest.schedule.list')).total, 0);
});
