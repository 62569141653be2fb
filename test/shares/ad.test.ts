/**
 * Active Directory join against a real Samba AD DC (sandbox/samba-dc.ts): provisioned under a
 * prefix and run in namespaces of its own (its ports 53/88/389/445 never on the host's network).
 * The agent's tools (net ads, kinit, klist, testparm) run in the DC's network and mount
 * namespaces through a runner that puts `nsenter` before each argv, and the join's DNS lookup is
 * the agent's own module run there too; everything else is the real agent. Each failing step is
 * provoked for real and named: idmap range overlap (a range over the shares' users), DNS SRV (a
 * realm the DNS server does not know), clock skew (the agent's clock 10 minutes ahead), credentials
 * (a wrong password); then a join that passes every step, the dry run listing exactly what it ran,
 * the password nowhere (argv, audit, prefix), the standing check raising `shares.ad.join` once the
 * machine account is deleted on the DC and clearing it after a new join, and a leave.
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
import { type SambaDc, sambaDcMissing, startSambaDc } from '../../sandbox/samba-dc.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';

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
let t: TestAgent;
let skewMs = 0;
/** what the agent ran, as it asked (without the nsenter before it) */
const ran: string[][] = [];
const hostKeytab = existsSync('/etc/krb5.keytab');

/** The agent's runner, each command in the DC's namespaces. */
function inDc(inner: Runner): Runner {
  return {
    run: (argv, o) => {
      ran.push([...argv]);
      return inner.run(dc.wrap(argv), { ...o, shownArgv: argv });
    },
    spawn: (argv, o) => inner.spawn(dc.wrap(argv), { ...o, shownArgv: argv }),
    which: (n) => inner.which(n),
  };
}

/** The agent's own DNS module, run in the DC's network namespace. */
const resolveInDc: ResolveSrv = async (name, server) => {
  const here = import.meta.url;
  const mod = new URL(`../../agent/shares/directory-ad-dns.${here.endsWith('.ts') ? 'ts' : 'js'}`, here).href;
  const code = `import(${JSON.stringify(mod)}).then((m) => m.resolveSrv(${JSON.stringify(name)}, ${JSON.stringify(server ?? null) === 'null' ? 'undefined' : JSON.stringify(server)})).then((r) => console.log(JSON.stringify({ r })), (e) => console.log(JSON.stringify({ code: e.code, message: e.message })))`;
  const { stdout } = await run(
    'nsenter',
    [
      '-t',
      String(dc.pid),
      '-n',
      '--',
      process.execPath,
      ...(here.endsWith('.ts') ? ['--import', 'tsx'] : []),
      '-e',
      code,
    ],
    { timeout: 30_000 },
  );
  const o = JSON.parse(stdout) as { r?: { name: string; port: number }[]; code?: string; message?: string };
  if (o.r) return o.r;
  throw Object.assign(new Error(o.message), { code: o.code });
};

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

describe('Active Directory join against a real Samba AD DC', { skip: missing, timeout: 600_000 }, () => {
  before(async () => {
    dc = await startSambaDc();
    try {
      t = await startTestAgent({
        services: [{ ...sharesSubsystem, service: createSharesService({ resolveSrv: resolveInDc }) }],
        runner: inDc(createRunner()),
        clock: { now: () => Date.now() + skewMs },
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
      ].map((n) => [n, true]),
    );
    assert.match(r.steps[1]?.detail ?? '', /dc1\.calypso\.test:389/);
    assert.match(r.steps[6]?.detail ?? '', new RegExp(`host/${NAME}@CALYPSO.TEST`, 'i'));
    assert.deepEqual(r.commands, plan.commands, 'the dry run lists what the real run ran');
    // (and the pipeline's read-only probe whether an smbd runs to reload: `smbcontrol … ping`)
    assert.deepEqual(
      ran.filter((a) => !(a[0] === 'smbcontrol' && a.at(-1) === 'ping')),
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
  });
});
