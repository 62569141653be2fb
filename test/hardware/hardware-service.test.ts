/**
 * The hardware service in an in-process agent over a copy of the SAS fixture: hotplug replayed
 * from recorded `udevadm monitor` text (a dual-ported disk pulled, a new one inserted) gives the
 * right events and an updated disk.list; enclosure.locate writes its guarded sysfs attribute.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { AgentEvent } from '../../agent/events.js';
import { createHardwareService, type HardwareController } from '../../agent/hardware/service.js';
import { waitUntil } from '../../agent/util/time.js';
import { pad, TreeBuilder } from '../../probes/synthetic-builder.js';
import type { Disk, Enclosure } from '../../probes/types.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';
import { copyFixture, fixtureFile } from './fixtures.js';

const EXP0 = 'sys/devices/pci0000:00/0000:00:01.0/0000:03:00.0/host0/port-0:0/expander-0:0';
const EXP1 = 'sys/devices/pci0000:00/0000:00:01.0/0000:03:00.0/host0/port-0:1/expander-0:1';
const ENC = `${EXP0}/port-0:0:4/end_device-0:0:4/target0:0:8/0:0:8:0/enclosure/0:0:8:0`;

let agent: TestAgent;
let hw: HardwareController;
let tree: { dir: string; cleanup: () => void };
const seen: AgentEvent[] = [];

before(async () => {
  tree = copyFixture('sas-expander-enclosure');
  agent = await startTestAgent({
    sysroot: tree.dir,
    services: [createHardwareService({ startMonitor: false, onCreate: (h) => (hw = h) })],
  });
  agent.events.on(['disk.*', 'tape.*', 'enclosure.*'], (e) => seen.push(e));
});

after(async () => {
  await agent.stop();
  tree.cleanup();
});

const replay = (file: string) => {
  hw.monitor.feed(readFileSync(fixtureFile('udevadm', 'sas-pull-insert', file), 'utf8'));
  hw.monitor.endFeed();
};

test('disk.list and disk.get before any event', async () => {
  const disks = (await agent.call<{ items: Disk[] }>('disk.list', {}, { role: 'auditor' })).items;
  assert.equal(disks.length, 3);
  const d = await agent.call<Disk>('disk.get', { disk: '/dev/disk/by-id/wwn-0x5000c500a1b2c3fc' });
  assert.deepEqual(
    d.paths.map((p) => p.name),
    ['sdd', 'sdg'],
  );
  await assert.rejects(agent.call('disk.get', { disk: 'wwn-0xdeadbeef' }), { kind: 'not_found' });
  // what disk.list shows people is the kernel name: disk.get and disk.smart take it too
  assert.equal((await agent.call<Disk>('disk.get', { disk: disks[0]!.name })).id, disks[0]!.id);
  assert.equal((await agent.call<Disk>('disk.get', { disk: 'sdg' })).id, d.id);
  await assert.rejects(agent.call('disk.get', { disk: 'sdz' }), (e: Error) => {
    assert.match(
      e.message,
      /disk sdz: not found \(a disk is named as disk.list shows it: its id .*, kernel name /,
    );
    return true;
  });
});

test('pulling a dual-ported disk: one disk.removed, the slot empties', async () => {
  // The kernel removes both paths; then udev sends the events we replay.
  for (const [name, dev, minor] of [
    ['sdd', `${EXP0}/port-0:0:2/end_device-0:0:2/target0:0:2/0:0:2:0`, 48],
    ['sdg', `${EXP1}/port-0:1:2/end_device-0:1:2/target0:0:6/0:0:6:0`, 96],
  ] as const) {
    for (const l of [
      `sys/block/${name}`,
      `sys/class/block/${name}`,
      `sys/dev/block/8:${minor}`,
      `run/udev/data/b8:${minor}`,
    ]) {
      unlinkSync(path.join(tree.dir, l));
    }
    rmSync(path.join(tree.dir, dev), { recursive: true });
    unlinkSync(path.join(tree.dir, 'sys/bus/scsi/devices', path.basename(dev)));
  }
  seen.length = 0;
  replay('pull.txt');
  const removed = seen.filter((e) => e.topic === 'disk.removed');
  assert.deepEqual(
    removed.map((e) => (e.data as { disk: Disk }).disk.id),
    ['wwn-0x5000c500a1b2c3fc'],
  );
  assert.equal(seen.filter((e) => e.topic === 'disk.changed' || e.topic === 'disk.added').length, 0);
  const disks = (await agent.call<{ items: Disk[] }>('disk.list')).items;
  assert.deepEqual(
    disks.map((d) => d.name),
    ['sdb', 'sdc'],
  );
  const [enc] = (await agent.call<{ items: Enclosure[] }>('enclosure.list')).items;
  assert.equal(enc!.slots[2]!.disk, undefined);
  // the hardware subsystem raises its own alert (no alerts subsystem is loaded here)
  const key = 'hardware.disk.removed:wwn-0x5000c500a1b2c3fc';
  await waitUntil(() => agent.deps.alerts.get(key)?.state === 'active', { what: 'the removal alert' });
  const a = agent.deps.alerts.get(key)!;
  assert.equal(a.level, 'warning');
  assert.equal(a.source, 'hardware');
  assert.match(a.title, /^disk .+ was removed$/);
  assert.match(
    a.detail!,
    /If it was in a pool, the pool runs degraded: put it back or replace it \(pool.replace\)\.$/,
  );
  assert.deepEqual(a.data, { disk: 'wwn-0x5000c500a1b2c3fc' });
});

test('inserting a disk into slot 3: disk.added with its enclosure slot', async () => {
  const b = new TreeBuilder(tree.dir);
  const ed = `${EXP0}/port-0:0:3/end_device-0:0:3`;
  const dev = b.scsiDevice(ed, '0:0:3:0', {
    type: 0,
    vendor: pad('SEAGATE', 8),
    model: pad('ST8000NM0075', 16),
    rev: 'E004',
    wwid: 'naa.5000c500a1b2c410',
    sasAddress: '0x5000c500a1b2c411',
  });
  const wwn = '5000c500a1b2c410';
  const idPath = 'pci-0000:03:00.0-sas-exp0x500304800000007f-phy3-lun-0';
  b.block(dev, 'sdh', {
    devno: '8:112',
    sectors: 15628053168,
    rotational: true,
    udev: {
      links: [`disk/by-id/scsi-3${wwn}`, `disk/by-id/wwn-0x${wwn}`, `disk/by-path/${idPath}`],
      props: {
        ID_MODEL: 'ST8000NM0075',
        ID_VENDOR: 'SEAGATE',
        ID_WWN: `0x${wwn}`,
        ID_SERIAL_SHORT: wwn,
        ID_SCSI_SERIAL: 'ZA1ABCDH0000C9211ABC',
        ID_PATH: idPath,
      },
    },
  });
  symlinkSync(
    path.relative(path.join(tree.dir, ENC, 'Slot03'), path.join(tree.dir, dev)),
    path.join(tree.dir, ENC, 'Slot03/device'),
  );
  writeFileSync(path.join(tree.dir, ENC, 'Slot03/status'), 'OK\n');
  seen.length = 0;
  replay('insert.txt');
  const added = seen.filter((e) => e.topic === 'disk.added').map((e) => (e.data as { disk: Disk }).disk);
  assert.equal(added.length, 1);
  assert.equal(added[0]!.id, `wwn-0x${wwn}`);
  assert.deepEqual(added[0]!.enclosure, { id: '0x500304800000007f', slot: 3 });
  assert.equal(added[0]!.serial, 'ZA1ABCDH0000C9211ABC');
  const disks = (await agent.call<{ items: Disk[] }>('disk.list')).items;
  assert.deepEqual(
    disks.map((d) => d.name),
    ['sdb', 'sdc', 'sdh'],
  );
});

test('enclosure.locate: operator only, dry run plans the write, the write is done once', async () => {
  const params = { enclosure: '0x500304800000007f', slot: 0, on: true };
  await assert.rejects(agent.call('enclosure.locate', params, { role: 'auditor' }), { kind: 'denied' });
  const file = path.join(tree.dir, ENC, 'Slot00/locate');
  const plan = await agent.call<{ dryRun: true; files: { path: string; diff: string }[] }>(
    'enclosure.locate',
    { ...params, dryRun: true },
    { role: 'operator' },
  );
  assert.equal(plan.dryRun, true);
  assert.equal(plan.files.length, 1);
  assert.match(plan.files[0]!.diff, /-0\n\+1\n$/);
  assert.equal(readFileSync(file, 'utf8').trim(), '0', 'dry run wrote nothing');
  const r = await agent.call<{ changed: boolean }>('enclosure.locate', params, { role: 'operator' });
  assert.equal(r.changed, true);
  assert.equal(readFileSync(file, 'utf8').trim(), '1');
  assert.ok(seen.some((e) => e.topic === 'enclosure.changed'));
  const again = await agent.call<{ changed: boolean }>('enclosure.locate', params, { role: 'operator' });
  assert.equal(again.changed, false);
  const [enc] = (await agent.call<{ items: Enclosure[] }>('enclosure.list')).items;
  assert.equal(enc!.slots[0]!.locate, true);
  await assert.rejects(agent.call('enclosure.locate', { ...params, slot: 9 }, { role: 'operator' }), {
    kind: 'not_found',
  });
});

test('the other lists answer from the same cache', async () => {
  const hbas = (await agent.call<{ items: { id: string; disks: string[] }[] }>('hba.list')).items;
  assert.deepEqual(
    hbas.map((h) => [h.id, h.disks.length]),
    [['0000:03:00.0', 3]],
  );
  assert.deepEqual(await agent.call('tape.drives'), []);
  assert.deepEqual(await agent.call('tape.changers'), []);
  const warnings = await agent.call<unknown[]>('hardware.warnings');
  assert.ok(Array.isArray(warnings));
});

test('a faulty enclosure slot is an alert when the enclosures are listed; OK again clears it', async () => {
  const t2 = copyFixture('sas-expander-enclosure');
  const slot = path.join(t2.dir, ENC, 'Slot01');
  writeFileSync(path.join(slot, 'status'), 'Critical\n');
  writeFileSync(path.join(slot, 'fault'), '1\n');
  const prefix = tempDir('calypso-enc-');
  let a = await startTestAgent({
    sysroot: t2.dir,
    services: [createHardwareService({ startMonitor: false })],
    prefix: prefix.dir,
  });
  try {
    const [enc] = (await a.call<{ items: Enclosure[] }>('enclosure.list')).items;
    const key = `hardware.enclosure:${enc!.id}:1`;
    const al = a.deps.alerts.get(key);
    assert.equal(al?.state, 'active');
    assert.equal(al?.level, 'critical');
    assert.match(al?.title ?? '', /slot 1: Critical \(fault LED on\)/);
    assert.equal(a.deps.alerts.list().filter((x) => x.key.startsWith('hardware.enclosure:')).length, 1);
    await a.stop();
    writeFileSync(path.join(slot, 'status'), 'OK\n');
    writeFileSync(path.join(slot, 'fault'), '0\n');
    a = await startTestAgent({
      sysroot: t2.dir,
      services: [createHardwareService({ startMonitor: false })],
      prefix: prefix.dir,
    });
    await a.call('enclosure.list');
    assert.equal(a.deps.alerts.get(key)?.state, 'cleared');
  } finally {
    await a.stop();
    t2.cleanup();
    prefix.cleanup();
  }
});
