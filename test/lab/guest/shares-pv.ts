/**
 * In the lab guest: Previous Versions of a share on OpenZFS, through a real smbd and smbclient. zfs-fuse has no
 * `.zfs` control directory (test/shares/datasets.test.ts says so and checks the note); OpenZFS has one on every
 * file system, and the share's smb.conf section (`vfs objects = shadow_copy2`, `shadow:snapdir = .zfs/snapshot`,
 * `shadow:format = auto-%Y%m%d-%H%M`) makes a snapshot named by the snapshot policies' naming a previous version of
 * each file: `smbclient … -c 'allinfo file'` lists it as `@GMT-…`, and the file as it was is read through it. The
 * share's dataset has what the preflight sets on OpenZFS: acltype=posix(acl), xattr=sa, aclinherit=passthrough and
 * casesensitivity=insensitive (SMB only).
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestAgent } from '../../helpers/agent.js';
import { startDatasetAgent } from '../../shares/dataset-agent.js';
import { freePort, nssFiles, type SmbAccounts, type Smbd, startSmbd } from '../../shares/smb-lab.js';
import { assertInGuest, ok, sh } from './sh.js';

const POOL = 'labpv';
/** a snapshot named as the snapshot policies name theirs (UTC), and the token SMB clients see for it */
const SNAP = 'auto-20261206-1200';
const GMT = '@GMT-2026.12.06-12.00.00';

let t: TestAgent;
let acc: SmbAccounts;
let smbd: Smbd | undefined;
let smbPort = 0;

before(async () => {
  assertInGuest();
  await ok(['modprobe', 'zfs']);
  acc = nssFiles();
  smbPort = await freePort();
  t = await startDatasetAgent(POOL, smbPort, acc);
});

after(async () => {
  await smbd?.stop();
  await sh(['zpool', 'destroy', '-f', POOL]);
  await t?.stop();
  acc?.cleanup();
});

describe('Previous Versions on OpenZFS through smbd', () => {
  it('a snapshot of the share’s dataset is a previous version smbclient lists and reads', async () => {
    const created = await t.call<{ notes: string[] }>('shares.create', {
      name: 'pv',
      guest: true,
      readOnly: true,
      previousVersions: true,
    });
    const dir = path.join(t.prefix, 'srv/calypso/shares/pv');
    const dataset = `${POOL}/calypso/shares/pv`;
    assert.ok(!created.notes.some((n) => /no \.zfs\/snapshot/.test(n)), created.notes.join('\n'));
    // the preflight set what a share needs before it existed: OpenZFS has every property (zfs-fuse lacks two)
    assert.ok(!created.notes.some((n) => /lacks/.test(n)), created.notes.join('\n'));
    const props = await ok([
      'zfs',
      'get',
      '-H',
      '-o',
      'property,value',
      'acltype,xattr,aclinherit,casesensitivity',
      dataset,
    ]);
    assert.deepEqual(
      Object.fromEntries(
        props
          .trim()
          .split('\n')
          .map((l) => l.split('\t')),
      ),
      { acltype: 'posix', xattr: 'sa', aclinherit: 'passthrough', casesensitivity: 'insensitive' },
      props,
    );
    writeFileSync(path.join(dir, 'report.txt'), 'as it was at noon\n');
    chmodSync(path.join(dir, 'report.txt'), 0o644);
    await ok(['sync']);
    await t.call('snapshot.create', { dataset, name: SNAP });
    writeFileSync(path.join(dir, 'report.txt'), 'rewritten in the afternoon\n');

    // the agent sees .zfs/snapshot, as shadow_copy2 will
    assert.ok(existsSync(path.join(dir, '.zfs/snapshot', SNAP, 'report.txt')));
    const view = await t.call<{ previousVersionsAvailable: boolean }>('shares.get', { name: 'pv' });
    assert.equal(view.previousVersionsAvailable, true);
    const conf = (await t.call<{ smbConf: string }>('shares.status')).smbConf;
    assert.match(readFileSync(conf, 'utf8'), /shadow:snapdir = \.zfs\/snapshot/);

    chmodSync(t.prefix, 0o755);
    smbd = await startSmbd(conf, smbPort, acc);
    const info = await smbd.client('pv', undefined, 'allinfo report.txt');
    assert.equal(info.ok, true, info.out);
    assert.ok(info.out.includes(GMT), `allinfo lists the snapshot as ${GMT}:\n${info.out}`);

    // the file as it was, read through the previous version, and as it is now
    const then = path.join(acc.dir, 'then.txt');
    const now = path.join(acc.dir, 'now.txt');
    const got = await smbd.client('pv', undefined, `get ${GMT}/report.txt ${then}; get report.txt ${now}`);
    assert.equal(got.ok, true, got.out);
    assert.equal(readFileSync(then, 'utf8'), 'as it was at noon\n');
    assert.equal(readFileSync(now, 'utf8'), 'rewritten in the afternoon\n');
  });
});
