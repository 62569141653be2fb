/**
 * The pure parts of the Active Directory join: the readers of `net ads` / `kinit` / `klist -k`
 * output on recordings of the real tools (test/fixtures/net-ads/samba-4.17: a Samba 4.17 member
 * against the Samba AD DC of sandbox/samba-dc.ts, and the refusal paths with no DC reachable),
 * the idmap range check, and the rendered [global] lines (testparm accepts them).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  adPathsOf,
  idmapOverlaps,
  idmapRangesOf,
  loginDefsRange,
  renderKrb5Conf,
} from '../../agent/shares/directory-ad-model.js';
import {
  keytabPrincipals,
  kinitProblem,
  netAdsProblem,
  serverTimeOf,
  testjoinOf,
} from '../../agent/shares/directory-ad-parse.js';
import { joinPlan } from '../../agent/shares/directory-ad-steps.js';
import {
  isDomainName,
  parseWbGroup,
  parseWbList,
  parseWbUser,
} from '../../agent/shares/directory-ad-users.js';
import { renderSmbConf } from '../../agent/shares/render-smb.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

/** A recording: the tool's stdout and stderr as it wrote them, then `[exit N]` (the recorder's line). */
const raw = (name: string) =>
  readFileSync(path.join(repoRoot(), 'test/fixtures/net-ads/samba-4.17', `${name}.txt`), 'utf8');
const rec = (name: string) => raw(name).replace(/^\[exit \d+\]\n?/m, '');
const exitOf = (name: string) => Number(/\[exit (\d+)\]/.exec(raw(name))?.[1]);

const AD = { realm: 'CALYPSO.TEST', workgroup: 'CALYPSO', netbiosName: 'CALYPSO-M1' };
const DIRS = {
  private: '/p/private',
  state: '/p/state',
  lock: '/p/lock',
  cache: '/p/cache',
  pid: '/p/run',
  ncalrpc: '/p/ncalrpc',
  log: '/p/log',
};
const globals = { port: 445, interfaces: [], workgroup: 'WORKGROUP', guestAccount: 'nobody', dirs: DIRS };

