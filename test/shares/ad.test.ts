/**
 * Active Directory join against a real Samba AD DC (sandbox/samba-dc.ts): provisioned under a
 * prefix and run in namespaces of its own (its ports 53/88/389/445 never on the host's network).
 * The agent's tools (net ads, kinit, klist, testparm) run in the DC's network and mount
 * namespaces through a runner that puts `nsenter` before each argv, and the join's DNS lookup is
 * the agent's own module run there too; everything else is the real agent. Each failing step is
 * provoked for real and named: idmap range overlap (a range over the shares' users), DNS SRV (a
 * realm the DNS server does not know), clock skew (the agent's clock 10 minutes ahead), credentials
 * (a wrong password); then a join that passes every step, the dry run listing exactly what it ran,
 * the password nowhere (argv, audit, prefix), domain users and groups in a share's valid users (the
 * matrix through winbind, smbclient as each user), the standing check starting again a winbindd
 * killed by its pid file, the standing check raising `shares.ad.join` once the machine account is
 * deleted on the DC and clearing it after a new join, and a leave.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { JobRecord } from '../../agent/jobs.js';
import { createRunner, type Runner } from '../../agent/runner.js';
import type { ResolveSrv } from '../../agent/shares/directory-ad-dns.js';
import { createSharesService, sharesSubsystem } from '../../agent/shares/service.js';
import { processesReferring } from '../../sandbox/procs.js';
import { type MemberNs, type SambaDc, sambaDcMissing, startSambaDc } from '../../sandbox/samba-dc.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { memberRunner, resolveSrvIn, startMemberSmbd } from './ad-member-lab.js';
import { freePort } from './smb-lab.js';

const run = promisify(execFile);
const missing = sambaDcMissing();
const NAME = 'CALYPSO-M1';

interface Plan {
  dryRun: true;
  commands: string[][];
  files?: { path: string; diff: string }[];
  notes?: string[];
}
interface Joined {
  realm: string;
  steps: { name: string; ok: boolean; detail: string }[];
  commands: string[][];
}

let dc: SambaDc;
/** the member's namespaces: the DC's network, a mount namespace (and /run/samba) of its own */
let member: MemberNs;
let t: TestAgent;
let smbPort = 0;
let skewMs = 0;
/** what the agent ran, as it asked (without the nsenter before it) */
const ran: string[][] = [];
const hostKeytab = existsSync('/etc/krb5.keytab');
const BOB = { name: 'CALYPSO\\bob', password: 'Bob-Domain-1!' };
/** a command in the member's namespaces, as a test client */
const inMember = async (...argv: string[]) => {
  const [bin, ...rest] = member.wrap(argv);
  return (await run(bin as string, rest, { timeout: 30_000 })).stdout;
};

/** The agent's runner, each command in the member's namespaces (inside the DC's network). */
const inDc = (inner: Runner): Runner => memberRunner(() => member, inner, ran);

/** The agent's own DNS module, run in the DC's network namespace. */
const resolveInDc: ResolveSrv = resolveSrvIn(() => dc.pid);

async function job(method: string, params: Record<string, unknown>): Promise<JobRecord> {
  const { job: id } = await t.call<{ job: string }>(method, params);
  return t.waitJob(id);
}

const joinParams = () => ({
  realm: dc.realm,
  workgroup: dc.domain,
  netbiosName: NAME,
  dnsServer: dc.ip,
  user: 'Administrator',
  password: dc.adminPassword,
  healthIntervalSec: 1,
});

const activeAlerts = async () =>
  t.deps.alerts
    .query({ state: 'active', source: 'shares' }, { limit: 100 })
    .alerts.filter((a) => a.key === 'shares.ad.join');

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => path.join(dir, f))
    .filter((f) => {
      try {
        return statSync(f).isFile();
      } catch {
        return false;
      }
    });
}

