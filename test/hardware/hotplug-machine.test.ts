/**
 * Hotplug on this machine, end to end: the hardware service probes the real `/`, its monitor
 * runs a real `udevadm monitor` through the Runner (kernel events: no udev daemon runs on the
 * development VM and CI), and attaching then detaching a loop device must show up as
 * `disk.added` / `disk.removed` and in `disk.list`, within a second or two.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import type { AgentEvent } from '../../agent/events.js';
import { createHardwareService } from '../../agent/hardware/service.js';
import { createRunner } from '../../agent/runner.js';
import type { Disk } from '../../probes/types.js';
import { startTestAgent } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('a loop device attached and detached is seen through the monitor', async (t) => {
  const tmp = tempDir('calypso-hotplug-');
  t.after(tmp.cleanup);
  const img = path.join(tmp.dir, 'disk.img');
  writeFileSync(img, Buffer.alloc(8 * 1024 * 1024));
  const runner = createRunner({ log: pino({ level: 'silent' }) });
  const agent = await startTestAgent({
    services: [
      createHardwareService({
        startMonitor: true,
        monitor: {
          argv: ['udevadm', 'monitor', '--kernel', '--property', '--subsystem-match=block'],
          debounceMs: 50,
        },
      }),
    ],
  });
  let loop: string | undefined;
  t.after(async () => {
    if (loop) await runner.run(['losetup', '-d', loop], { okCodes: [0, 1] }).catch(() => {});
    await agent.stop();
  });
  const seen: AgentEvent[] = [];
  agent.events.on(['disk.*'], (e) => seen.push(e));
  await agent.call('disk.list'); // loads the inventory the events are applied to
  await sleep(500); // udevadm subscribes to the netlink socket once started

  loop = (await runner.run(['losetup', '--find', '--show', '--', img])).stdout.trim();
  const name = path.basename(loop);
  const added = await until('disk.added', () =>
    seen.find((e) => e.topic === 'disk.added' && (e.data as { disk: Disk }).disk.name === name),
  );
  assert.equal((added.data as { disk: Disk }).disk.size, 8 * 1024 * 1024);
  assert.equal((added.data as { disk: Disk }).disk.type, 'loop');
  const listed = (await agent.call<{ items: Disk[] }>('disk.list')).items;
  assert.ok(listed.some((d) => d.name === name && d.size === 8 * 1024 * 1024));

  await runner.run(['losetup', '-d', loop]);
  const dev = loop;
  loop = undefined;
  await until('disk.removed', () =>
    seen.find((e) => e.topic === 'disk.removed' && (e.data as { disk: Disk }).disk.name === name),
  );
  const after = (await agent.call<{ items: Disk[] }>('disk.list')).items;
  assert.ok(!after.some((d) => d.path === dev), 'gone from disk.list');
});
