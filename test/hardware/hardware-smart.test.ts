/**
 * disk.smart and the disk.selftest job against a fake runner that answers like smartctl 7.3
 * (recorded and constructed JSON); network.list against the machine through systeminformation.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { createHardwareService } from '../../agent/hardware/service.js';
import type { RpcError } from '../../rpc/errors.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { fakeRunner } from '../helpers/fake-runner.js';
import { fixture, fixtureFile } from './fixtures.js';

const json = (...p: string[]) => readFileSync(fixtureFile('smartctl', ...p), 'utf8');

/** smartctl answered from recorded JSON; `-c` polls answer "in progress" `runningPolls` times. */
const smartctl = { runningPolls: 2, failing: false, table: false };
/** done.json with a failed health check and a hot drive */
function failingJson(): string {
  const j = JSON.parse(json('ata-constructed', 'done.json')) as Record<string, unknown>;
  return JSON.stringify({
    ...j,
    smart_status: { passed: false },
    temperature: { current: 61 },
    ata_smart_attributes: { table: [{ id: 5, name: 'Reallocated_Sector_Ct', raw: { value: 12 } }] },
  });
}
/** done.json with no reallocated sector */
function healthyTable(): string {
  const j = JSON.parse(json('ata-constructed', 'done.json')) as Record<string, unknown>;
  return JSON.stringify({
    ...j,
    ata_smart_attributes: { table: [{ id: 5, name: 'Reallocated_Sector_Ct', raw: { value: 0 } }] },
  });
}
const runner = fakeRunner(
  (argv) => {
    if (argv.includes('--version')) return 'smartctl 7.3 2022-02-28 r5338';
    const dev = argv[argv.length - 1];
    if (dev === '/dev/vda') return { stdout: json('virtio-vda', 'a.json'), code: 1 };
    if (argv.includes('-t')) return '{"smartctl":{"exit_status":0}}';
    if (argv.includes('-X')) return '{}';
    if (argv.includes('-c') && smartctl.runningPolls-- > 0) return json('ata-constructed', 'running.json');
    if (smartctl.failing) return { stdout: failingJson(), code: 8 };
    if (smartctl.table) return healthyTable();
    return json('ata-constructed', 'done.json');
  },
  { which: (name) => (name === 'smartctl' ? '/usr/sbin/smartctl' : undefined) },
);

let agent: TestAgent;

before(async () => {
  agent = await startTestAgent({
    sysroot: fixture('sata-ahci'),
    runner,
    services: [createHardwareService({ startMonitor: false, selfTestPollMs: 5 })],
  });
});
after(() => agent.stop());

test('disk.smart summarises smartctl -j -a of the disk named by its id', async () => {
  const s = await agent.call<Record<string, unknown>>(
    'disk.smart',
    { disk: 'wwn-0x5000cca267c3d4e5' },
    { role: 'auditor' },
  );
  assert.deepEqual(
    [s['disk'], s['model'], s['serial'], s['passed'], s['temperature'], s['powerOnHours']],
    ['wwn-0x5000cca267c3d4e5', 'WDC WD100EFAX-68LHPN0', 'JEK3ABCD', true, 34, 21873],
  );
  assert.deepEqual(runner.calls.at(-1), ['smartctl', '-j', '-a', '/dev/sda']);
});

test('a failing SMART check and a hot drive raise alerts; a healthy reading clears them', async () => {
  const disk = 'wwn-0x5000cca267c3d4e5';
  smartctl.failing = true;
  try {
    const s = await agent.call<{ passed?: boolean; temperature?: number }>('disk.smart', { disk });
    assert.deepEqual([s.passed, s.temperature], [false, 61]);
  } finally {
    smartctl.failing = false;
  }
  const fail = agent.deps.alerts.get(`hardware.disk.smart:${disk}`);
  assert.equal(fail?.state, 'active');
  assert.equal(fail?.level, 'critical');
  assert.match(fail?.title ?? '', /WDC WD100EFAX-68LHPN0 JEK3ABCD fails its SMART health check/);
  assert.equal(agent.deps.alerts.get(`hardware.disk.temperature:${disk}`)?.state, 'active');
  assert.match(
    agent.deps.alerts.get(`hardware.disk.reallocated:${disk}`)?.title ?? '',
    /12 reallocated sectors/,
  );
  smartctl.table = true;
  try {
    await agent.call('disk.smart', { disk });
  } finally {
    smartctl.table = false;
  }
  assert.equal(agent.deps.alerts.get(`hardware.disk.reallocated:${disk}`)?.state, 'cleared');
  assert.equal(agent.deps.alerts.get(`hardware.disk.smart:${disk}`)?.state, 'cleared');
  assert.equal(agent.deps.alerts.get(`hardware.disk.temperature:${disk}`)?.state, 'cleared');
});

test('disk.smart on a disk without SMART is unavailable, with smartctl’s reason', async () => {
  const a = await startTestAgent({
    sysroot: fixture('virtio-this-machine'),
    runner,
    services: [createHardwareService({ startMonitor: false })],
  });
  try {
    await assert.rejects(a.call('disk.smart', { disk: 'virtio-17666427119999462' }), (err: RpcError) => {
      assert.equal(err.kind, 'unavailable');
      assert.match(err.message, /Unable to detect device type/);
      return true;
    });
  } finally {
    await a.stop();
  }
});

test('disk.selftest: dry run plans, the job follows the test to the end, operator only', async () => {
  const params = { disk: 'wwn-0x5000cca267c3d4e5', type: 'long' };
  await assert.rejects(agent.call('disk.selftest', params, { role: 'auditor' }), { kind: 'denied' });
  const plan = await agent.call<{ commands: string[][] }>(
    'disk.selftest',
    { ...params, dryRun: true },
    { role: 'operator' },
  );
  assert.deepEqual(plan.commands, [['smartctl', '-j', '-t', 'long', '/dev/sda']]);
  runner.clear();
  smartctl.runningPolls = 2;
  const { job } = await agent.call<{ job: string }>('disk.selftest', params, { role: 'operator' });
  const rec = await agent.waitJob(job);
  assert.equal(rec.state, 'success', JSON.stringify(rec.error));
  assert.equal((rec.result as { passed: boolean }).passed, true);
  assert.deepEqual(runner.calls[0], ['smartctl', '-j', '-t', 'long', '/dev/sda']);
  assert.equal(runner.calls.filter((c) => c.includes('-c')).length, 3, 'polled until the test finished');
});

test('aborting a self-test job aborts the test on the disk', async () => {
  runner.clear();
  smartctl.runningPolls = 1e9;
  const { job } = await agent.call<{ job: string }>(
    'disk.selftest',
    { disk: 'wwn-0x5000cca267c3d4e5', type: 'short' },
    { role: 'operator' },
  );
  while (!runner.calls.some((c) => c.includes('-c'))) await new Promise((r) => setTimeout(r, 5));
  await agent.call('job.abort', { id: job });
  const rec = await agent.waitJob(job);
  assert.equal(rec.state, 'aborted');
  assert.ok(
    runner.calls.some((c) => c.join(' ') === 'smartctl -X /dev/sda'),
    'smartctl -X sent',
  );
});

test('network.list lists this machine’s interfaces, loopback included', async () => {
  const list = (
    await agent.call<{ items: { name: string; internal: boolean; ipv4: string[] }[] }>('network.list')
  ).items;
  const lo = list.find((n) => n.name === 'lo');
  assert.ok(lo, JSON.stringify(list.map((n) => n.name)));
  assert.equal(lo.internal, true);
  assert.deepEqual(lo.ipv4, ['127.0.0.1']);
});
