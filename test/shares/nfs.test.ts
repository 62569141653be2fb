/**
 * NFS exports on the host, where no nfsd runs (the kernel's nfsd is tested in the lab:
 * test/lab/guest/shares-nfs.ts): the pure renderer (every option in exports(5) words), the pure check
 * (a directory outside the shares area, a character exports(5) would read as syntax, a client given
 * twice), and the agent refusing bad client specs and injection attempts with nothing written, planning
 * an NFS share as a dry run, and answering `unavailable` with what to install when exportfs is missing.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRunner } from '../../agent/runner.js';
import { SHARE_DEFAULTS, type Share } from '../../agent/shares/model.js';
import { checkExports, renderExports } from '../../agent/shares/render-nfs.js';
import { sharesSubsystem } from '../../agent/shares/service.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';

const ROOT = '/srv/calypso/shares';
const share = (name: string, o: Partial<Share> = {}): Share => ({
  name,
  path: `${ROOT}/${name}`,
  ...SHARE_DEFAULTS,
  protocols: ['nfs'],
  ...o,
});

describe('exports rendering (pure)', () => {
  it('every option in exports(5) words; SMB-only shares are not exported', () => {
    const text = renderExports({
      shares: [
        share('a', {
          nfsClients: [
            { host: '10.0.0.0/8', readOnly: false, squash: 'root', anonuid: 4242, anongid: 4343 },
            { host: '192.168.1.7', readOnly: true, squash: 'all', sec: ['krb5p', 'krb5i'], sync: false },
            { host: '*', readOnly: false, squash: 'none', sec: ['sys', 'krb5'] },
          ],
        }),
        share('ro', { readOnly: true, nfsClients: [{ host: 'fd00::/8', readOnly: false, squash: 'root' }] }),
        share('smbonly', {
          protocols: ['smb'],
          nfsClients: [{ host: '*', readOnly: false, squash: 'root' }],
        }),
      ],
    });
    const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.deepEqual(lines, [
      `${ROOT}/a 10.0.0.0/8(rw,sync,root_squash,anonuid=4242,anongid=4343,sec=sys,no_subtree_check)` +
        ' 192.168.1.7(ro,async,all_squash,sec=krb5p:krb5i,no_subtree_check)' +
        ' *(rw,sync,no_root_squash,sec=sys:krb5,no_subtree_check)',
      `${ROOT}/ro fd00::/8(ro,sync,root_squash,sec=sys,no_subtree_check)`,
    ]);
  });

  it('host names, wildcards and netgroups as clients: rendered as given, checked, a name twice in any case refused', () => {
    const c = { readOnly: false, squash: 'root' as const };
    const names = share('names', {
      nfsClients: [
        { ...c, host: 'backup-1.example.org' },
        { ...c, host: '*.example.org', readOnly: true },
        { ...c, host: 'web??.example.org' },
        { ...c, host: '@nfs-clients' },
      ],
    });
    assert.deepEqual(checkExports({ shares: [names] }, ROOT), []);
    const line = renderExports({ shares: [names] })
      .split('\n')
      .find((l) => l.startsWith(`${ROOT}/names `));
    assert.equal(
      line,
      `${ROOT}/names backup-1.example.org(rw,sync,root_squash,sec=sys,no_subtree_check)` +
        ' *.example.org(ro,sync,root_squash,sec=sys,no_subtree_check)' +
        ' web??.example.org(rw,sync,root_squash,sec=sys,no_subtree_check)' +
        ' @nfs-clients(rw,sync,root_squash,sec=sys,no_subtree_check)',
    );
    const twice = share('twice', {
      nfsClients: [
        { ...c, host: 'A.example.org' },
        { ...c, host: 'a.example.org' },
      ],
    });
    assert.match(checkExports({ shares: [twice] }, ROOT).join(), /a\.example\.org is given twice/);
    for (const host of ['@grp rw', 'x.example.org(rw)', '*.org\n/etc *', 'a..b', '10.0.0.256'])
      assert.match(
        checkExports({ shares: [share('bad', { nfsClients: [{ ...c, host }] })] }, ROOT).join(),
        /is not an address, a network, a host name/,
        host,
      );
  });

  it('the check refuses a directory outside the shares area, exports(5) syntax in a value, a client twice', () => {
    const c = { host: '10.0.0.1', readOnly: false, squash: 'root' as const };
    const problems = checkExports(
      {
        shares: [
          share('out', { path: '/etc', nfsClients: [c] }),
          share('up', { path: `${ROOT}/../../../etc`, nfsClients: [c] }),
          share('space', { path: `${ROOT}/a b`, nfsClients: [c] }),
          share('paren', { path: `${ROOT}/x(rw)`, nfsClients: [c] }),
          share('twice', { nfsClients: [c, { ...c, readOnly: true }] }),
          share('inject', { nfsClients: [{ ...c, host: '10.0.0.1(rw,no_root_squash)' }] }),
          share('anon', { nfsClients: [{ ...c, squash: 'none', anonuid: 5 }] }),
          share('ok', { nfsClients: [c] }),
        ],
      },
      ROOT,
    );
    const of = (n: string) => problems.filter((p) => p.startsWith(`share ${n}:`));
    assert.match(of('out').join(), /not a directory under the shares area/);
    assert.match(of('up').join(), /not a directory under the shares area/);
    assert.match(of('space').join(), /cannot hold unquoted/);
    assert.match(of('paren').join(), /cannot hold unquoted/);
    assert.match(of('twice').join(), /10\.0\.0\.1 is given twice/);
    assert.match(
      of('inject').join(),
      /is not an address, a network, a host name, a wildcard, a netgroup or \*/,
    );
    assert.match(of('anon').join(), /anonuid\/anongid need squash root or all/);
    assert.deepEqual(of('ok'), []);
    assert.throws(() =>
      renderExports({ shares: [share('inject', { nfsClients: [{ ...c, host: '1.2.3.4 *(rw)' }] })] }),
    );
  });
});

