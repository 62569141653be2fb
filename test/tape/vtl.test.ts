/**
 * mhvtl: render → parse → render on every file in test/fixtures/mhvtl (written here in mhvtl's formats, as mhvtl is
 * not in Debian and nothing of it can be recorded; comments aside, the
 * agent's rendering is a fixed point and keeps every record, drive, slot and barcode); the plan
 * of a new library (files, mktape and systemctl argv) and its apply, history and restore through
 * the managed-config pipeline, on a recorded sysroot that has /sys/module/mhvtl and a recording
 * runner (the module cannot load here); `unavailable` with the reason where mhvtl is missing.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { librariesOf, parseDeviceConf, renderDeviceConf } from '../../agent/vtl/device-conf.js';
import { parseLibraryContents, renderLibraryContents } from '../../agent/vtl/library-contents.js';
import { parseMhvtlConf, renderMhvtlConf } from '../../agent/vtl/mhvtl-conf.js';
import { deviceConfOf, libraryContentsOf, type VtlLibrary } from '../../agent/vtl/model.js';
import { createVtlService } from '../../agent/vtl/service.js';
import type { RpcError } from '../../rpc/errors.js';
import { startTestAgent } from '../helpers/agent.js';
import { fakeRunner } from '../helpers/fake-runner.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const dir = path.join(repoRoot(), 'test', 'fixtures', 'mhvtl');
const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');
const samples = readdirSync(dir).filter((f) => f !== 'README.md');

function roundTrip<T>(text: string, parse: (t: string) => T, render: (v: T) => string): T {
  const model = parse(text);
  const once = render(model);
  assert.deepEqual(parse(once), model, 'parse(render(parse(sample))) equals parse(sample)');
  assert.equal(render(parse(once)), once, 'render is a fixed point');
  return model;
}

describe('mhvtl files: render → parse → render on every fixture', () => {
  it('covers every file in the fixtures directory', () => {
    const handled = samples.filter((f) => /^(device\.conf|library_contents|mhvtl\.conf)/.test(f));
    assert.deepEqual(handled.sort(), samples.sort());
    assert.ok(handled.length >= 5);
  });

  for (const f of samples.filter((x) => x.startsWith('device.conf'))) {
    it(f, () => {
      const m = roundTrip(read(f), parseDeviceConf, renderDeviceConf);
      const libs = librariesOf(m);
      if (f === 'device.conf.written-v3-two-libraries') {
        assert.equal(m.version, 3);
        assert.deepEqual(
          libs.map((l) => [l.id, l.vendor, l.product, l.drives.length]),
          [
            [10, 'STK', 'SL150', 3],
            [20, 'SPECTRA', 'PYTHON', 2],
          ],
        );
        assert.equal(m.records.find((r) => r.id === 22)!.target, '2');
        assert.deepEqual(m.records.find((r) => r.id === 11)!.lines.at(-1), {
          key: 'VPD',
          value: 'b0 04 00 02 01 00',
        });
      } else {
        assert.equal(m.version, 5);
        assert.deepEqual(
          libs.map((l) => [l.id, l.product, l.home, l.drives.map((d) => `${d.slot}:${d.product}`)]),
          [
            [10, 'L700', '/var/lib/calypso/vtl', ['1:ULT3580-TD9', '2:ULT3580-TD9', '3:ULT3580-TD7']],
            [30, 'L80', '/var/lib/calypso/vtl', ['1:T10000C', '2:T10000C']],
          ],
        );
        assert.equal(m.records[1]!.lines.find((l) => l.key === 'Compression')!.value, 'factor 1 enabled 1');
        assert.equal(m.records[3]!.lines.find((l) => l.key === 'Compression')!.value, 'factor 9 enabled 1');
      }
    });
  }

  for (const f of samples.filter((x) => x.startsWith('library_contents'))) {
    it(f, () => {
      const m = roundTrip(read(f), parseLibraryContents, renderLibraryContents);
      assert.deepEqual(m.maps, [1, 2, 3, 4]);
      assert.deepEqual(m.pickers, [1]);
      if (f === 'library_contents.10.written') {
        assert.equal(m.version, 2);
        assert.equal(m.drives.length, 3);
        assert.equal(m.slots.length, 40);
        assert.deepEqual(m.slots[0], { index: 1, barcode: 'CAL001L9' });
        assert.deepEqual(m.slots[18], { index: 19 }, 'a trailing space is an empty slot');
        assert.deepEqual(m.slots[19], { index: 20, barcode: 'CLN001L9' });
        assert.deepEqual(m.slots[21], { index: 22 });
        assert.deepEqual(m.slots.at(-1), { index: 40, barcode: 'CAL040L7' });
      }
      if (f === 'library_contents.written-older-style') {
        assert.equal(m.version, undefined);
        assert.equal(m.drives.length, 6);
        assert.deepEqual(m.slots[0], { index: 1, barcode: 'OLD001L3' }, 'a tab before the barcode');
        assert.deepEqual(m.slots.at(-1), { index: 24, barcode: 'CLN002L3' });
      }
    });
  }

  it('mhvtl.conf.written', () => {
    const m = roundTrip(read('mhvtl.conf.written'), parseMhvtlConf, renderMhvtlConf);
    assert.deepEqual(m, [
      ['MHVTL_CONFIG_PATH', '/etc/mhvtl'],
      ['CAPACITY', '2500'],
      ['VERBOSE', '1'],
      ['VTL_DEBUG', '0'],
    ]);
  });

  it('the agent’s own rendering of a library parses back to the same libraries', () => {
    const lib: VtlLibrary = {
      id: 20,
      name: 'lab',
      personality: 'STK-L700',
      drives: [8, 9],
      slots: 24,
      mailslots: 4,
      barcodePrefix: 'CA',
      tapes: 20,
      cleaningTapes: 2,
      capacityMB: 5000,
      compression: 1,
    };
    const dc = deviceConfOf({ libraries: [lib] }, '/srv/calypso/vtl');
    const back = librariesOf(roundTrip(renderDeviceConf(dc), parseDeviceConf, renderDeviceConf));
    assert.deepEqual(
      back[0]!.drives.map((d) => [d.id, d.slot, d.product]),
      [
        [21, 1, 'ULT3580-TD8'],
        [22, 2, 'ULT3580-TD9'],
      ],
    );
    const lc = roundTrip(
      renderLibraryContents(libraryContentsOf(lib)),
      parseLibraryContents,
      renderLibraryContents,
    );
    assert.deepEqual(lc.slots[0], { index: 1, barcode: 'CA0001L9' });
    assert.deepEqual(lc.slots[21], { index: 22, barcode: 'CLN021L9' });
    assert.deepEqual(lc.slots[22], { index: 23 });
  });
});

const recordingRunner = () => fakeRunner(() => '', { which: (n) => `/usr/bin/${n}` });

const NEW = {
  id: 10,
  name: 'vtl1',
  personality: 'IBM-03584L32',
  drives: [6, 6],
  slots: 8,
  mailslots: 2,
  barcodePrefix: 'V',
  tapes: 3,
  cleaningTapes: 1,
  capacityMB: 2000,
  compression: 0,
};

describe('vtl service', () => {
  it('plans a new library (files, mktape, systemctl), applies it, keeps history and restores', async () => {
    const sys = tempDir();
    mkdirSync(path.join(sys.dir, 'sys', 'module', 'mhvtl'), { recursive: true });
    const runner = recordingRunner();
    const a = await startTestAgent({ runner, sysroot: sys.dir, services: [createVtlService()] });
    try {
      const conf = a.deps.layout.generated('mhvtl');
      const home = a.deps.layout.data.vtl;
      const plan = await a.call<{
        dryRun: true;
        commands: string[][];
        files: { path: string; diff: string }[];
      }>('vtl.library.create', { ...NEW, dryRun: true });
      assert.deepEqual(plan.files.map((f) => path.basename(f.path)).sort(), [
        'device.conf',
        'library_contents.10',
        'mhvtl.conf',
      ]);
      const dc = plan.files.find((f) => f.path.endsWith('device.conf'))!.diff;
      assert.match(dc, /^\+Library: 10 CHANNEL: 00 TARGET: 00 LUN: 00$/m);
      assert.match(dc, /^\+ Product identification: 03584L32$/m);
      assert.match(dc, /^\+Drive: 12 CHANNEL: 00 TARGET: 02 LUN: 00$/m);
      assert.match(dc, /^\+ Compression: factor 1 enabled 0$/m);
      assert.match(dc, new RegExp(`^\\+ Home directory: ${home}$`, 'm'));
      assert.deepEqual(plan.commands, [
        ['mktape', '-C', conf, '-l', '10', '-m', 'V00001L6', '-s', '2000', '-t', 'data', '-d', 'LTO6'],
        ['mktape', '-C', conf, '-l', '10', '-m', 'V00002L6', '-s', '2000', '-t', 'data', '-d', 'LTO6'],
        ['mktape', '-C', conf, '-l', '10', '-m', 'V00003L6', '-s', '2000', '-t', 'data', '-d', 'LTO6'],
        ['mktape', '-C', conf, '-l', '10', '-m', 'CLN010L6', '-s', '2000', '-t', 'clean', '-d', 'LTO6'],
        ['systemctl', 'restart', 'mhvtl.target'],
      ]);
      assert.equal(existsSync(path.join(conf, 'device.conf')), false, 'a dry run writes nothing');
      assert.equal(runner.calls.filter((c) => c[0] === 'mktape').length, 0);

      const r = await a.call<{ commands: string[][]; version: number }>('vtl.library.create', NEW);
      assert.deepEqual(r.commands, plan.commands, 'the apply ran what the plan listed');
      assert.equal(r.version, 1);
      const lc = parseLibraryContents(readFileSync(path.join(conf, 'library_contents.10'), 'utf8'));
      assert.deepEqual(
        lc.slots.map((s) => s.barcode ?? ''),
        ['V00001L6', 'V00002L6', 'V00003L6', 'CLN010L6', '', '', '', ''],
      );
      assert.deepEqual(lc.maps, [1, 2]);

      await assert.rejects(a.call('vtl.library.create', NEW), (e: RpcError) => e.kind === 'conflict');
      await a.call('vtl.library.update', { id: 10, set: { tapes: 4 } });
      assert.match(readFileSync(path.join(conf, 'library_contents.10'), 'utf8'), /^Slot 4: V00004L6$/m);
      const hist = await a.call<{ items: { version: number }[] }>('vtl.config.history');
      assert.deepEqual(
        hist.items.map((h) => h.version),
        [2, 1],
      );
      await a.call('vtl.config.restore', { version: 1 });
      assert.match(readFileSync(path.join(conf, 'library_contents.10'), 'utf8'), /^Slot 4: CLN010L6$/m);
      await a.call('vtl.library.delete', { id: 10, confirm: 'vtl1' });
      assert.equal(existsSync(path.join(conf, 'library_contents.10')), false);
      assert.deepEqual((await a.call<{ items: unknown[] }>('vtl.library.list')).items, []);
    } finally {
      await a.stop();
      sys.cleanup();
    }
  });

  it('refuses what cannot be rendered, and answers unavailable where the mhvtl module is missing', async () => {
    const sys = tempDir();
    const a = await startTestAgent({
      runner: recordingRunner(),
      sysroot: sys.dir,
      services: [createVtlService()],
    });
    try {
      for (const bad of [{ name: 'a\nLibrary: 20' }, { barcodePrefix: 'A"B' }, { drives: [4] }, { id: 15 }]) {
        await assert.rejects(
          a.call('vtl.library.create', { ...NEW, ...bad, dryRun: true }),
          (e: RpcError) => {
            assert.equal(e.kind, 'invalid', JSON.stringify(bad));
            return true;
          },
        );
      }
      await assert.rejects(
        a.call('vtl.library.create', { ...NEW, tapes: 8, cleaningTapes: 1, dryRun: true }),
        /do not fit in 8 slots/,
      );
      // the plan works anywhere (the wizard shows it); the change needs the module
      const plan = await a.call<{ commands: string[][] }>('vtl.library.create', { ...NEW, dryRun: true });
      assert.equal(plan.commands.at(-1)![0], 'mktape', 'no restart planned where mhvtl is missing');
      await assert.rejects(a.call('vtl.library.create', NEW), (e: RpcError) => {
        assert.equal(e.kind, 'unavailable');
        assert.match(e.message, /sys\/module\/mhvtl/);
        return true;
      });
      const st = await a.call<{ available: boolean; reason: string }>('vtl.status');
      assert.equal(st.available, false);
    } finally {
      await a.stop();
      sys.cleanup();
    }
  });
});

describe('the same library on tgt’s changer emulation', () => {
  it('maps drives, picker, slots with barcodes and mailslots onto tgtadm/tgtimg argv', async () => {
    const { tgtLibraryPlan } = await import('../../agent/vtl/tgt-map.js');
    const plan = tgtLibraryPlan({ ...NEW, personality: 'IBM-03584L32' } as VtlLibrary, {
      dir: '/tmp/lab',
      control: 901,
      tid: 3,
      iqn: 'iqn.2026-12.test:vtl1',
      initiator: '127.0.0.1',
    });
    const adm = ['tgtadm', '-C', '901', '--lld', 'iscsi'];
    const lu = (lun: number, op: string, ...a: string[]) => [
      ...adm,
      '--mode',
      'logicalunit',
      '--op',
      op,
      '--tid',
      '3',
      '--lun',
      String(lun),
      ...a,
    ];
    const img = (b: string, t: string) => [
      'tgtimg',
      '--op',
      'new',
      '--device-type',
      'tape',
      '--barcode',
      b,
      '--size',
      '2000',
      '--type',
      t,
      '--file',
      `/tmp/lab/${b}`,
    ];
    assert.deepEqual(plan, [
      img('V00001L6', 'data'),
      img('V00002L6', 'data'),
      img('V00003L6', 'data'),
      img('CLN010L6', 'clean'),
      img('IDLE01', 'data'),
      img('IDLE02', 'data'),
      ['truncate', '-s', '1024', '/tmp/lab/smc'],
      [...adm, '--mode', 'target', '--op', 'new', '--tid', '3', '-T', 'iqn.2026-12.test:vtl1'],
      lu(1, 'new', '-b', '/tmp/lab/IDLE01', '--device-type=tape'),
      lu(1, 'update', '--params', 'online=0'),
      lu(2, 'new', '-b', '/tmp/lab/IDLE02', '--device-type=tape'),
      lu(2, 'update', '--params', 'online=0'),
      lu(3, 'new', '-b', '/tmp/lab/smc', '--device-type=changer'),
      lu(3, 'update', '--params', 'media_home=/tmp/lab'),
      lu(3, 'update', '--params', 'element_type=4,start_address=1,quantity=2'),
      lu(3, 'update', '--params', 'element_type=4,address=1,tid=3,lun=1'),
      lu(3, 'update', '--params', 'element_type=4,address=2,tid=3,lun=2'),
      lu(3, 'update', '--params', 'element_type=1,start_address=3,quantity=1'),
      lu(3, 'update', '--params', 'element_type=2,start_address=4,quantity=8'),
      lu(3, 'update', '--params', 'element_type=2,address=4,barcode=V00001L6,sides=1'),
      lu(3, 'update', '--params', 'element_type=2,address=5,barcode=V00002L6,sides=1'),
      lu(3, 'update', '--params', 'element_type=2,address=6,barcode=V00003L6,sides=1'),
      lu(3, 'update', '--params', 'element_type=2,address=7,barcode=CLN010L6,sides=1'),
      lu(3, 'update', '--params', 'element_type=3,start_address=12,quantity=2'),
      [...adm, '--mode', 'target', '--op', 'bind', '--tid', '3', '-I', '127.0.0.1'],
    ]);
  });
});
