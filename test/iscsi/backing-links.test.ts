/**
 * LUN backing files never go through a link (issue #28 item 16), on a real tgtd: a symbolic
 * link planted in the iSCSI data area towards a root-only file is refused (not exported), a
 * dangling one is refused and nothing is created where it points, a data area that is itself a
 * link is refused; a new backing file is created sparse, mode 0600, and exported.
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tgtBackendFactory } from '../../agent/iscsi/backend-tgt.js';
import { iscsiSubsystem } from '../../agent/iscsi/service.js';
import { startTgtLab, type TgtLab } from '../../sandbox/tgt.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';

const IQN = 'iqn.2026-12.org.calypso:links';
const kindOf = (e: unknown) => (e as { data?: { kind?: string } }).data?.kind;

describe('iSCSI backing files and symbolic links (real tgtd)', { timeout: 120_000 }, () => {
  let lab: TgtLab;
  let t: TestAgent;
  let area: string;
  const shown = () => lab.tgtadm('--lld', 'iscsi', '--mode', 'target', '--op', 'show');

  before(async () => {
    lab = await startTgtLab();
    t = await startTestAgent({
      config: { iscsi: { backend: 'tgt', tgtControlPort: lab.control } },
      services: [iscsiSubsystem([tgtBackendFactory])],
    });
    area = t.deps.layout.data.iscsi;
    mkdirSync(area, { recursive: true });
    await t.call('iscsi.target.create', { iqn: IQN, portals: [{ address: '127.0.0.1', port: lab.port }] });
  });
  after(async () => {
    await t?.stop();
    await lab?.stop();
  });

  const create = (name: string) =>
    t.call('iscsi.lun.create', { target: IQN, backing: { kind: 'file', name, sizeBytes: 4 * 1024 * 1024 } });

  it('a link to a root-only file is refused and not exported', async () => {
    const secret = path.join(lab.dir, 'root-only');
    writeFileSync(secret, 'root only\n', { mode: 0o600 });
    symlinkSync(secret, path.join(area, 'evil.img'));
    for (const dryRun of [true, false])
      await assert.rejects(
        t.call('iscsi.lun.create', {
          target: IQN,
          backing: { kind: 'file', name: 'evil.img', sizeBytes: 4 * 1024 * 1024 },
          dryRun,
        }),
        (e: Error) => kindOf(e) === 'invalid' && /symbolic link/.test(e.message),
      );
    assert.doesNotMatch(shown(), /root-only|evil\.img/);
  });

  it('a dangling link is refused; nothing is created where it points', async () => {
    const where = path.join(lab.dir, 'created-by-root');
    symlinkSync(where, path.join(area, 'dangling.img'));
    await assert.rejects(create('dangling.img'), (e: Error) => kindOf(e) === 'invalid');
    assert.equal(existsSync(where), false);
  });

  it('a new backing file is created sparse, 0600, and exported', async () => {
    await create('good.img');
    const file = path.join(area, 'good.img');
    const st = lstatSync(file);
    assert.ok(st.isFile());
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.size, 4 * 1024 * 1024);
    assert.ok(statSync(file).blocks * 512 < st.size, 'sparse');
    assert.match(shown(), /good\.img/);
  });

  it('a data area that is itself a link is refused', async () => {
    const elsewhere = path.join(lab.dir, 'elsewhere');
    mkdirSync(elsewhere);
    renameSync(area, `${area}.real`);
    symlinkSync(elsewhere, area);
    try {
      await assert.rejects(
        create('other.img'),
        (e: Error) => kindOf(e) === 'invalid' && /not a directory/.test(e.message),
      );
      assert.equal(existsSync(path.join(elsewhere, 'other.img')), false);
    } finally {
      rmSync(area);
      renameSync(`${area}.real`, area);
    }
  });
});
