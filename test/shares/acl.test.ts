/**
 * POSIX ACLs and Samba's read and write lists in the access matrix. The parser on getfacl's
 * recorded output and the kernel's check on the cases that differ from a mode (a named user under
 * the mask, a group entry that matches but does not grant, so `other` is not consulted). Then a
 * real smbd (smb-lab.ts) on three shares whose directories get named-user and named-group ACL
 * entries and a restrictive mask with the real `setfacl` — plain directories on the test prefix's
 * file system (ext4 or tmpfs under /tmp: zfs-fuse has no acltype, docs/shares.md) — and a
 * read-only share with a write list and a read list (a user in both: the write list wins): the matrix is computed first and asserted, then every cell
 * is checked with the real smbclient (`ls` for read, `put` for write).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { aclPermits, parseGetfacl } from '../../agent/shares/acl.js';
import { sharesSubsystem } from '../../agent/shares/service.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { repoRoot } from '../helpers/paths.js';
import { freePort, nssFiles, type SmbAccounts, type Smbd, startSmbd } from './smb-lab.js';

const fixture = (name: string) =>
  readFileSync(path.join(repoRoot(), 'test/fixtures/getfacl/acl-2.3.1', name), 'utf8');

describe('getfacl -cpn and the kernel’s ACL check (pure)', () => {
  const acl = parseGetfacl(fixture('named-and-mask.txt'));
  const owner = { uid: 0, gid: 0 };

  it('parses access and default entries, numeric ids, and drops #effective', () => {
    assert.deepEqual(acl.access, [
      { tag: 'user', perms: 7 },
      { tag: 'user', id: 1001, perms: 7 },
      { tag: 'user', id: 1003, perms: 5 },
      { tag: 'group', perms: 5 },
      { tag: 'group', id: 1002, perms: 7 },
      { tag: 'mask', perms: 5 },
      { tag: 'other', perms: 0 },
    ]);
    assert.equal(acl.default.length, 5);
    assert.deepEqual(acl.default[1], { tag: 'user', id: 1001, perms: 7 });
    assert.deepEqual(parseGetfacl(fixture('mode-only.txt')).access, [
      { tag: 'user', perms: 7 },
      { tag: 'group', perms: 5 },
      { tag: 'other', perms: 0 },
    ]);
    assert.throws(() => parseGetfacl('user::rwx\nbogus\n'), /unexpected line/);
  });

  it('owner, named user under the mask, groups, other — as the kernel decides', () => {
    const can = (uid: number, gids: number[], want: number) =>
      aclPermits(acl.access, owner, { uid, gids }, want);
    assert.equal(can(0, [0], 7).ok, true, 'the owner: user:: rwx');
    const named = can(1001, [1001], 2);
    assert.equal(named.ok, false, 'user:1001 rwx, masked by r-x: no write');
    assert.equal(named.mask, 5);
    assert.equal(can(1001, [1001], 5).ok, true);
    assert.equal(can(1002, [1002], 2).ok, false, 'group:1002 rwx masked too');
    assert.equal(can(4000, [4000], 4).ok, false, 'other ---');
    // in a group that has an entry, none granting write: refused by that entry, other unread
    const g = aclPermits(
      [
        { tag: 'user', perms: 7 },
        { tag: 'group', perms: 4 },
        { tag: 'mask', perms: 7 },
        { tag: 'other', perms: 7 },
      ],
      owner,
      { uid: 4000, gids: [0] },
      2,
    );
    assert.equal(g.ok, false, 'a group entry matched: other (rwx) is not consulted');
    assert.equal(g.entry.tag, 'group');
  });
});

interface Cell {
  share: string;
  principal: string;
  access: 'none' | 'read' | 'write';
  why: string;
}

const PW: Record<string, string> = {
  alice: 'Alice-pw-1234',
  bob: 'Bob-pw-5678',
  carol: 'Carol-pw-9012',
  dave: 'Dave-pw-3456',
};

let acc: SmbAccounts;
let t: TestAgent;
let smbd: Smbd | undefined;

before(async () => {
  acc = nssFiles();
  const port = await freePort();
  t = await startTestAgent({
    services: [sharesSubsystem],
    config: {
      shares: {
        smbPort: port,
        smbInterfaces: ['127.0.0.1'],
        accounts: {
          backend: 'nss-wrapper',
          passwd: acc.passwd,
          group: acc.group,
          uidMin: 62000,
          uidMax: 62999,
        },
      },
    },
  });
  try {
    await t.call('shares.apply');
    const conf = (await t.call<{ smbConf: string }>('shares.status')).smbConf;
    smbd = await startSmbd(conf, port, acc);
  } catch (e) {
    await t.stop();
    acc.cleanup();
    throw e;
  }
});

after(async () => {
  await smbd?.stop();
  await t?.stop();
  acc?.cleanup();
});

describe('ACLs and write lists on a real smbd', { timeout: 240_000 }, () => {
  it('the matrix reads the ACLs and the lists, and every cell holds with the real smbclient', async () => {
    await t.call('shares.group.create', { name: 'staff' });
    for (const name of Object.keys(PW))
      await t.call('shares.user.create', {
        name,
        password: PW[name],
        ...(name === 'alice' ? { groups: ['staff'] } : {}),
      });
    const ids = Object.fromEntries(
      readFileSync(acc.passwd, 'utf8')
        .split('\n')
        .map((l) => l.split(':'))
        .map((f) => [f[0], f[2]]),
    ) as Record<string, string>;
    const staff = /^staff:x:(\d+):/m.exec(readFileSync(acc.group, 'utf8'))![1]!;
    await t.call('shares.create', { name: 'acl' });
    await t.call('shares.create', { name: 'masked' });
    await t.call('shares.create', {
      name: 'lists',
      readOnly: true,
      writeList: ['@staff', 'dave'],
      readList: ['bob', 'dave'],
    });
    const root = path.join(t.prefix, 'srv/calypso/shares');
    chmodSync(t.prefix, 0o755);
    for (const name of ['acl', 'masked']) {
      chownSync(path.join(root, name), 0, 0);
      chmodSync(path.join(root, name), 0o770);
    }
    chmodSync(path.join(root, 'lists'), 0o777);
    // numeric ids: the host's NSS does not know the test's nss_wrapper accounts
    const setfacl = (dir: string, ...args: string[]) =>
      execFileSync('setfacl', [...args, '--', path.join(root, dir)], { stdio: 'pipe' });
    // carol writes only by her entry, bob and staff read, dave is other (---)
    setfacl('acl', '-m', `u:${ids.carol}:rwx,u:${ids.bob}:r-x,g:${staff}:r-x,m::rwx`);
    setfacl('acl', '-d', '-m', `u:${ids.carol}:rwx,g:${staff}:r-x`);
    // carol and staff have rwx entries but the mask leaves r-x
    setfacl('masked', '-m', `u:${ids.carol}:rwx,g:${staff}:rwx,m::r-x`);

    const { cells } = await t.call<{ cells: Cell[] }>('shares.access', { users: Object.keys(PW) });
    const table = Object.fromEntries(cells.map((c) => [`${c.share}/${c.principal}`, c.access]));
    const why = Object.fromEntries(cells.map((c) => [`${c.share}/${c.principal}`, c.why]));
    assert.deepEqual(table, {
      'acl/alice': 'read',
      'acl/bob': 'read',
      'acl/carol': 'write',
      'acl/dave': 'none',
      'acl/guest': 'none',
      'masked/alice': 'read',
      'masked/bob': 'none',
      'masked/carol': 'read',
      'masked/dave': 'none',
      'masked/guest': 'none',
      'lists/alice': 'write',
      'lists/bob': 'read',
      'lists/carol': 'read',
      'lists/dave': 'write',
      'lists/guest': 'none',
    });
    assert.match(
      why['acl/carol']!,
      /^ACL user:carol:rwx \(carol\); new files inherit the default ACL: write/,
    );
    assert.match(why['acl/bob']!, /^ACL user:bob:r-x/);
    assert.match(why['acl/alice']!, /^ACL group:staff:r-x/);
    assert.match(why['acl/dave']!, /^ACL other::---/);
    assert.match(why['masked/carol']!, /^ACL user:carol:rwx masked by mask::r-x/);
    assert.match(why['masked/alice']!, /^ACL group:staff:rwx masked by mask::r-x/);
    assert.match(why['lists/alice']!, /^@staff is in the write list/);
    assert.match(why['lists/bob']!, /^bob is in the read list/);
    assert.match(why['lists/carol']!, /^the share is read-only/);
    // in both lists: Samba's write list wins (checked below with smbclient, as every cell)
    assert.match(why['lists/dave']!, /^dave is in the write list/);

    const src = path.join(acc.dir, 'probe.txt');
    writeFileSync(src, 'probe\n');
    for (const c of cells) {
      const user = c.principal === 'guest' ? undefined : { name: c.principal, password: PW[c.principal]! };
      const read = await smbd!.client(c.share, user, 'ls');
      const write = read.ok
        ? await smbd!.client(c.share, user, `put ${src} w-${c.principal}.txt`)
        : { ok: false, out: '' };
      const got = write.ok ? 'write' : read.ok ? 'read' : 'none';
      assert.equal(
        got,
        c.access,
        `${c.share} as ${c.principal}: matrix says ${c.access} (${c.why}); smbclient: ${read.out}${write.out}`,
      );
    }
  });
});
