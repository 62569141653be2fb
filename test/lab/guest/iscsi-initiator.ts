/**
 * In the lab guest: the Linux kernel's iSCSI initiator (open-iscsi) against a tgtd that the agent configures.
 * Discovery lists the target; with CHAP set by the agent a login with the wrong secret is refused and the right
 * one gives a /dev/sdX; blocks written through /dev/sdX are in the LUN's backing file; logout removes the disk.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tgtBackendFactory } from '../../../agent/iscsi/backend-tgt.js';
import { iscsiSubsystem } from '../../../agent/iscsi/service.js';
import { startTgtLab, type TgtLab } from '../../../sandbox/tgt.js';
import { startTestAgent, type TestAgent } from '../../helpers/agent.js';
import { sessionLuns } from './scsi-sysfs.js';
import { assertInGuest, labLib, ok, sh, waitFor } from './sh.js';

const IQN = 'iqn.2026-12.org.calypso:lab-initiator';
const SECRET = 'Right-secret.12';
const SIZE = 16 * 1024 * 1024;

let lab: TgtLab;
let t: TestAgent;

const node = (...args: string[]) => ['iscsiadm', '-m', 'node', '-T', IQN, '-p', lab.portal, ...args];

const sessionDisk = () => sessionLuns(IQN).find((l) => l.block)?.block;

before(async () => {
  assertInGuest();
  lab = await startTgtLab();
  t = await startTestAgent({
    config: { iscsi: { backend: 'tgt', tgtControlPort: lab.control } },
    services: [iscsiSubsystem([tgtBackendFactory])],
  });
  await labLib('lab_iscsid');
});
after(async () => {
  await sh(node('--logout'));
  await t?.stop();
  await lab?.stop();
});

describe('the kernel initiator against tgtd configured by the agent', () => {
  it('discovery lists the agent’s target on its portal', async () => {
    await t.call('iscsi.target.create', { iqn: IQN, portals: [{ address: '127.0.0.1', port: lab.port }] });
    await t.call('iscsi.lun.create', {
      target: IQN,
      backing: { kind: 'file', name: 'lun1.img', sizeBytes: SIZE },
    });
    await t.call('iscsi.target.chap.set', { iqn: IQN, user: 'labuser', secret: SECRET });
    const out = await ok(['iscsiadm', '-m', 'discovery', '-t', 'st', '-p', lab.portal]);
    assert.match(out, new RegExp(`${lab.portal.replaceAll('.', '\\.')},\\d+ ${IQN}`));
  });

  it('CHAP: the wrong secret is refused (no disk), the right one logs in and /dev/sdX appears', async () => {
    await ok(node('--op', 'update', '-n', 'node.session.auth.authmethod', '-v', 'CHAP'));
    await ok(node('--op', 'update', '-n', 'node.session.auth.username', '-v', 'labuser'));
    await ok(node('--op', 'update', '-n', 'node.session.auth.password', '-v', 'Wrong-secret.12'));
    const wrong = await sh(node('--login'));
    assert.notEqual(wrong.code, 0, 'a wrong CHAP secret must not log in');
    assert.match(wrong.stderr, /authoriz|authenticat/i);
    assert.equal(sessionDisk(), undefined);
    await ok(node('--op', 'update', '-n', 'node.session.auth.password', '-v', SECRET));
    await ok(node('--login'));
    let disk: string | undefined;
    for (let i = 0; i < 100 && !disk; i++) {
      disk = sessionDisk();
      if (!disk) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(disk, 'the LUN is attached as a SCSI disk');
    await waitFor(disk);
    const size = Number(await ok(['blockdev', '--getsize64', disk]));
    assert.equal(size, SIZE);
    const model = readFileSync(`/sys/block/${path.basename(disk)}/device/vendor`, 'utf8').trim();
    assert.equal(model, 'CALYPSO', 'the agent’s vendor id');
  });

  it('blocks written through /dev/sdX are in the backing file', async () => {
    const disk = sessionDisk()!;
    const data = randomBytes(64 * 1024);
    const src = path.join(lab.dir, 'in.bin');
    writeFileSync(src, data);
    await ok(['dd', `if=${src}`, `of=${disk}`, 'bs=64k', 'seek=5', 'oflag=direct', 'conv=fsync']);
    const fd = openSync(path.join(t.deps.layout.data.iscsi, 'lun1.img'), 'r');
    const onDisk = Buffer.alloc(data.length);
    readSync(fd, onDisk, 0, data.length, 5 * 64 * 1024);
    closeSync(fd);
    assert.ok(onDisk.equals(data), 'the backing file holds the blocks at offset 320 KiB');
  });

  it('logout detaches the disk', async () => {
    await ok(node('--logout'));
    assert.equal(sessionDisk(), undefined);
  });
});