describe('NFS shares through the agent, without exportfs', () => {
  let t: TestAgent;
  let exportsFile: string;
  before(async () => {
    // a PATH with nothing on it: no exportfs (nor Samba), whatever the machine has installed
    t = await startTestAgent({ services: [sharesSubsystem], runner: createRunner({ path: '/nonexistent' }) });
    exportsFile = (await t.call<{ exportsFile: string }>('shares.status')).exportsFile;
  });
  after(() => t?.stop());

  const nothingWritten = async () => {
    assert.equal(existsSync(exportsFile), false, 'no exports file written');
    assert.equal((await t.call<{ total: number }>('shares.list')).total, 0, 'no share recorded');
  };

  it('the exports file is under the agent’s prefix unless calypso.yaml says where', () => {
    assert.equal(exportsFile, path.join(t.prefix, 'etc/exports.d/calypso.exports'));
  });

  const bad: [string, Record<string, unknown>][] = [
    ['a newline and a second export in a host', { host: '10.0.0.1\n/etc *(rw,no_root_squash)' }],
    ['options in a host', { host: '10.0.0.1(rw,no_root_squash)' }],
    ['a space in a host', { host: '10.0.0.1 *' }],
    ['an underscore in a host name', { host: 'client_1.example' }],
    ['a label that starts with a hyphen', { host: '-client.example' }],
    ['a comma and options after a netgroup', { host: '@staff,rw' }],
    ['a netgroup with a space', { host: '@staff *' }],
    ['a wildcard with parentheses', { host: '*.example(rw)' }],
    ['a wildcard without a domain', { host: 'web*' }],
    ['a host name over 253 characters', { host: `${'a'.repeat(60)}.`.repeat(5) + 'org' }],
    ['a prefix length over 32', { host: '10.0.0.0/33' }],
    ['an address out of range', { host: '10.0.0.256' }],
    ['an unknown sec flavour', { host: '*', sec: ['none'] }],
    ['an option that is not in the schema', { host: '*', options: 'no_root_squash' }],
    ['an anonuid out of range', { host: '*', anonuid: -1 }],
  ];
  for (const [what, client] of bad)
    it(`refused, nothing written: ${what}`, async () => {
      for (const dryRun of [true, false])
        await assert.rejects(
          t.call('shares.create', { name: 'x', protocols: ['nfs'], nfsClients: [client], dryRun }),
          (e: Error & { kind?: string }) => e.kind === 'invalid',
        );
      await nothingWritten();
    });

  it('refused in plain words, nothing written: NFS without a client, a client given twice', async () => {
    await assert.rejects(
      t.call('shares.create', { name: 'x', protocols: ['nfs'] }),
      /NFS needs at least one client/,
    );
    await assert.rejects(
      t.call('shares.create', {
        name: 'x',
        protocols: ['nfs'],
        nfsClients: [{ host: '10.0.0.1' }, { host: '10.0.0.1', readOnly: true }],
      }),
      /10\.0\.0\.1 is given twice/,
    );
    await nothingWritten();
  });

  it('a dry run shows the exports line and exportfs -ra; the real run answers unavailable naming the package', async () => {
    const spec = {
      name: 'media',
      protocols: ['nfs'],
      nfsClients: [{ host: '10.1.0.0/16', squash: 'all', anonuid: 1000, anongid: 1000, sec: ['krb5'] }],
    };
    const plan = await t.call<{
      commands: string[][];
      files: { path: string; diff: string }[];
      notes: string[];
    }>('shares.create', { ...spec, dryRun: true });
    const media = path.join(t.prefix, 'srv/calypso/shares/media');
    assert.deepEqual(plan.commands, [
      ['mkdir', '-p', '-m', '0775', '--', media],
      ['exportfs', '-ra'],
    ]);
    const diff = plan.files.find((f) => f.path === exportsFile)?.diff ?? '';
    assert.match(
      diff,
      new RegExp(
        `^\\+${media} 10\\.1\\.0\\.0/16\\(rw,sync,all_squash,anonuid=1000,anongid=1000,sec=krb5,no_subtree_check\\)$`,
        'm',
      ),
    );
    assert.ok(plan.notes.some((n) => /nfsd is not running/.test(n)));
    await assert.rejects(
      t.call('shares.create', spec),
      (e: Error & { kind?: string }) =>
        e.kind === 'unavailable' &&
        /exportfs.*not installed.*apt-get install nfs-kernel-server/.test(e.message),
    );
    await nothingWritten();
    assert.equal(existsSync(media), false, 'no directory made');
    const s = await t.call<{ nfs: boolean; nfsReason: string; nfsdRunning: boolean }>('shares.status');
    assert.equal(s.nfs, false);
    assert.match(s.nfsReason, /exportfs.*not installed.*nfs-kernel-server/);
  });

  it('drift counts the exports file: missing until the first change writes it', async () => {
    const d = await t.call<{ items: { what: string; detail: string }[] }>('shares.drift');
    assert.ok(d.items.some((i) => i.what === exportsFile && i.detail === 'missing'));
  });
});
