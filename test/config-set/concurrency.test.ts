/**
 * Concurrent changes never lose each other (issue #25): every change reads the desired state
 * inside the managed-config pipeline's lock (`ManagedConfig.update`), and every subsystem's
 * secrets go through the one serialised store. Each test fires its calls at the same moment
 * and then checks all three places a change lands: the state in LMDB, the rendered file and
 * the running daemon (or, for mhvtl, which cannot run here, the commands the recording runner
 * saw) — plus secrets.env read back from disk.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { notifySubsystem } from '../../agent/alerts/notify.js';
import { alertsSubsystem } from '../../agent/alerts/service.js';
import { baculaPaths } from '../../agent/backup/paths.js';
import { clientKey } from '../../agent/backup/secrets.js';
import { createBackupService } from '../../agent/backup/service.js';
import { loadSecrets } from '../../agent/config.js';
import { tgtBackendFactory } from '../../agent/iscsi/backend-tgt.js';
import { chapSecretKey, type IscsiState } from '../../agent/iscsi/model.js';
import { iscsiSubsystem } from '../../agent/iscsi/service.js';
import type { VtlState } from '../../agent/vtl/model.js';
import { createVtlService } from '../../agent/vtl/service.js';
import { startTgtLab, type TgtLab } from '../../sandbox/tgt.js';
import { freePorts } from '../backup/lab.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { fakeRunner } from '../helpers/fake-runner.js';
import { tempDir } from '../helpers/paths.js';

const N = 20;
const IQN = 'iqn.2026-12.org.calypso:concurrent';
const onDisk = (t: TestAgent) => loadSecrets(t.deps.layout.secretsFile);

describe('20 concurrent iscsi.lun.create on one target (real tgtd)', { timeout: 240_000 }, () => {
  let lab: TgtLab;
  let t: TestAgent;
  before(async () => {
    lab = await startTgtLab();
    t = await startTestAgent({
      config: { iscsi: { backend: 'tgt', tgtControlPort: lab.control } },
      services: [iscsiSubsystem([tgtBackendFactory])],
    });
    await t.call('iscsi.target.create', { iqn: IQN, portals: [{ address: '127.0.0.1', port: lab.port }] });
  });
  after(async () => {
    await t?.stop();
    await lab?.stop();
  });

  it('every LUN is in the state, in targets.conf and in the running tgtd', async () => {
    const names = Array.from({ length: N }, (_, i) => `c${i}.img`);
    await Promise.all(
      names.map((name) =>
        t.call('iscsi.lun.create', { target: IQN, backing: { kind: 'file', name, sizeBytes: 1 << 20 } }),
      ),
    );
    const state = t.deps.configSet.get('iscsi')!.state() as IscsiState;
    const luns = state.targets[0]!.luns;
    assert.equal(luns.length, N, 'the state has every LUN');
    assert.deepEqual(
      luns.map((l) => (l.backing.kind === 'file' ? l.backing.name : '')).sort(),
      [...names].sort(),
    );
    assert.deepEqual(
      luns.map((l) => l.lun),
      Array.from({ length: N }, (_, i) => i + 1),
      'each got its own number',
    );
    const conf = readFileSync(path.join(t.deps.layout.generated('tgt'), 'targets.conf'), 'utf8');
    for (const n of names) assert.ok(conf.includes(n), `targets.conf has ${n}`);
    const show = lab.tgtadm('--lld', 'iscsi', '--mode', 'target', '--op', 'show');
    const running = [...show.matchAll(/^\s*LUN: (\d+)$/gm)].map((m) => Number(m[1])).filter((n) => n > 0);
    assert.equal(running.length, N, 'tgtd runs every LUN');
    for (const n of names) assert.ok(show.includes(n), `tgtd backs a LUN with ${n}`);
  });
});

describe('concurrent vtl.library.create (mhvtl on a recorded sysroot)', () => {
  it('every library and its cartridges are in the state, the files and the mktape runs', async () => {
    const sys = tempDir();
    mkdirSync(path.join(sys.dir, 'sys', 'module', 'mhvtl'), { recursive: true });
    const runner = fakeRunner(() => '', { which: (n) => `/usr/bin/${n}` });
    const t = await startTestAgent({ runner, sysroot: sys.dir, services: [createVtlService()] });
    try {
      // mhvtl numbers libraries 10 … 90: nine is all it can have
      const ids = [10, 20, 30, 40, 50, 60, 70, 80, 90];
      await Promise.all(
        ids.map((id) =>
          t.call('vtl.library.create', {
            id,
            name: `lib${id}`,
            personality: 'IBM-03584L32',
            drives: [6],
            slots: 8,
            mailslots: 1,
            barcodePrefix: `V${id / 10}`,
            tapes: 3,
            cleaningTapes: 1,
            capacityMB: 100,
            compression: 0,
          }),
        ),
      );
      const state = t.deps.configSet.get('mhvtl')!.state() as VtlState;
      assert.deepEqual(state.libraries.map((l) => l.id).sort(), ids, 'the state has every library');
      const conf = t.deps.layout.generated('mhvtl');
      const device = readFileSync(path.join(conf, 'device.conf'), 'utf8');
      for (const id of ids) {
        assert.match(device, new RegExp(`^Library: ${id} `, 'm'), `device.conf has library ${id}`);
        const lc = readFileSync(path.join(conf, `library_contents.${id}`), 'utf8');
        for (const n of [1, 2, 3]) {
          const barcode = `V${id / 10}${String(n).padStart(4, '0')}L6`;
          assert.match(lc, new RegExp(`^Slot ${n}: ${barcode}$`, 'm'));
          assert.ok(
            runner.calls.some((c) => c[0] === 'mktape' && c.includes(barcode)),
            `mktape made ${barcode}`,
          );
        }
      }
    } finally {
      await t.stop();
      sys.cleanup();
    }
  });
});

describe('20 concurrent backup.client.set and notification secrets (real Bacula test mode)', () => {
  let t: TestAgent;
  before(async () => {
    t = await startTestAgent({ services: [createBackupService(), alertsSubsystem, notifySubsystem] });
    const [dir, fd, sd] = await freePorts(3);
    await t.call('backup.settings.set', { dirPort: dir, fdPort: fd, sdPort: sd });
  });
  after(async () => {
    await t?.stop();
  });

  it('every client is in the state, clients.conf and secrets.env, beside every webhook secret', async () => {
    const clients = Array.from({ length: N }, (_, i) => `host-${i}`);
    const hooks = Array.from({ length: N }, (_, i) => `hook${i}`);
    await Promise.all([
      ...clients.map((name, i) =>
        t.call('backup.client.set', {
          name,
          address: `192.0.2.${i + 1}`,
          password: `client-${i}-password-x`,
        }),
      ),
      ...hooks.map((id, i) =>
        t.call('notify.target.set', {
          target: { id, kind: 'webhook', webhook: { url: `https://hooks.example/${id}` } },
          secret: `hook-${i}-secret`,
        }),
      ),
    ]);
    const state = t.deps.configSet.get('bacula')!.state() as { clients: { name: string }[] };
    for (const c of clients)
      assert.ok(
        state.clients.some((x) => x.name === c),
        `state has ${c}`,
      );
    const conf = readFileSync(path.join(baculaPaths(t.deps.layout).confDir, 'dir.d', 'clients.conf'), 'utf8');
    const env = onDisk(t);
    clients.forEach((c, i) => {
      assert.ok(conf.includes(`Name = "${c}"`) || conf.includes(`Name = ${c}`), `clients.conf has ${c}`);
      assert.ok(conf.includes(`client-${i}-password-x`), `clients.conf has ${c}'s password`);
      assert.equal(env.get(clientKey(c)), `client-${i}-password-x`, `secrets.env has ${c}'s password`);
    });
    const hookSecrets = [...env.entries()].filter(([, v]) => /^hook-\d+-secret$/.test(v));
    assert.equal(hookSecrets.length, N, 'secrets.env has every webhook secret');
  });
});

describe('secrets written at the same moment by two subsystems both survive', { timeout: 240_000 }, () => {
  let lab: TgtLab;
  let t: TestAgent;
  before(async () => {
    lab = await startTgtLab();
    t = await startTestAgent({
      config: { iscsi: { backend: 'tgt', tgtControlPort: lab.control } },
      services: [iscsiSubsystem([tgtBackendFactory]), createBackupService()],
    });
    const [dir, fd, sd] = await freePorts(3);
    await t.call('backup.settings.set', { dirPort: dir, fdPort: fd, sdPort: sd });
  });
  after(async () => {
    await t?.stop();
    await lab?.stop();
  });

  it('CHAP secrets of new targets and Bacula client passwords, all in secrets.env', async () => {
    const K = 10;
    await Promise.all([
      ...Array.from({ length: K }, (_, i) =>
        t.call('iscsi.target.create', {
          iqn: `${IQN}-${i}`,
          portals: [{ address: '127.0.0.1', port: lab.port }],
          chap: { user: `u${i}`, secret: `Chap-secret-${String(i).padStart(2, '0')}` },
        }),
      ),
      ...Array.from({ length: K }, (_, i) =>
        t.call('backup.client.set', {
          name: `db-${i}`,
          address: `192.0.2.${i + 1}`,
          password: `bacula-pw-${i}-xyz`,
        }),
      ),
    ]);
    const env = onDisk(t);
    const state = t.deps.configSet.get('iscsi')!.state() as IscsiState;
    for (let i = 0; i < K; i++) {
      const tgt = state.targets.find((x) => x.iqn === `${IQN}-${i}`);
      assert.ok(tgt, `target ${i} in the state`);
      assert.equal(env.get(chapSecretKey(tgt.tid)), `Chap-secret-${String(i).padStart(2, '0')}`, `CHAP ${i}`);
      assert.equal(env.get(clientKey(`db-${i}`)), `bacula-pw-${i}-xyz`, `Bacula password ${i}`);
    }
    const show = lab.tgtadm('--lld', 'iscsi', '--mode', 'target', '--op', 'show');
    for (let i = 0; i < K; i++) assert.ok(show.includes(`${IQN}-${i}`), `tgtd runs target ${i}`);
  });
});
