/**
 * The LDAP directory for shares against a real slapd (sandbox/slapd.ts: its own cn=config on a
 * free loopback port, seeded users and groups): bad input refused with nothing written; the dry
 * run is the real run's plan; the settings rendered into sssd.conf (0600, checked by sssctl)
 * with the bind password in secrets.env only; the connect job passing every step, or failing
 * with the step's name and the server's words (a wrong password, a stopped server); the
 * directory's users and groups listed and resolved by the access matrix; the health alert
 * raised and cleared; a directory group granting a Calypso role to a peer whose groups the
 * identity layer is given, audited. Never the machine's /etc, nsswitch or sssd.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createRunner } from '../../agent/runner.js';
import { LDAP_SECRET_KEY } from '../../agent/shares/directory-ldap-model.js';
import { sharesSubsystem } from '../../agent/shares/service.js';
import { ERROR_KINDS } from '../../rpc/errors.js';
import { type SlapdLab, startSlapdLab } from '../../sandbox/slapd.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';

interface Plan {
  dryRun: true;
  commands: string[][];
  files: { path: string; diff: string }[];
}
interface Applied {
  changed: string[];
  commands: string[][];
}
interface Step {
  step: string;
  ok: boolean;
  detail: string;
}

describe('LDAP directory for shares (real slapd)', { timeout: 240_000 }, () => {
  let lab: SlapdLab | undefined;
  let t: TestAgent | undefined;
  let sssdConf = '';
  let settings: Record<string, unknown> = {};

  before(async () => {
    lab = await startSlapdLab();
    t = await startTestAgent({ services: [sharesSubsystem] });
    sssdConf = (await t.call<{ sssdConf: string }>('shares.directory.ldap.get')).sssdConf;
    settings = {
      uri: lab.uri,
      baseDn: lab.suffix,
      usersBase: lab.usersBase,
      groupsBase: lab.groupsBase,
      bindDn: lab.bindDn,
    };
  });
  after(async () => {
    await t?.stop();
    await lab?.stop();
  });

  const agent = () => t as TestAgent;
  const slapd = () => lab as SlapdLab;
  const connect = async () => {
    const { job } = await agent().call<{ job: string }>('shares.directory.ldap.connect');
    return agent().waitJob(job);
  };

  it('bad input is refused in plain words, nothing written', async () => {
    const bad: [string, Record<string, unknown>, RegExp][] = [
      ['an http URI', { uri: 'http://127.0.0.1/' }, /uri/],
      ['a URI with a path', { uri: 'ldap://127.0.0.1/ou=x' }, /uri/],
      ['a newline and an option in the bind DN', { bindDn: 'cn=a\nldap_uri = ldap://evil/' }, /bindDn/],
      ['a section in the base DN', { baseDn: 'dc=a]\n[sssd' }, /baseDn/],
      ['a space in the password', { bindPassword: 'two words' }, /bindPassword/],
      ['a newline in the password', { bindPassword: 'pw\nldap_uri = x' }, /bindPassword/],
      ['a users base outside the base DN', { usersBase: 'ou=people,dc=elsewhere' }, /not under/],
      ['StartTLS on ldaps', { uri: 'ldaps://127.0.0.1/', startTls: true }, /StartTLS is for ldap/],
      ['no password the first time', { bindPassword: undefined }, /bind password is needed/],
    ];
    for (const [what, change, words] of bad)
      for (const dryRun of [true, false])
        await assert.rejects(
          agent().call('shares.directory.ldap.set', {
            ...settings,
            bindPassword: slapd().bindPassword,
            ...change,
            dryRun,
          }),
          (e: Error & { kind?: string }) => e.kind === 'invalid' && words.test(e.message),
          `${what} (dryRun ${dryRun})`,
        );
    assert.equal(existsSync(sssdConf), false, 'no sssd.conf written');
    assert.equal(agent().deps.secrets.has(LDAP_SECRET_KEY), false, 'no secret written');
    assert.equal(
      (await agent().call<{ configured: boolean }>('shares.directory.ldap.get')).configured,
      false,
    );
  });

  it('the dry run is the real run’s plan; sssd.conf is 0600, checked by sssctl, the password in secrets.env only', async () => {
    const params = { ...settings, bindPassword: slapd().bindPassword };
    const plan = await agent().call<Plan>('shares.directory.ldap.set', { ...params, dryRun: true });
    assert.equal(existsSync(sssdConf), false, 'the dry run wrote nothing');
    assert.equal(agent().deps.secrets.has(LDAP_SECRET_KEY), false);
    assert.doesNotMatch(JSON.stringify(plan), new RegExp(slapd().bindPassword), 'no password in the plan');
    const diff = plan.files.find((f) => f.path === sssdConf)?.diff ?? '';
    assert.match(diff, new RegExp(`^\\+ldap_uri = ${slapd().uri.replace(/[./]/g, '\\$&')}$`, 'm'));
    assert.match(diff, /^\+ldap_default_authtok = \*{8}$/m);

    const done = await agent().call<Applied>('shares.directory.ldap.set', params);
    assert.deepEqual(done.commands, plan.commands, 'the real run ran what the dry run planned');
    assert.ok(
      done.commands.some((c) => c[0] === 'sssctl' && c[1] === 'config-check'),
      'sssctl config-check checked the file',
    );
    assert.deepEqual(done.changed, [sssdConf]);
    assert.equal(statSync(sssdConf).mode & 0o777, 0o600);
    const text = readFileSync(sssdConf, 'utf8');
    assert.match(text, new RegExp(`^ldap_default_authtok = ${slapd().bindPassword}$`, 'm'));
    assert.equal(agent().deps.secrets.get(LDAP_SECRET_KEY), slapd().bindPassword);
    // never in the desired state (LMDB), the answer or the audit log
    const got = await agent().call('shares.directory.ldap.get');
    assert.doesNotMatch(JSON.stringify(got), new RegExp(slapd().bindPassword));
    assert.doesNotMatch(
      JSON.stringify(agent().deps.configSet.get('directory')?.state()),
      new RegExp(slapd().bindPassword),
    );
    const audit = agent().deps.audit.query({ method: 'shares.directory.ldap.set', limit: 10 }).items;
    assert.ok(audit.some((a) => a.outcome === 'ok'));
    assert.doesNotMatch(JSON.stringify(audit), new RegExp(slapd().bindPassword));
  });

  it('the connect job passes every step', async () => {
    const j = await connect();
    assert.equal(j.state, 'success', JSON.stringify(j.error));
    const r = j.result as { steps: Step[]; users: number; groups: number };
    assert.deepEqual(
      r.steps.map((s) => [s.step, s.ok]),
      ['resolve', 'connect', 'bind', 'users', 'groups'].map((s) => [s, true]),
    );
    assert.match(r.steps[2]!.detail, /bound as cn=calypso,ou=services/);
    assert.equal(r.users, slapd().users.length);
    assert.equal(r.groups, slapd().groups.length);
  });

  it('the directory’s users and groups are listed', async () => {
    const users = await agent().call<{ items: { name: string; uid: number }[]; total: number }>(
      'shares.directory.user.list',
    );
    assert.deepEqual(
      users.items.map((u) => [u.name, u.uid]),
      slapd()
        .users.map((u) => [u.uid, u.uidNumber])
        .sort(),
    );
    const groups = await agent().call<{ items: { name: string; members: string[] }[] }>(
      'shares.directory.group.list',
    );
    assert.deepEqual(groups.items.find((g) => g.name === 'engineering')?.members, ['alice', 'bob']);
  });

  it('a share’s valid groups name a directory group; the access matrix resolves its members', async () => {
    await agent().call('shares.create', { name: 'ldapproj', validGroups: ['engineering'] });
    const cells = (
      await agent().call<{ cells: { principal: string; access: string; why: string }[] }>('shares.access', {
        shares: ['ldapproj'],
        users: ['bob', 'carol'],
        guest: false,
      })
    ).cells;
    const of = (p: string) => cells.find((c) => c.principal === p);
    // bob is known (a directory user) and in engineering by the directory's memberUid: past the
    // valid groups, what stops him is only the POSIX mode of the test's private prefix
    assert.ok(of('bob'), JSON.stringify(cells));
    assert.doesNotMatch(of('bob')?.why ?? '', /no local user|not in valid users or valid groups/);
    assert.match(of('bob')?.why ?? '', /mode|root|write|read/);
    assert.match(of('carol')?.why ?? '', /not in valid users or valid groups/);
    await agent().call('shares.delete', { name: 'ldapproj' });
  });

  it('a directory group grants a Calypso role to its members, audited; the dry run grants nothing', async () => {
    // bob's peer credentials as the kernel would give them once sssd resolved his groups
    const bob = { pid: 4242, uid: 70002, gid: 71001, groups: [71001] };
    assert.equal(agent().agent.identityOf(bob).role, 'none');
    const grant = { group: 'engineering', role: 'operator' };
    const plan = await agent().call<Plan>('shares.directory.role.set', { ...grant, dryRun: true });
    assert.equal(agent().agent.identityOf(bob).role, 'none', 'a dry run grants nothing');
    assert.equal((await agent().call<{ total: number }>('shares.directory.role.list')).total, 0);
    await assert.rejects(
      agent().call('shares.directory.role.set', { group: 'engineering', role: 'root' }),
      (e: Error & { kind?: string }) => e.kind === 'invalid',
    );
    const done = await agent().call<Applied>('shares.directory.role.set', grant);
    assert.deepEqual(done.commands, plan.commands, 'the real run ran what the dry run planned');
    assert.equal(agent().agent.identityOf(bob).role, 'operator');
    const alice = { pid: 4243, uid: 70001, gid: 71001, groups: [71001, 71003] };
    assert.equal(agent().agent.identityOf(alice).role, 'operator');
    await agent().call('shares.directory.role.set', { group: 'storage-admins', role: 'admin' });
    assert.equal(agent().agent.identityOf(alice).role, 'admin');
    const carol = { pid: 4244, uid: 70003, gid: 71002, groups: [71002] };
    assert.equal(agent().agent.identityOf(carol).role, 'none');
    const list = await agent().call<{ items: { group: string; role: string; gid?: number }[] }>(
      'shares.directory.role.list',
    );
    assert.deepEqual(list.items, [
      { group: 'engineering', role: 'operator', gid: 71001 },
      { group: 'storage-admins', role: 'admin', gid: 71003 },
    ]);
    const rec = agent().deps.audit.query({ method: 'shares.directory.role.set', limit: 10 }).items;
    const ok = rec.filter((a) => a.outcome === 'ok');
    assert.equal(ok.length, 2, JSON.stringify(rec));
    assert.ok(
      ok.some((a) => JSON.stringify(a.params) === JSON.stringify({ group: 'engineering', role: 'operator' })),
    );
    const delPlan = await agent().call<Plan>('shares.directory.role.delete', {
      group: 'storage-admins',
      dryRun: true,
    });
    assert.equal(agent().agent.identityOf(alice).role, 'admin', 'a dry run takes nothing away');
    const deleted = await agent().call<Applied>('shares.directory.role.delete', { group: 'storage-admins' });
    assert.deepEqual(deleted.commands, delPlan.commands);
    assert.equal(agent().agent.identityOf(alice).role, 'operator');
  });

  it('a stopped server: the health alert is raised, the job fails at connect; back again: cleared', async () => {
    const alert = async () =>
      (await agent().deps.alerts.list()).find(
        (a) => a.key === 'shares.directory:ldap' && a.state === 'active',
      );
    assert.deepEqual(await agent().call('shares.directory.ldap.check'), { ok: true });
    assert.equal(await alert(), undefined);
    await slapd().kill();
    const down = await agent().call<{ ok: boolean; step?: string; error?: string }>(
      'shares.directory.ldap.check',
    );
    assert.equal(down.ok, false);
    assert.equal(down.step, 'connect');
    const a = await alert();
    assert.ok(a, 'alert raised');
    assert.match(a.title, /LDAP directory does not answer \(connect: 127\.0\.0\.1:\d+: connection refused/);
    const j = await connect();
    assert.equal(j.state, 'failed');
    assert.match(j.error?.message ?? '', /^connect: 127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)$/);
    await slapd().start();
    assert.deepEqual(await agent().call('shares.directory.ldap.check'), { ok: true });
    assert.equal(await alert(), undefined, 'alert cleared');
  });

  it('a wrong password: the job fails at bind with the server’s words', async () => {
    await agent().call('shares.directory.ldap.set', { ...settings, bindPassword: 'not-the-password' });
    const j = await connect();
    assert.equal(j.state, 'failed');
    assert.equal(j.error?.message, 'bind: invalid credentials (49)');
    const steps = (j.error?.data as { steps: Step[] } | undefined)?.steps ?? [];
    assert.deepEqual(
      steps.map((s) => [s.step, s.ok]),
      [
        ['resolve', true],
        ['connect', true],
        ['bind', false],
      ],
    );
    // the password kept when none is given: set again with the right one, then without one
    await agent().call('shares.directory.ldap.set', { ...settings, bindPassword: slapd().bindPassword });
    await agent().call('shares.directory.ldap.set', { ...settings, usersBase: undefined });
    assert.equal((await connect()).state, 'success');
  });

  it('delete removes sssd.conf and the password; role mappings stay', async () => {
    const plan = await agent().call<Plan>('shares.directory.ldap.delete', { dryRun: true });
    assert.ok(existsSync(sssdConf));
    const done = await agent().call<Applied>('shares.directory.ldap.delete');
    assert.deepEqual(done.commands, plan.commands);
    assert.equal(existsSync(sssdConf), false);
    assert.equal(agent().deps.secrets.has(LDAP_SECRET_KEY), false);
    assert.equal((await agent().call<{ total: number }>('shares.directory.role.list')).total, 1);
    const j = await connect();
    assert.equal(j.state, 'failed');
    assert.match(j.error?.message ?? '', /no LDAP directory is configured/);
  });
});

describe('LDAP directory without ldap-utils or sssctl', () => {
  let t: TestAgent | undefined;
  before(async () => {
    // a PATH with nothing on it: no ldapsearch, no sssctl, whatever the machine has installed
    t = await startTestAgent({ services: [sharesSubsystem], runner: createRunner({ path: '/nonexistent' }) });
  });
  after(() => t?.stop());

  it('the settings are kept (schema-checked only); the connect job answers unavailable naming the package', async () => {
    const a = t as TestAgent;
    const done = await a.call<Applied>('shares.directory.ldap.set', {
      uri: 'ldap://127.0.0.1:1/',
      baseDn: 'dc=calypso,dc=test',
      bindDn: 'cn=calypso,dc=calypso,dc=test',
      bindPassword: 'pw-1',
    });
    assert.deepEqual(done.commands, [], 'no sssctl to run');
    const { job } = await a.call<{ job: string }>('shares.directory.ldap.connect');
    const j = await a.waitJob(job);
    assert.equal(j.state, 'failed');
    assert.equal(j.error?.code, ERROR_KINDS.unavailable.code);
    assert.match(j.error?.message ?? '', /ldapwhoami.*not installed.*apt-get install ldap-utils/);
  });
});
