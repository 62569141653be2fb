/**
 * The LDAP directory's pure parts: sssd.conf rendered from the settings (and its password
 * redacted), the state's check, the LDIF parser and the error words on output recorded from
 * Debian 12's ldap-utils 2.5.13 against the sandbox's slapd (test/fixtures/ldapsearch/), the
 * connect steps' argv (the password only as a file), and the role mapping's gids.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  groupsOf,
  hostPortOf,
  ldapErrorWords,
  parseLdif,
  searchArgv,
  usersOf,
  whoamiArgv,
} from '../../agent/shares/directory-ldap-client.js';
import {
  checkDirectory,
  type LdapSettings,
  redactSssdConf,
  renderSssdConf,
} from '../../agent/shares/directory-ldap-model.js';
import { gidRolesOf } from '../../agent/shares/directory-roles.js';
import { repoRoot } from '../helpers/paths.js';

const fixture = (f: string) =>
  readFileSync(path.join(repoRoot(), 'test/fixtures/ldapsearch/openldap-2.5.13', f), 'utf8');

const settings: LdapSettings = {
  uri: 'ldap://ldap.example.org/',
  baseDn: 'dc=example,dc=org',
  usersBase: 'ou=people,dc=example,dc=org',
  bindDn: 'cn=calypso,ou=services,dc=example,dc=org',
  startTls: true,
};

describe('sssd.conf (pure)', () => {
  it('one [domain/calypso] with the ldap provider, rfc2307 ids as the directory has them, bases and bind', () => {
    const text = renderSssdConf(settings, 's3cret!');
    const lines = text.split('\n');
    for (const l of [
      '[sssd]',
      'domains = calypso',
      '[domain/calypso]',
      'id_provider = ldap',
      'ldap_schema = rfc2307',
      'ldap_id_mapping = false',
      'ldap_uri = ldap://ldap.example.org/',
      'ldap_search_base = dc=example,dc=org',
      'ldap_user_search_base = ou=people,dc=example,dc=org',
      // no groups base: the base DN
      'ldap_group_search_base = dc=example,dc=org',
      'ldap_default_bind_dn = cn=calypso,ou=services,dc=example,dc=org',
      'ldap_default_authtok = s3cret!',
      'ldap_id_use_start_tls = true',
    ])
      assert.ok(lines.includes(l), `${l} in\n${text}`);
    const red = redactSssdConf(text);
    assert.doesNotMatch(red, /s3cret/);
    assert.match(red, /^ldap_default_authtok = \*{8}$/m);
  });

  it('the check: StartTLS on ldaps, a base outside the base DN, a port out of range, a group mapped twice', () => {
    const p = checkDirectory({
      ldap: {
        ...settings,
        uri: 'ldaps://ldap.example.org:70000/',
        groupsBase: 'ou=groups,dc=other,dc=org',
      },
      roles: [
        { group: 'ops', role: 'operator' },
        { group: 'ops', role: 'admin' },
      ],
    });
    assert.equal(p.length, 4, p.join('\n'));
    assert.match(p.join('\n'), /StartTLS is for ldap:\/\//);
    assert.match(p.join('\n'), /port must be 1–65535/);
    assert.match(p.join('\n'), /groups base ou=groups,dc=other,dc=org is not under dc=example,dc=org/);
    assert.match(p.join('\n'), /the group ops is mapped twice/);
    assert.deepEqual(checkDirectory({ ldap: settings, roles: [] }), []);
  });
});

describe('ldap-utils output (recorded, pure)', () => {
  it('users: uid, numbers and cn (base64 values decoded), sorted by name', () => {
    assert.deepEqual(usersOf(parseLdif(fixture('users.ldif'))), [
      { name: 'alice', uid: 70001, gid: 71001, fullName: 'Alice Liddell' },
      { name: 'zoe', uid: 70009, gid: 71001, fullName: 'Zoë Ünïcode' },
    ]);
  });

  it('groups: cn, gid and memberUid members', () => {
    assert.deepEqual(groupsOf(parseLdif(fixture('groups.ldif'))), [
      { name: 'engineering', gid: 71001, members: ['alice', 'bob'] },
      { name: 'finance', gid: 71002, members: ['carol'] },
      { name: 'storage-admins', gid: 71003, members: ['alice'] },
    ]);
  });

  it('folded lines are joined; an entry without numbers is skipped', () => {
    const e = parseLdif('dn: cn=x,dc=a\ncn: long\n  name\ngidNumber: 5\n\ndn: cn=y,dc=a\ncn: y\n');
    assert.deepEqual(groupsOf(e), [{ name: 'long name', gid: 5, members: [] }]);
  });

  it('the server’s words, without the call’s prefix', () => {
    assert.equal(
      ldapErrorWords(fixture('whoami-invalid-credentials.stderr'), 49),
      'invalid credentials (49)',
    );
    assert.equal(ldapErrorWords(fixture('whoami-server-down.stderr'), 255), "can't contact LDAP server (-1)");
    assert.equal(
      ldapErrorWords(fixture('whoami-starttls-unsupported.stderr'), 1),
      'protocol error (2): unsupported extended operation',
    );
    assert.equal(ldapErrorWords(fixture('search-no-such-object.stderr'), 32), 'no such object (32)');
    assert.equal(ldapErrorWords('', 3), 'exit status 3');
  });
});

describe('argv and ids (pure)', () => {
  it('the password only as a file (-y), StartTLS demanded (-ZZ), the base as -b', () => {
    const bind = { passwordFile: '/run/calypso/ldap-x/bind' };
    assert.deepEqual(whoamiArgv(settings, bind), [
      'ldapwhoami',
      '-x',
      '-H',
      'ldap://ldap.example.org/',
      '-D',
      'cn=calypso,ou=services,dc=example,dc=org',
      '-y',
      '/run/calypso/ldap-x/bind',
      '-ZZ',
      '-o',
      'nettimeout=10',
    ]);
    const s = searchArgv({ ...settings, startTls: false }, bind, 'groups');
    assert.equal(s[0], 'ldapsearch');
    assert.ok(!s.includes('-ZZ'));
    assert.equal(s[s.indexOf('-b') + 1], 'dc=example,dc=org');
    assert.deepEqual(s.slice(-4), ['(objectClass=posixGroup)', 'cn', 'gidNumber', 'memberUid']);
  });

  it('host and port of a URI (default ports by scheme, IPv6 in brackets)', () => {
    assert.deepEqual(hostPortOf('ldap://ldap.example.org/'), { host: 'ldap.example.org', port: 389 });
    assert.deepEqual(hostPortOf('ldaps://10.0.0.1'), { host: '10.0.0.1', port: 636 });
    assert.deepEqual(hostPortOf('ldap://[::1]:3890/'), { host: '::1', port: 3890 });
  });

  it('role grants become gids only for groups the directory answered', () => {
    assert.deepEqual(
      gidRolesOf(
        [
          { group: 'engineering', role: 'operator' },
          { group: 'ghosts', role: 'admin' },
        ],
        [{ name: 'engineering', gid: 71001, members: [] }],
      ),
      [{ gid: 71001, role: 'operator', via: 'directory group engineering' }],
    );
  });
});