describe('net ads and kinit, read from recordings of the real tools', () => {
  it('reads the DC’s time from net ads info', () => {
    assert.equal(serverTimeOf(rec('info-ok')), Date.parse('2026-12-06T18:29:12Z'));
    assert.equal(serverTimeOf(rec('info-no-dc')), undefined);
    assert.match(netAdsProblem(rec('info-no-dc')), /Didn't find the ldap server!/);
  });

  it('tells a join that holds from one whose account was deleted, and from no DC at all', () => {
    assert.deepEqual(testjoinOf(rec('testjoin-ok'), exitOf('testjoin-ok')), {
      joined: true,
      detail: 'Join is OK',
    });
    const gone = testjoinOf(rec('testjoin-account-deleted'), exitOf('testjoin-account-deleted'));
    assert.equal(gone.joined, false);
    assert.match(gone.detail, /^the domain no longer knows this machine’s account/);
    const noDc = testjoinOf(rec('testjoin-no-dc'), exitOf('testjoin-no-dc'));
    assert.equal(noDc.joined, false);
    assert.match(noDc.detail, /No logon servers are currently available/);
  });

  it('names the credentials problem kinit reports', () => {
    assert.equal(
      kinitProblem(rec('kinit-wrong-password'), 'Administrator', 'CALYPSO.TEST'),
      'the password of Administrator is wrong',
    );
    assert.equal(
      kinitProblem(rec('kinit-unknown-user'), 'nobody-here', 'CALYPSO.TEST'),
      'nobody-here is not an account of CALYPSO.TEST',
    );
    assert.match(
      kinitProblem(rec('kinit-no-kdc'), 'Administrator', 'NOWHERE.TEST'),
      /^no Kerberos server \(KDC\) of NOWHERE.TEST is reachable/,
    );
  });

  it('names the net ads join refusals', () => {
    assert.equal(
      netAdsProblem(rec('join-wrong-password')),
      'the domain controller refused the user name or password',
    );
    assert.match(netAdsProblem(rec('join-no-dc')), /^no domain controller was found: Failed to join domain/);
  });

  it('lists the keytab’s principals', () => {
    const p = keytabPrincipals(rec('klist-k'));
    assert.ok(p.includes('host/CALYPSO-M1@CALYPSO.TEST'));
    assert.ok(p.includes('CALYPSO-M1$@CALYPSO.TEST'));
    assert.equal(p.length, 15);
  });
});

describe('idmap ranges', () => {
  const local = [
    { what: 'system accounts', min: 0, max: 999 },
    { what: 'shares’ local users', min: 20_000, max: 29_999 },
  ];

  it('reads the ranges of the rendered smb.conf; the defaults overlap nothing', () => {
    const conf = renderSmbConf({ shares: [], ad: AD }, globals);
    const r = idmapRangesOf(conf);
    assert.deepEqual(r, [
      { what: 'idmap *', min: 70_000, max: 99_999 },
      { what: 'idmap CALYPSO', min: 100_000, max: 999_999 },
    ]);
    assert.deepEqual(idmapOverlaps(r, local), []);
  });

  it('names each overlap: with a local range, between the two idmap ranges, and an empty range', () => {
    const conf = renderSmbConf(
      {
        shares: [],
        ad: {
          ...AD,
          idmapDefault: { min: 25_000, max: 120_000 },
          idmapDomain: { min: 200_000, max: 100_000 },
        },
      },
      globals,
    );
    assert.deepEqual(idmapOverlaps(idmapRangesOf(conf), local), [
      'idmap CALYPSO (200000–100000) is empty: its start is after its end',
      'idmap * (25000–120000) overlaps shares’ local users (20000–29999)',
    ]);
    const both = renderSmbConf(
      { shares: [], ad: { ...AD, idmapDefault: { min: 70_000, max: 150_000 } } },
      globals,
    );
    assert.deepEqual(idmapOverlaps(idmapRangesOf(both), local), [
      'idmap * (70000–150000) overlaps idmap CALYPSO (100000–999999)',
    ]);
  });

  it('reads UID_MIN and UID_MAX from a login.defs', () => {
    assert.deepEqual(loginDefsRange('#UID_MIN 5\nUID_MIN\t\t 1000\nUID_MAX\t\t60000\n'), {
      min: 1000,
      max: 60000,
    });
    assert.equal(loginDefsRange('UID_MIN 1000\n'), undefined);
  });
});

describe('the rendered member server', () => {
  it('smb.conf: security = ads with our own keytab, and testparm accepts it', {
    skip: !existsSync('/usr/bin/testparm') && 'no testparm',
  }, () => {
    const conf = renderSmbConf({ shares: [], ad: AD }, globals);
    assert.match(conf, /\tsecurity = ads\n/);
    assert.match(conf, /\tserver role = member server\n/);
    assert.doesNotMatch(conf, /security = user|standalone server|WORKGROUP/);
    assert.match(conf, /\tdedicated keytab file = \/p\/private\/krb5.keytab\n/);
    const tmp = tempDir('calypso-ad-render-');
    try {
      // testparm fails on directories that do not exist: the same file with real ones
      const dirs = Object.fromEntries(
        Object.keys(DIRS).map((k) => {
          const d = path.join(tmp.dir, k);
          mkdirSync(d);
          return [k, d];
        }),
      ) as typeof DIRS;
      const f = path.join(tmp.dir, 'smb.conf');
      writeFileSync(f, renderSmbConf({ shares: [], ad: AD }, { ...globals, dirs }));
      const out = execFileSync('testparm', ['-s', f], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      assert.match(out, /\trealm = CALYPSO.TEST\n/);
      assert.match(out, /\tidmap config calypso : range = 100000-999999\n/i);
    } finally {
      tmp.cleanup();
    }
  });

  it('krb5.conf: the realm, the KDCs from DNS, our keytab', () => {
    const text = renderKrb5Conf(AD, adPathsOf('/p/private'));
    assert.match(text, /default_realm = CALYPSO.TEST/);
    assert.match(text, /default_keytab_name = FILE:\/p\/private\/krb5.keytab/);
  });

  it('no password in any argv of the plan', () => {
    const plan = joinPlan({ conf: '/c', paths: adPathsOf('/p') }, AD, 'Administrator', false, [
      ['testparm', '-s', '/c'],
    ]);
    assert.equal(plan.length, 9);
    assert.deepEqual(plan.at(-1), ['winbindd', '-s', '/c', '--foreground', '--no-process-group']);
    for (const a of plan) for (const x of a) assert.doesNotMatch(x, /pass/i);
  });
});

describe('what wbinfo says (recorded against the sandbox DC, Samba 4.17)', () => {
  it('a user (wbinfo -i) and a group (wbinfo --group-info); DOMAIN\\name held to a pattern', () => {
    assert.deepEqual(parseWbUser('CALYPSO\\bob:*:101106:100513::/home/CALYPSO/bob:/bin/false\n'), {
      name: 'CALYPSO\\bob',
      uid: 101106,
      gid: 100513,
      home: '/home/CALYPSO/bob',
      shell: '/bin/false',
    });
    assert.equal(parseWbUser('failed to call wbcGetpwnam: WBC_ERR_DOMAIN_NOT_FOUND'), undefined);
    assert.deepEqual(parseWbGroup('CALYPSO\\domain admins:x:100512:\n'), {
      name: 'CALYPSO\\domain admins',
      gid: 100512,
      members: [],
    });
    for (const ok of ['CALYPSO\\bob', 'CALYPSO\\domain admins', 'C-1\\m1$']) assert.ok(isDomainName(ok), ok);
    for (const bad of ['bob', 'CALYPSO\\', 'CALYPSO\\bob\nx', 'CALYPSO\\a b ', 'TOO-LONG-DOMAIN-X\\bob'])
      assert.ok(!isDomainName(bad), bad);
  });

  it('a list (wbinfo -u, -g): the joined domain’s names only, sorted without case, each a name a share takes', () => {
    const out = [
      'CALYPSO\\krbtgt',
      'CALYPSO\\Administrator',
      'calypso\\bob',
      'CALYPSO\\bob',
      'OTHER\\eve',
      'BUILTIN\\users',
      'CALYPSO\\x"y',
      '',
      'CALYPSO\\domain admins',
    ].join('\n');
    assert.deepEqual(parseWbList(out, 'calypso'), [
      'CALYPSO\\Administrator',
      'calypso\\bob',
      'CALYPSO\\bob',
      'CALYPSO\\domain admins',
      'CALYPSO\\krbtgt',
    ]);
    assert.deepEqual(parseWbList('', 'CALYPSO'), []);
  });
});
