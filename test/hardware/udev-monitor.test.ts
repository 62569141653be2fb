/**
 * The hotplug monitor: parsing recorded `udevadm monitor` text (whole and in random chunks),
 * debouncing bursts into one coalesced batch, and restarting udevadm — here a real process
 * run through the Runner that prints a recording and exits — with a resync after each restart.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import pino from 'pino';
import { createRunner } from '../../agent/runner.js';
import { monitorArgv, type UdevEvent, UdevMonitor } from '../../udev/monitor.js';
import { MonitorParser, parseMonitorText } from '../../udev/parse-monitor.js';
import { fixtureFile } from './fixtures.js';

const PULL = fixtureFile('udevadm', 'sas-pull-insert', 'pull.txt');
const KERNEL = fixtureFile('udevadm', 'loop-kernel-this-machine', 'monitor.txt');

test('parses a recorded udev stream: actions, subsystems, properties', () => {
  const ev = parseMonitorText(readFileSync(PULL, 'utf8'));
  assert.deepEqual(
    ev.map((e) => [e.source, e.action, e.subsystem, e.devpath.split('/').pop()]),
    [
      ['udev', 'remove', 'block', 'sdd'],
      ['udev', 'remove', 'scsi', '0:0:2:0'],
      ['udev', 'remove', 'block', 'sdg'],
      ['udev', 'remove', 'scsi', '0:0:6:0'],
    ],
  );
  assert.equal(ev[0]!.props['ID_WWN'], '0x5000c500a1b2c3fc');
  assert.equal(ev[0]!.props['DEVLINKS']?.split(' ').length, 3);
  assert.equal(ev[0]!.time, 2417.843265);
});

test('parses kernel events recorded on this machine (loop device attach/detach)', () => {
  const ev = parseMonitorText(readFileSync(KERNEL, 'utf8'));
  assert.equal(ev.length, 3);
  for (const e of ev) {
    assert.deepEqual(
      [e.source, e.action, e.subsystem, e.devpath],
      ['kernel', 'change', 'block', '/devices/virtual/block/loop0'],
    );
  }
  assert.equal(ev[2]!.props['DISK_MEDIA_CHANGE'], '1');
});

test('chunking does not change what is parsed (random splits)', () => {
  const text = readFileSync(PULL, 'utf8') + readFileSync(KERNEL, 'utf8');
  const whole = parseMonitorText(text);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 60 }), (cuts) => {
      const p = new MonitorParser();
      const got: UdevEvent[] = [];
      let at = 0;
      for (const c of cuts) {
        got.push(...p.push(text.slice(at, at + c)));
        at += c;
      }
      got.push(...p.push(text.slice(at)), ...p.end());
      assert.deepEqual(got, whole);
    }),
    { numRuns: 200 },
  );
});

test('a burst is debounced into one batch, coalesced per device, last event wins', async () => {
  const batches: UdevEvent[][] = [];
  const m = new UdevMonitor({ onEvents: (e) => batches.push(e), debounceMs: 30, maxWaitMs: 200 });
  const text = readFileSync(PULL, 'utf8');
  m.feed(text);
  m.feed(text.replace(/remove/g, 'add')); // the same devices again: the later action wins
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(batches.length, 1);
  assert.equal(batches[0]!.length, 4);
  assert.ok(batches[0]!.every((e) => e.action === 'add'));
  await m.stop();
});

test('maxWait bounds the delay of a batch under a steady trickle', async () => {
  const times: number[] = [];
  const m = new UdevMonitor({ onEvents: () => times.push(Date.now()), debounceMs: 50, maxWaitMs: 120 });
  const one = readFileSync(PULL, 'utf8').split('\n\n').slice(1, 2).join('') + '\n\n';
  const start = Date.now();
  for (let i = 0; i < 12; i++) {
    m.feed(one.replace('sdd', `sd${String.fromCharCode(97 + i)}`));
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 100));
  await m.stop();
  assert.ok(times.length >= 2, `delivered in ${times.length} batches`);
  assert.ok(times[0]! - start < 400, `first batch after ${times[0]! - start} ms`);
});

test('udevadm dying is restarted with backoff, each restart asks for a resync', async () => {
  const runner = createRunner({ log: pino({ level: 'silent' }) });
  const batches: UdevEvent[][] = [];
  let resyncs = 0;
  // `cat` stands in for udevadm: it prints a recording and exits, as a crashed monitor would.
  const m = new UdevMonitor({
    runner,
    argv: ['cat', PULL],
    onEvents: (e) => batches.push(e),
    onResync: () => resyncs++,
    debounceMs: 10,
    restartDelayMs: 20,
    maxRestartDelayMs: 40,
  });
  m.start();
  const deadline = Date.now() + 5000;
  while ((m.starts < 3 || batches.length < 1) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  await m.stop();
  assert.ok(m.starts >= 3, `restarted (${m.starts} starts)`);
  assert.equal(resyncs, m.starts - 1);
  assert.ok(batches.flat().some((e) => e.devpath.endsWith('/sdd')));
  const starts = m.starts;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(m.starts, starts, 'no restart after stop');
  assert.equal(m.running, false);
});

test('the default command watches the storage subsystems through udev, not the kernel', () => {
  const argv = monitorArgv();
  assert.deepEqual(argv.slice(0, 4), ['udevadm', 'monitor', '--udev', '--property']);
  assert.ok(argv.includes('--subsystem-match=block') && argv.includes('--subsystem-match=scsi_tape'));
});