/** shares.access for these users on one share, by principal (no guest). */
async function matrixOf(share: string, users: string[]) {
  const m = await t.call<{ cells: { principal: string; access: string; why: string }[] }>('shares.access', {
    users,
    guest: false,
    shares: [share],
  });
  return Object.fromEntries(m.cells.map((c) => [c.principal, c]));
}

describe('Active Directory join against a real Samba AD DC', { skip: missing, timeout: 600_000 }, () => {
  before(async () => {
    dc = await startSambaDc();
    try {
      member = await dc.member();
      // a domain user made before anyone asks winbind for it (winbind caches a name it did not find)
      dc.tool('user', 'create', 'bob', BOB.password);
      smbPort = await freePort();
      t = await startTestAgent({
        services: [{ ...sharesSubsystem, service: createSharesService({ resolveSrv: resolveInDc }) }],
        runner: inDc(createRunner()),
        clock: { now: () => Date.now() + skewMs },
        config: { shares: { smbPort, smbInterfaces: ['127.0.0.1'] } },
      });
    } catch (e) {
      await dc.stop();
      throw e;
    }
  });

  after(async () => {
    await t?.stop();
    await dc?.stop();
  });

  it('refuses an idmap range over the shares’ local users at "idmap range overlap", dry run and real run alike', async () => {
    const p = { ...joinParams(), idmapDomain: { min: 20_500, max: 40_000 } };
    await assert.rejects(t.call('shares.directory.ad.join', { ...p, dryRun: true }), (e: Error) =>
      /^idmap range overlap: .*idmap CALYPSO \(20500–40000\) overlaps shares’ local users/.test(e.message),
    );
    const j = await job('shares.directory.ad.join', p);
    assert.equal(j.state, 'failed');
    assert.match(
      j.error?.message ?? '',
      /^idmap range overlap: .*idmap CALYPSO \(20500–40000\) overlaps shares’ local users/,
    );
    assert.deepEqual(
      ran.filter((a) => !a.includes('--version')),
      [],
      'nothing ran (but the probes of the tools)',
    );
  });

  it('refuses a domain name in a share’s valid users while no domain is joined, in words, nothing changed', async () => {
    const before = await t.call<{ total: number }>('shares.list');
    await assert.rejects(
      t.call('shares.create', { name: 'early', protocols: ['smb'], validUsers: [BOB.name] }),
      (e: Error) =>
        /share early: CALYPSO\\bob is a domain name, but this machine is not a member of an Active Directory domain/.test(
          e.message,
        ),
    );
    // a UPN, a quote or a line break is no member of a Samba list: the schema refuses it
    for (const bad of ['bob@calypso.test', 'CALYPSO\\"bob', 'CALYPSO\\bob\n\tadmin users = bob'])
      await assert.rejects(t.call('shares.create', { name: 'early', validGroups: [bad] }), /validGroups/);
    assert.equal((await t.call<{ total: number }>('shares.list')).total, before.total, 'nothing changed');
    // nor are there domain names to pick from
    await assert.rejects(
      t.call('shares.directory.ad.names', { kind: 'users' }),
      /not joined to a domain: there are no domain users or groups to list/,
    );
  });

  it('fails at "DNS SRV" for a realm the DC’s DNS server does not know', async () => {
    const j = await job('shares.directory.ad.join', { ...joinParams(), realm: 'NOWHERE.TEST' });
    assert.equal(j.state, 'failed');
    assert.match(
      j.error?.message ?? '',
      /^DNS SRV: no domain controller of NOWHERE\.TEST in DNS: _ldap\._tcp\.dc\._msdcs\.nowhere\.test through 10\.53\.0\.1/,
    );
  });

  it('fails at "clock skew" when this machine’s clock is 10 minutes ahead of the DC', async () => {
    skewMs = 10 * 60_000;
    try {
      const j = await job('shares.directory.ad.join', joinParams());
      assert.equal(j.state, 'failed');
      assert.match(
        j.error?.message ?? '',
        /^clock skew: this machine’s clock is 10\.\d minutes ahead of the DC dc1\.calypso\.test/,
      );
    } finally {
      skewMs = 0;
    }
  });

  it('fails at "credentials" for a wrong password, and puts the configuration back', async () => {
    const j = await job('shares.directory.ad.join', { ...joinParams(), password: 'not-the-password' });
    assert.equal(j.state, 'failed');
    assert.equal(j.error?.message, 'credentials: the password of Administrator is wrong');
    const conf = (await t.call<{ smbConf: string }>('shares.status')).smbConf;
    assert.doesNotMatch(readFileSync(conf, 'utf8'), /security = ads/);
    const s = await t.call<{ configured: boolean }>('shares.directory.ad.status');
    assert.equal(s.configured, false);
  });

  it('joins through every step; the dry run listed exactly what ran; the password is nowhere', async () => {
    const plan = await t.call<Plan>('shares.directory.ad.join', { ...joinParams(), dryRun: true });
    assert.ok(
      plan.files?.some((f) => /\+\tsecurity = ads/.test(f.diff)),
      'the plan shows the smb.conf lines',
    );
    ran.length = 0;
    const j = await job('shares.directory.ad.join', joinParams());
    assert.equal(j.state, 'success', JSON.stringify(j.error));
    const r = j.result as Joined;
    assert.deepEqual(
      r.steps.map((s) => [s.name, s.ok]),
      [
        'idmap range overlap',
        'DNS SRV',
        'configuration',
        'clock skew',
        'credentials',
        'join',
        'keytab',
        'test join',
        'winbind',
      ].map((n) => [n, true]),
    );
    assert.match(r.steps[1]?.detail ?? '', /dc1\.calypso\.test:389/);
    assert.match(r.steps[6]?.detail ?? '', new RegExp(`host/${NAME}@CALYPSO.TEST`, 'i'));
    assert.deepEqual(r.commands, plan.commands, 'the dry run lists what the real run ran');
    // (and the pipeline's read-only probe whether an smbd runs to reload: `smbcontrol … ping`)
    // (and winbindd's readiness probe, `wbinfo -p`, as often as it takes)
    assert.deepEqual(
      ran.filter(
        (a) => !(a[0] === 'smbcontrol' && a.at(-1) === 'ping') && !(a[0] === 'wbinfo' && a[1] === '-p'),
      ),
      plan.commands,
      'and the runner ran exactly that',
    );
    const conf = (await t.call<{ smbConf: string }>('shares.status')).smbConf;
    const text = readFileSync(conf, 'utf8');
    assert.match(text, /\trealm = CALYPSO\.TEST\n/);
    assert.match(text, /\tkerberos method = dedicated keytab\n/);
    assert.equal(existsSync('/etc/krb5.keytab'), hostKeytab, 'the host’s keytab untouched');
    const s = await t.call<{ joined: boolean; detail: string }>('shares.directory.ad.status');
    assert.deepEqual([s.joined, s.detail], [true, 'Join is OK']);
    // the password: in no argv, no audit record, no file of the prefix
    for (const a of ran) assert.ok(!a.join(' ').includes(dc.adminPassword));
    const audit = await t.call<unknown>('audit.query', { method: 'shares.directory.ad.*' });
    assert.ok(JSON.stringify(audit).includes('shares.directory.ad.join'));
    assert.ok(!JSON.stringify(audit).includes(dc.adminPassword));
    assert.ok(!JSON.stringify(j).includes(dc.adminPassword));
    for (const f of filesUnder(t.prefix))
      assert.ok(!readFileSync(f).includes(dc.adminPassword), `${f} holds the admin password`);
  });

  it('domain users and groups through the member’s own winbindd: NSS, the access matrix, a role, smbclient', async () => {
    // the member's idmap (rid: 100000 + RID), not the DC's (which maps Administrator to root)
    assert.match(
      await inMember('wbinfo', '-i', 'CALYPSO\\administrator'),
      /^CALYPSO\\administrator:\*:100500:100513:/,
    );
    const bob = (await inMember('getent', 'passwd', BOB.name)).split(':');
    assert.equal(bob[0], BOB.name);
    const bobUid = Number(bob[2]);
    assert.ok(bobUid > 101_000 && bobUid < 200_000, `bob's uid ${bobUid} from the member's rid range`);
    // a share whose directory only Domain Admins (gid 100512) may write
    const conf = (await t.call<{ smbConf: string }>('shares.status')).smbConf;
    await t.call('shares.create', { name: 'adminsonly', protocols: ['smb'] });
    const dir = (await t.call<{ path: string }>('shares.get', { name: 'adminsonly' })).path;
    await run('chown', ['0:100512', dir]);
    await run('chmod', ['0770', dir]);
    // the prefix (0700) must let a domain user pass, as an appliance's /srv does
    await run('chmod', ['0755', t.prefix]);
    const admin = { name: 'CALYPSO\\Administrator', password: dc.adminPassword };
    const m = await t.call<{ cells: { principal: string; access: string; why: string }[] }>('shares.access', {
      users: [admin.name, BOB.name, 'CALYPSO\\nobody-here'],
      groups: ['CALYPSO\\domain admins'],
      guest: false,
      shares: ['adminsonly'],
    });
    const cell = (p: string) => m.cells.find((c) => c.principal === p);
    assert.equal(cell(admin.name)?.access, 'write', JSON.stringify(m.cells));
    assert.equal(cell(BOB.name)?.access, 'none');
    assert.equal(cell('@CALYPSO\\domain admins')?.access ?? cell('CALYPSO\\domain admins')?.access, 'write');
    assert.match(cell('CALYPSO\\nobody-here')?.why ?? '', /winbind knows no user CALYPSO\\nobody-here/);
    // a domain group onto a Calypso role: the gids NSS (winbind) gives the user's session
    const gids = (await inMember('id', '-G', admin.name)).trim().split(/\s+/).map(Number);
    const peer = { pid: 4711, uid: 100500, gid: 100513, groups: gids };
    assert.equal(t.agent.identityOf(peer).role, 'none');
    await t.call('shares.directory.role.set', { group: 'CALYPSO\\domain admins', role: 'operator' });
    assert.equal(t.agent.identityOf(peer).role, 'operator');
    const roles = await t.call<{ items: { group: string; gid?: number }[] }>('shares.directory.role.list');
    assert.deepEqual(
      roles.items.map((r) => [r.group, r.gid]),
      [['CALYPSO\\domain admins', 100512]],
    );
    const bobGids = (await inMember('id', '-G', BOB.name)).trim().split(/\s+/).map(Number);
    assert.equal(t.agent.identityOf({ pid: 4712, uid: bobUid, gid: 100513, groups: bobGids }).role, 'none');
    // the real client, as each domain user, gets what the matrix said
    const smbd = await startMemberSmbd(member, conf, smbPort, t.prefix);
    try {
      const a = await smbd.client('adminsonly', admin, 'mkdir made-by-admin; ls');
      assert.ok(a.ok, a.out);
      assert.match(a.out, /made-by-admin/);
      const b = await smbd.client('adminsonly', BOB, 'ls');
      assert.ok(!b.ok, b.out);
      assert.match(b.out, /NT_STATUS_ACCESS_DENIED/);
    } finally {
      await smbd.stop();
    }
  });

  it('domain users and groups in a share’s validUsers/validGroups: the matrix through winbind, smbclient agrees', async () => {
    const admin = { name: 'CALYPSO\\Administrator', password: dc.adminPassword };
    const conf = (await t.call<{ smbConf: string }>('shares.status')).smbConf;
    await t.call('shares.create', { name: 'domvalid', protocols: ['smb'], validUsers: ['calypso\\bob'] });
    const dir = (await t.call<{ path: string }>('shares.get', { name: 'domvalid' })).path;
    await run('chmod', ['0777', dir]);
    // the domain's own spelling differs in case: the matrix and Samba compare without it
    const matrix = () => matrixOf('domvalid', [admin.name, BOB.name]);
    let m = await matrix();
    assert.equal(m[BOB.name]?.access, 'write', JSON.stringify(m));
    assert.match(m[BOB.name]?.why ?? '', /admitted as calypso\\bob, a valid user/);
    assert.equal(m[admin.name]?.access, 'none');
    assert.match(m[admin.name]?.why ?? '', /not in valid users or valid groups/);
    assert.match(readFileSync(conf, 'utf8'), /^\tvalid users = calypso\\bob$/m);
    const smbd = await startMemberSmbd(member, conf, smbPort, t.prefix);
    try {
      const b = await smbd.client('domvalid', BOB, 'mkdir made-by-bob; ls');
      assert.ok(b.ok, b.out);
      const a = await smbd.client('domvalid', admin, 'ls');
      assert.ok(!a.ok, a.out);
      assert.match(a.out, /NT_STATUS_ACCESS_DENIED/);
      // a domain group with a space in its name: quoted in smb.conf, resolved through winbind
      await t.call('shares.update', {
        name: 'domvalid',
        set: { validUsers: [], validGroups: ['CALYPSO\\Domain Admins'] },
      });
      assert.match(readFileSync(conf, 'utf8'), /^\tvalid users = "@CALYPSO\\Domain Admins"$/m);
      m = await matrix();
      assert.equal(m[admin.name]?.access, 'write', JSON.stringify(m));
      assert.match(m[admin.name]?.why ?? '', /a member of CALYPSO\\Domain Admins, a valid group/);
      assert.equal(m[BOB.name]?.access, 'none');
      const a2 = await smbd.client('domvalid', admin, 'ls');
      assert.ok(a2.ok, a2.out);
      assert.match(a2.out, /made-by-bob/);
      const b2 = await smbd.client('domvalid', BOB, 'ls');
      assert.ok(!b2.ok, b2.out);
      assert.match(b2.out, /NT_STATUS_ACCESS_DENIED/);
    } finally {
      await smbd.stop();
    }
    // another domain than the one joined: refused in words
    await assert.rejects(
      t.call('shares.update', { name: 'domvalid', set: { validUsers: ['OTHER\\bob'] } }),
      /OTHER\\bob is of domain OTHER, but this machine is a member of CALYPSO/,
    );
  });

  it('domain users and groups in a share’s read and write lists: quoted in smb.conf, the matrix through winbind, smbclient agrees', async () => {
    const admin = { name: 'CALYPSO\\Administrator', password: dc.adminPassword };
    const conf = (await t.call<{ smbConf: string }>('shares.status')).smbConf;
    // writable, but bob (in other letters than the domain's) only reads
    await t.call('shares.create', { name: 'domlists', protocols: ['smb'], readList: ['CALYPSO\\BOB'] });
    const dir = (await t.call<{ path: string }>('shares.get', { name: 'domlists' })).path;
    await run('chmod', ['0777', dir]);
    const matrix = () => matrixOf('domlists', [admin.name, BOB.name]);
    // the names to pick from, as winbind spells them (the joined domain's only, BUILTIN left out)
    type Names = { items: string[]; total: number };
    const users = await t.call<Names>('shares.directory.ad.names', { kind: 'users' });
    assert.ok(users.items.includes('CALYPSO\\bob'), JSON.stringify(users));
    assert.ok(users.items.includes('CALYPSO\\administrator'), JSON.stringify(users));
    assert.ok(users.items.every((n) => n.startsWith('CALYPSO\\')));
    const groups = await t.call<Names>('shares.directory.ad.names', {
      kind: 'groups',
      contains: 'DOMAIN ADM',
    });
    assert.deepEqual(groups, { items: ['CALYPSO\\domain admins'], total: 1 });
    const one = await t.call<Names>('shares.directory.ad.names', { kind: 'users', limit: 1 });
    assert.deepEqual([one.items.length, one.total], [1, users.total]);
    await assert.rejects(t.call('shares.directory.ad.names', { kind: 'users', limit: 1001 }), /limit/);
    let m = await matrix();
    assert.equal(m[BOB.name]?.access, 'read', JSON.stringify(m));
    assert.match(m[BOB.name]?.why ?? '', /CALYPSO\\BOB is in the read list/);
    assert.equal(m[admin.name]?.access, 'write', JSON.stringify(m));
    assert.match(readFileSync(conf, 'utf8'), /^\tread list = CALYPSO\\BOB$/m);
    const smbd = await startMemberSmbd(member, conf, smbPort, t.prefix);
    try {
      const b = await smbd.client('domlists', BOB, 'mkdir by-bob');
      assert.ok(!b.ok, b.out);
      assert.match(b.out, /NT_STATUS_(ACCESS_DENIED|MEDIA_WRITE_PROTECTED)/);
      assert.ok((await smbd.client('domlists', BOB, 'ls')).ok, 'bob reads');
      const a = await smbd.client('domlists', admin, 'mkdir by-admin');
      assert.ok(a.ok, a.out);
      // read-only, but the domain's admins (a group with a space: quoted) write
      await t.call('shares.update', {
        name: 'domlists',
        set: { readOnly: true, readList: [], writeList: ['@CALYPSO\\Domain Admins'] },
      });
      assert.match(readFileSync(conf, 'utf8'), /^\twrite list = "@CALYPSO\\Domain Admins"$/m);
      m = await matrix();
      assert.equal(m[admin.name]?.access, 'write', JSON.stringify(m));
      assert.match(m[admin.name]?.why ?? '', /@CALYPSO\\Domain Admins is in the write list/);
      assert.equal(m[BOB.name]?.access, 'read');
      const a2 = await smbd.client('domlists', admin, 'mkdir by-admin-2');
      assert.ok(a2.ok, a2.out);
      const b2 = await smbd.client('domlists', BOB, 'mkdir by-bob-2');
      assert.ok(!b2.ok, b2.out);
      assert.match(b2.out, /NT_STATUS_(ACCESS_DENIED|MEDIA_WRITE_PROTECTED)/);
    } finally {
      await smbd.stop();
    }
    // another domain than the one joined: refused in words, in a list as in valid users
    await assert.rejects(
      t.call('shares.update', { name: 'domlists', set: { writeList: ['@OTHER\\staff'] } }),
      /OTHER\\staff is of domain OTHER, but this machine is a member of CALYPSO/,
    );
    await t.call('shares.delete', { name: 'domlists' });
  });

  it('the health check starts again a winbindd that died (killed by its pid file): alert raised, then cleared, audited', async () => {
    const conf = (await t.call<{ smbConf: string }>('shares.status')).smbConf;
    const pidFile = path.join(
      /^\tpid directory = (.+)$/m.exec(readFileSync(conf, 'utf8'))?.[1] ?? '',
      'winbindd.pid',
    );
    const pidOf = () => Number(readFileSync(pidFile, 'utf8').trim());
    const alive = (pid: number) => existsSync(`/proc/${pid}`);
    const old = pidOf();
    assert.ok(alive(old), `winbindd ${old} runs`);
    // this winbindd only, by the pid it wrote: never a kill by name on a shared machine
    process.kill(old, 'SIGKILL');
    const fresh = await until(
      'a new winbindd',
      async () => {
        const p = existsSync(pidFile) ? pidOf() : 0;
        return p && p !== old && alive(p) ? p : undefined;
      },
      30_000,
    );
    assert.notEqual(fresh, old);
    assert.match(await inMember('wbinfo', '-u'), /^CALYPSO\\bob$/im, 'wbinfo -u works again');
    const winbindAlerts = () =>
      t.deps.alerts
        .query({ source: 'shares' }, { limit: 100 })
        .alerts.filter((a) => a.key === 'shares.ad.winbind');
    // raised once the new winbindd answers wbinfo -p (a moment after it wrote its pid)
    const raised = await until('the alert', async () => winbindAlerts()[0], 30_000);
    assert.match(raised.title, /winbindd had stopped and was restarted/);
    assert.match(raised.detail ?? '', /restart 1 of at most 3 an hour/);
    await until(
      'the alert cleared',
      async () => (winbindAlerts()[0]?.state === 'cleared' ? true : undefined),
      30_000,
    );
    const audit = await t.call<{ items: { user: string; method: string; outcome: string }[] }>(
      'audit.query',
      {
        method: 'shares.directory.ad.health',
      },
    );
    assert.deepEqual(
      audit.items.map((a) => [a.user, a.outcome]),
      [['agent', 'ok']],
    );
  });

  it('raises shares.ad.join when the machine account is deleted on the DC, and clears it after a new join', async () => {
    assert.deepEqual(await activeAlerts(), []);
    dc.tool('computer', 'delete', NAME);
    const [a] = await until('the alert', async () =>
      (await activeAlerts()).length ? await activeAlerts() : undefined,
    );
    assert.match(a?.title ?? '', /join to CALYPSO\.TEST is broken/);
    const s = await t.call<{ joined: boolean; detail: string }>('shares.directory.ad.status');
    assert.equal(s.joined, false);
    assert.match(s.detail, /no longer knows this machine’s account/);
    const j = await job('shares.directory.ad.join', joinParams());
    assert.equal(j.state, 'success', j.error?.message);
    assert.deepEqual(await activeAlerts(), []);
  });

  it('leaves: the DC forgets the machine, smb.conf is standalone again, the keytab gone', async () => {
    // a share naming a domain group: the leave is refused before the DC is told (dry run and job alike)
    await assert.rejects(
      t.call('shares.directory.ad.leave', {
        user: 'Administrator',
        password: dc.adminPassword,
        dryRun: true,
      }),
      /shares domvalid \(CALYPSO\\Domain Admins\) name domain users or groups/,
    );
    const refused = await job('shares.directory.ad.leave', {
      user: 'Administrator',
      password: dc.adminPassword,
    });
    assert.equal(refused.state, 'failed');
    assert.match(
      refused.error?.message ?? '',
      /take them out of validUsers, validGroups, readList and writeList first/,
    );
    assert.equal((await t.call<{ configured: boolean }>('shares.directory.ad.status')).configured, true);
    await t.call('shares.update', { name: 'domvalid', set: { validGroups: [] } });
    const dry = await t.call<Plan>('shares.directory.ad.leave', {
      user: 'Administrator',
      password: dc.adminPassword,
      dryRun: true,
    });
    ran.length = 0;
    const j = await job('shares.directory.ad.leave', { user: 'Administrator', password: dc.adminPassword });
    assert.equal(j.state, 'success', j.error?.message);
    const r = j.result as { left: boolean; commands: string[][] };
    assert.equal(r.left, true);
    assert.deepEqual(r.commands, dry.commands);
    assert.doesNotMatch(dc.tool('computer', 'list'), new RegExp(`${NAME}\\$`));
    const conf = (await t.call<{ smbConf: string }>('shares.status')).smbConf;
    assert.match(readFileSync(conf, 'utf8'), /security = user/);
    assert.equal((await t.call<{ configured: boolean }>('shares.directory.ad.status')).configured, false);
    await assert.rejects(inMember('wbinfo', '-p'), 'the member’s winbindd is stopped');
    // and the RPC helpers winbindd and smbd started on demand (they leave its process group)
    assert.deepEqual(
      processesReferring(conf).filter((p) => /winbindd|dcerpcd|rpcd_/.test(p.name)),
      [],
      'no Samba helper of the agent’s smb.conf left',
    );
  });
});
