/**
 * In the lab guest: the kernel's nfsd (for the shares subsystem). A tmpfs directory (overlayfs, the guest's /, is
 * not NFS-exportable) exported to 127.0.0.1, mounted back with NFS v4.2: a write through the mount is in the
 * exported directory and a file made there reads through the mount.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { assertInGuest, labLib, ok, sh } from './sh.js';

const EXP = '/srv/lab-nfs';
const MNT = '/mnt/lab-nfs';

before(async () => {
  assertInGuest();
  mkdirSync(EXP, { recursive: true });
  mkdirSync(MNT, { recursive: true });
  await ok(['mount', '-t', 'tmpfs', 'tmpfs', EXP]);
  writeFileSync('/etc/exports', `${EXP} 127.0.0.1(rw,no_root_squash,no_subtree_check,fsid=0)\n`);
  await labLib('lab_nfsd');
});
after(async () => {
  await sh(['umount', MNT]);
  await sh(['rpc.nfsd', '0']);
  await sh(['umount', EXP]);
});

describe('nfsd in the guest', () => {
  it('exports a tmpfs directory and mounts it back over NFS v4.2', async () => {
    assert.match(await ok(['exportfs', '-v']), new RegExp(`${EXP}\\s+127\\.0\\.0\\.1`));
    writeFileSync(`${EXP}/from-server`, 'server side\n');
    await ok(['mount', '-t', 'nfs4', '-o', 'vers=4.2,retry=0', '127.0.0.1:/', MNT], 90_000);
    const m = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .find((l) => l.includes(` ${MNT} `));
    assert.match(m ?? '', /\snfs4\s.*vers=4\.2/);
    assert.equal(readFileSync(`${MNT}/from-server`, 'utf8'), 'server side\n');
    writeFileSync(`${MNT}/from-client`, 'client side\n');
    await ok(['sync']);
    assert.equal(readFileSync(`${EXP}/from-client`, 'utf8'), 'client side\n');
  });
});
