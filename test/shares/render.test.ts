/**
 * The shares' pure parts against the real tools where there is one: every option rendered into
 * smb.conf passes Samba's own `testparm -s` with no complaint (Previous Versions included:
 * shadow_copy2 on .zfs/snapshot with the snapshot policies' default naming); the access matrix
 * on cases the smbd test does not reach (hosts allow, NFS squash, a directory above that cannot
 * be passed); and an agent without Samba answering `unavailable` with what to install, nothing
 * changed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { createRunner } from '../../agent/runner.js';
import { accessMatrix, hostMatches } from '../../agent/shares/access.js';
import {
  checkShares,
  domainNamesOf,
  domainUsersOf,
  ListMemberSchema,
  SHARE_DEFAULTS,
  type Share,
} from '../../agent/shares/model.js';
import { renderSmbConf } from '../../agent/shares/render-smb.js';
import { sharesSubsystem } from '../../agent/shares/service.js';
import { startTestAgent } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';

const tmp = tempDir('calypso-shares-render-');
after(() => tmp.cleanup());

const share = (name: string, o: Partial<Share> = {}): Share => ({
  name,
  path: `/srv/calypso/shares/${name}`,
  ...SHARE_DEFAULTS,
  ...o,
});

const dirs = Object.fromEntries(
  ['private', 'state', 'lock', 'cache', 'pid', 'ncalrpc', 'log'].map((d) => [d, path.join(tmp.dir, d)]),
) as never;

describe('smb.conf rendering', () => {
  it('every option passes testparm -s without a complaint, Previous Versions included', () => {
    const text = renderSmbConf(
      {
        shares: [
          share('all', {
            description: 'every option (set)',
            readOnly: true,
            browseable: false,
            validUsers: ['alice'],
            validGroups: ['staff'],
            readList: ['bob'],
            writeList: ['alice', '@staff'],
            hostsAllow: ['127.0.0.1', '10.0.0.0/8', 'fd00::/8'],
            previousVersions: true,
          }),
          share('guests', { guest: true }),
          share('nfsonly', {
            protocols: ['nfs'],
            nfsClients: [{ host: '*', readOnly: true, squash: 'all' }],
          }),
        ],
      },
      { port: 4450, interfaces: ['127.0.0.1'], workgroup: 'CALYPSO', guestAccount: 'nobody', dirs },
    );
    assert.match(text, /^\tvfs objects = shadow_copy2$/m);
    assert.match(text, /^\tshadow:snapdir = \.zfs\/snapshot$/m);
    assert.match(text, /^\tshadow:format = auto-%Y%m%d-%H%M$/m);
    assert.match(text, /^\tvalid users = alice @staff$/m);
    assert.match(text, /^\tread list = bob$/m);
    assert.match(text, /^\twrite list = alice @staff$/m);
    assert.doesNotMatch(text, /\[nfsonly\]/, 'an NFS-only share is not in smb.conf');
    const conf = path.join(tmp.dir, 'smb.conf');
    writeFileSync(conf, text);
    // testparm checks Samba's directories exist (the target's prepare makes them)
    for (const d of Object.values(dirs) as string[]) mkdirSync(d, { recursive: true });
    const r = spawnSync('testparm', ['-s', conf], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\[all\][^[]*read list = bob[^[]*write list = alice @staff/s);
    assert.match(r.stdout, /\[all\][^[]*shadow:format = auto-%Y%m%d-%H%M/s, 'testparm keeps shadow_copy2');
    assert.doesNotMatch(r.stderr, /Unknown parameter|Ignoring|ERROR/);
  });
});

describe('domain names in valid users and groups', () => {
  const ad = { realm: 'CALYPSO.TEST', workgroup: 'CALYPSO' };
  const dom = share('dom', { validUsers: ['CALYPSO\\bob'], validGroups: ['CALYPSO\\domain users'] });

  it('quoted when they hold a space; testparm keeps the line (smbclient in ad.test.ts shows smbd reads it)', () => {
    const text = renderSmbConf(
      { shares: [dom] },
      { port: 4450, interfaces: ['127.0.0.1'], workgroup: 'CALYPSO', guestAccount: 'nobody', dirs },
    );
    assert.match(text, /^\tvalid users = CALYPSO\\bob "@CALYPSO\\domain users"$/m);
    const conf = path.join(tmp.dir, 'smb-dom.conf');
    writeFileSync(conf, text);
    for (const d of Object.values(dirs) as string[]) mkdirSync(d, { recursive: true });
    const r = spawnSync('testparm', ['-s', '--parameter-name=valid users', '--section-name=dom', conf], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'CALYPSO\\bob "@CALYPSO\\domain users"');
  });

  it('refused without a domain, and for another domain than the one joined', () => {
    assert.deepEqual(checkShares({ shares: [dom] }), [
      'share dom: CALYPSO\\bob, CALYPSO\\domain users are domain names, but this machine is not a member of an Active Directory domain (join one first: shares.directory.ad.join)',
    ]);
    assert.deepEqual(checkShares({ shares: [dom], ad: ad as never }), []);
    assert.deepEqual(checkShares({ shares: [dom], ad: { ...ad, workgroup: 'OTHER' } as never }), [
      'share dom: CALYPSO\\bob is of domain CALYPSO, but this machine is a member of OTHER: write OTHER\\bob',
      'share dom: CALYPSO\\domain users is of domain CALYPSO, but this machine is a member of OTHER: write OTHER\\domain users',
    ]);
  });
});

describe('domain names in read and write lists', () => {
  const ad = { realm: 'CALYPSO.TEST', workgroup: 'CALYPSO' };
  const lists = share('lists', {
    readList: ['CALYPSO\\bob', 'alice'],
    writeList: ['@CALYPSO\\Domain Admins', '@staff'],
  });

  it('the schema takes DOMAIN\\user and @DOMAIN\\group; a quote, a comma or a line break stays out', () => {
    for (const ok of ['CALYPSO\\bob', '@CALYPSO\\Domain Admins', 'alice', '@staff'])
      assert.ok(Value.Check(ListMemberSchema, ok), ok);
    for (const bad of ['CALYPSO\\bob,eve', '@CALYPSO\\"x"', 'CALYPSO\\bob\n[x]', '@@staff', 'Alice', '@'])
      assert.ok(!Value.Check(ListMemberSchema, bad), JSON.stringify(bad));
  });

  it('quoted when they hold a space; testparm reads each list back whole', () => {
    const text = renderSmbConf(
      { shares: [lists], ad: ad as never },
      { port: 4450, interfaces: ['127.0.0.1'], workgroup: 'CALYPSO', guestAccount: 'nobody', dirs },
    );
    assert.match(text, /^\tread list = CALYPSO\\bob alice$/m);
    assert.match(text, /^\twrite list = "@CALYPSO\\Domain Admins" @staff$/m);
    const conf = path.join(tmp.dir, 'smb-lists.conf');
    writeFileSync(conf, text);
    for (const d of Object.values(dirs) as string[]) mkdirSync(d, { recursive: true });
    const param = (name: string) =>
      spawnSync('testparm', ['-s', `--parameter-name=${name}`, '--section-name=lists', conf], {
        encoding: 'utf8',
        timeout: 30_000,
      }).stdout.trim();
    assert.equal(param('write list'), '"@CALYPSO\\Domain Admins" @staff');
    assert.equal(param('read list'), 'CALYPSO\\bob alice');
  });

  it('refused without a domain and for another domain; a domain blocks leaving while a list names it', () => {
    assert.deepEqual(checkShares({ shares: [lists] }), [
      'share lists: CALYPSO\\bob, CALYPSO\\Domain Admins are domain names, but this machine is not a member of an Active Directory domain (join one first: shares.directory.ad.join)',
    ]);
    assert.deepEqual(checkShares({ shares: [lists], ad: ad as never }), []);
    assert.deepEqual(domainNamesOf(lists), ['CALYPSO\\bob', 'CALYPSO\\Domain Admins']);
    assert.deepEqual(domainUsersOf(lists), ['CALYPSO\\bob']);
  });

  it('the matrix compares a list’s domain names without case, as winbind answers them', () => {
    const db = {
      users: [
        { name: 'CALYPSO\\administrator', uid: 20500, gid: 20513, home: '/', shell: '/bin/sh' },
        { name: 'calypso\\bob', uid: 20501, gid: 20513, home: '/', shell: '/bin/sh' },
      ],
      groups: [
        { name: 'CALYPSO\\domain users', gid: 20513, members: [] },
        { name: 'CALYPSO\\domain admins', gid: 20512, members: ['CALYPSO\\administrator'] },
      ],
    };
    const s = share('lists', {
      readOnly: true,
      readList: ['CALYPSO\\BOB'],
      writeList: ['@CALYPSO\\Domain Admins'],
    });
    const w = { ...s, readOnly: false };
    const dir = { uid: 0, gid: 20513, mode: 0o777, ancestors: [] };
    const cells = accessMatrix({
      shares: [s, { ...w, name: 'w' }],
      db,
      paths: new Map([[s.path, dir]]),
      principals: [
        { kind: 'user', name: 'CALYPSO\\administrator' },
        { kind: 'user', name: 'calypso\\bob' },
      ],
      hosts: [],
      guestAccount: 'nobody',
    });
    const t = Object.fromEntries(cells.map((c) => [`${c.share} ${c.principal}`, c]));
    assert.equal(t['lists CALYPSO\\administrator']?.access, 'write', JSON.stringify(t));
    assert.match(
      t['lists CALYPSO\\administrator']?.why ?? '',
      /@CALYPSO\\Domain Admins is in the write list/,
    );
    assert.equal(t['w calypso\\bob']?.access, 'read', 'the read list holds bob in other letters');
    assert.match(t['w calypso\\bob']?.why ?? '', /CALYPSO\\BOB is in the read list/);
  });
});

describe('the access matrix (pure)', () => {
  const db = {
    users: [
      { name: 'root', uid: 0, gid: 0, home: '/', shell: '/bin/sh' },
      { name: 'alice', uid: 1001, gid: 1001, home: '/', shell: '/bin/sh' },
      { name: 'nobody', uid: 65534, gid: 65534, home: '/', shell: '/bin/sh' },
    ],
    groups: [
      { name: 'alice', gid: 1001, members: [] },
      { name: 'staff', gid: 1100, members: ['alice'] },
    ],
  };
  const open = { uid: 0, gid: 1100, mode: 0o775, ancestors: [{ path: '/srv', uid: 0, gid: 0, mode: 0o755 }] };

  it('hosts allow, networks and squash', () => {
    assert.equal(hostMatches('10.0.0.0/8', '10.1.2.3'), true);
    assert.equal(hostMatches('10.0.0.0/8', '11.1.2.3'), false);
    assert.equal(hostMatches('192.168.1.7', '192.168.1.7'), true);
    const s = share('x', {
      protocols: ['smb', 'nfs'],
      hostsAllow: ['10.0.0.0/8'],
      nfsClients: [
        { host: '10.0.0.5', readOnly: false, squash: 'root' },
        { host: '10.0.0.0/8', readOnly: true, squash: 'all' },
      ],
    });
    const cells = accessMatrix({
      shares: [s],
      db,
      paths: new Map([[s.path, open]]),
      principals: [
        { kind: 'user', name: 'alice' },
        { kind: 'user', name: 'root' },
        { kind: 'group', name: 'staff' },
      ],
      hosts: ['10.0.0.5', '10.9.9.9', '192.168.0.1'],
      guestAccount: 'nobody',
    });
    const t = Object.fromEntries(cells.map((c) => [`${c.protocol} ${c.host} ${c.principal}`, c.access]));
    assert.equal(t['smb 10.0.0.5 alice'], 'write', 'alice is in staff, the group owning the directory');
    assert.equal(t['smb 192.168.0.1 alice'], 'none', 'not in hosts allow');
    assert.equal(t['smb 10.0.0.5 @staff'], 'write');
    assert.equal(t['nfs 10.0.0.5 alice'], 'write');
    assert.equal(t['nfs 10.0.0.5 root'], 'read', 'root squashed to nobody: other bits r-x');
    assert.equal(t['nfs 10.9.9.9 alice'], 'read', 'read-only client, all squashed');
    assert.equal(t['nfs 192.168.0.1 alice'], 'none', 'not a client');
  });

  it('NFS clients by name: exact names before networks before wildcards before netgroups before *', () => {
    const s = share('n', {
      protocols: ['nfs'],
      nfsClients: [
        { host: '*.example.org', readOnly: false, squash: 'none' },
        { host: 'backup.example.org', readOnly: true, squash: 'none' },
        { host: '10.0.0.0/8', readOnly: false, squash: 'none' },
        { host: '@ops', readOnly: false, squash: 'none' },
        { host: '*', readOnly: true, squash: 'all' },
      ],
    });
    const cells = accessMatrix({
      shares: [s],
      db,
      paths: new Map([[s.path, open]]),
      principals: [{ kind: 'user', name: 'alice' }],
      hosts: ['Web1.Example.org', 'backup.example.org', 'x.other.net', '10.1.1.1', '192.168.0.9'],
      guestAccount: 'nobody',
    });
    const t = Object.fromEntries(cells.map((c) => [c.host, c]));
    assert.equal(t['Web1.Example.org']!.access, 'write', 'the wildcard, case aside');
    assert.equal(t['backup.example.org']!.access, 'read', 'its own entry wins over the wildcard before it');
    assert.equal(t['10.1.1.1']!.access, 'write', 'the network');
    assert.doesNotMatch(t['10.1.1.1']!.why, /netgroup/, 'a network ranks before a netgroup');
    assert.equal(t['x.other.net']!.access, 'read', '*: read-only, all squashed');
    assert.match(
      t['x.other.net']!.why,
      /unknown unless resolved: @ops is a netgroup, not looked up — if x\.other\.net is in it: write/,
    );
    assert.match(t['192.168.0.9']!.why, /@ops is a netgroup/);
  });

  it('a directory above the share that cannot be passed makes it none', () => {
    const s = share('y');
    const cells = accessMatrix({
      shares: [s],
      db,
      paths: new Map([[s.path, { ...open, ancestors: [{ path: '/srv', uid: 0, gid: 0, mode: 0o700 }] }]]),
      principals: [{ kind: 'user', name: 'alice' }],
      hosts: [],
      guestAccount: 'nobody',
    });
    assert.equal(cells[0]!.access, 'none');
    assert.match(cells[0]!.why, /cannot pass \/srv/);
  });
});

describe('without Samba', () => {
  it('every change answers unavailable with what to install; nothing is written', async () => {
    const t = await startTestAgent({
      services: [sharesSubsystem],
      runner: createRunner({ path: '/nonexistent' }),
    });
    try {
      await assert.rejects(
        t.call('shares.create', { name: 'x' }),
        (e: Error & { kind?: string }) => e.kind === 'unavailable' && /apt-get install samba/.test(e.message),
      );
      const s = await t.call<{ samba: boolean; reason: string; smbConf: string; shares: number }>(
        'shares.status',
      );
      assert.equal(s.samba, false);
      assert.match(s.reason, /smbd.*not installed/);
      assert.equal(s.shares, 0);
      assert.equal(existsSync(s.smbConf), false, 'no smb.conf written');
      assert.equal(existsSync(path.join(t.prefix, 'srv/calypso/shares/x')), false, 'no directory made');
    } finally {
      await t.stop();
    }
  });
});
