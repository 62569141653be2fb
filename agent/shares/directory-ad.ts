/**
 * Active Directory membership of the shares (issue #26): `shares.directory.ad.join` and `.leave`
 * as jobs whose failure names the step that failed (directory-ad-steps.ts), `.status`, and the
 * standing health check — `net ads testjoin` every `healthIntervalSec` — that raises
 * `shares.ad.join` when the join breaks and clears it when it is back. The [global] lines go
 * through the shares' managed-config pipeline (testparm checks them); the admin password is a
 * secret param: never in an argv, never stored, logged or audited.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { failed, invalid, RpcError, unavailable } from '../../rpc/errors.js';
import { type AnyMethodDef, type CallContext, type DryRunPlan, defineMethod } from '../../rpc/registry.js';
import {
  dcSrvName,
  dnsProblem,
  type ResolveSrv,
  resolveSrv as systemResolveSrv,
} from './directory-ad-dns.js';
import { AD_ALERT, AdHealth } from './directory-ad-health.js';
import {
  AD_USER_PATTERN,
  type AdPaths,
  type AdState,
  AdStateSchema,
  HEALTH_INTERVAL_SEC,
  idmapOverlaps,
  idmapRangesOf,
  loginDefsRange,
  type NamedRange,
  renderKrb5Conf,
} from './directory-ad-model.js';
import {
  infoField,
  keytabPrincipals,
  kinitProblem,
  netAdsProblem,
  serverTimeOf,
  testjoinOf,
} from './directory-ad-parse.js';
import { AD_LOCK, WINBIND_ALERT, WinbindReviver } from './directory-ad-revive.js';
import {
  type AdArgv,
  envOf,
  infoArgv,
  type JoinStep,
  joinArgv,
  joinNotes,
  joinPlan,
  kdestroyArgv,
  keytabArgv,
  kinitArgv,
  klistArgv,
  leaveArgv,
  MAX_SKEW_MS,
  removeKeytabArgv,
  testjoinArgv,
} from './directory-ad-steps.js';
import { type DomainLookup, domainLookup, domainNameList } from './directory-ad-users.js';
import type { SharesMethodsContext } from './methods-shares.js';
import { domainNamesOf, type SharesState } from './model.js';
import { Winbindd, winbinddArgv } from './winbind.js';

/** The most names one call answers. */
const NAMES_MAX = 1000;

const INSTALL =
  'install Debian’s samba-common-bin, winbind and krb5-user (apt-get install winbind krb5-user)';

export interface AdContext extends SharesMethodsContext {
  conf: string;
  paths: AdPaths;
  /** the smb.conf a state renders (the idmap check reads its ranges) */
  render(state: SharesState): string;
  resolveSrv?: ResolveSrv;
  /** once the member's winbindd answers (the role mapping reads its domain groups again) */
  afterWinbind?: () => Promise<void>;
}

const Password = Type.String({
  minLength: 1,
  maxLength: 256,
  pattern: '^[^\\r\\n]*$',
  description: 'the password of user (read once, never stored, logged or audited)',
});
const User = Type.String({
  pattern: AD_USER_PATTERN,
  description: 'an account that may add computers (Administrator)',
});

const StepReport = Type.Object({
  name: Type.String(),
  ok: Type.Boolean(),
  detail: Type.String(),
});

const JoinResult = Type.Object({
  realm: Type.String(),
  workgroup: Type.String(),
  steps: Type.Array(StepReport),
  commands: Type.Array(Type.Array(Type.String()), { description: 'argv run, in order' }),
});

export interface AdMember {
  methods: AnyMethodDef[];
  health: AdHealth;
  winbindd: Winbindd;
  /** domain users and groups through the member's winbindd (wbinfo) */
  domain: DomainLookup;
  /** at the agent's start: the member's winbindd when the shares are a domain member */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function adMethods(c: AdContext): AdMember {
  const { deps } = c;
  const timeoutMs = c.cfg.commandTimeoutSec * 1000;
  const a: AdArgv = { conf: c.conf, paths: c.paths };
  const lookup = c.resolveSrv ?? systemResolveSrv;
  const winbindd = new Winbindd(deps, c.conf, () => envOf(a));

  deps.capabilities.declare({
    name: 'ad-member',
    bins: ['net', 'kinit', 'klist', 'testparm', 'winbindd', 'wbinfo'],
    versionArgs: ['--version'],
    versionFrom: /Version (\S+)/,
  });

  /** The local uid ranges an idmap range must not meet. */
  async function localRanges(): Promise<NamedRange[]> {
    const defs = await readFile(path.join(deps.sysroot, 'etc/login.defs'), 'utf8').catch(() => '');
    const users = loginDefsRange(defs);
    return [
      { what: 'system accounts', min: 0, max: 999 },
      ...(users ? [{ what: 'local users (login.defs UID_MIN–UID_MAX)', ...users }] : []),
      {
        what: 'shares’ local users (shares.accounts)',
        min: c.cfg.accounts.uidMin,
        max: c.cfg.accounts.uidMax,
      },
      { what: 'nobody', min: 65534, max: 65534 },
    ];
  }

  async function writeKrb5(ad: AdState): Promise<void> {
    await mkdir(c.paths.private, { recursive: true, mode: 0o700 });
    const text = renderKrb5Conf(ad, c.paths);
    if ((await readFile(c.paths.krb5conf, 'utf8').catch(() => '')) !== text)
      await writeFile(c.paths.krb5conf, text, { mode: 0o644 });
  }

  /** `stdin`: the password on kinit's stdin; `password`: in net's environment (PASSWD). */
  const run = (argv: string[], ctx: CallContext | undefined, o: { password?: string; stdin?: string } = {}) =>
    deps.runner.run(argv, {
      timeoutMs,
      okCodes: [0, 1, 2, 255],
      env: envOf(a, o.password),
      ...(o.stdin !== undefined ? { input: `${o.stdin}\n` } : {}),
      ...(ctx ? { signal: ctx.signal } : {}),
    });

  async function testjoin(): Promise<{ joined: boolean; detail: string }> {
    const ad = c.state().ad;
    if (!ad) return { joined: false, detail: 'not joined to a domain' };
    await writeKrb5(ad);
    const r = await run(testjoinArgv(a), undefined);
    return testjoinOf(`${r.stdout}\n${r.stderr}`, r.code);
  }

  const reviver = new WinbindReviver({
    deps,
    alerts: deps.alerts,
    winbindd,
    realm: () => c.state().ad?.realm,
    ...(c.afterWinbind ? { after: c.afterWinbind } : {}),
  });
  const health = new AdHealth({
    alerts: deps.alerts,
    intervalMs: () => (c.state().ad?.healthIntervalSec ?? HEALTH_INTERVAL_SEC) * 1000,
    configured: () => c.state().ad,
    testjoin,
    revive: () => reviver.check(),
  });

  async function requireTools(): Promise<void> {
    try {
      await deps.capabilities.require('ad-member');
    } catch (err) {
      throw unavailable(`Active Directory tools are not available: ${(err as Error).message}; ${INSTALL}`, {
        reason: (err as Error).message,
        install: 'winbind krb5-user',
      });
    }
  }

  const JoinParams = Type.Object(
    {
      ...AdStateSchema.properties,
      user: User,
      password: Password,
      registerDns: Type.Optional(
        Type.Boolean({
          description: 'let net ads join register this machine in the domain’s DNS (default false)',
        }),
      ),
    },
    { additionalProperties: false },
  );

  async function join(p: typeof JoinParams.static, ctx: CallContext): Promise<unknown> {
    const { user, password, registerDns, ...rest } = p;
    const ad: AdState = { ...rest, realm: rest.realm.toUpperCase(), workgroup: rest.workgroup.toUpperCase() };
    const steps: { name: string; ok: boolean; detail: string }[] = [];
    const commands: string[][] = [];
    const previous = c.state().ad;
    let configured = false;
    const step = async (name: JoinStep, i: number, fn: () => Promise<string>) => {
      ctx.progress(Math.round((i / 9) * 100), name);
      try {
        const detail = await fn();
        steps.push({ name, ok: true, detail });
      } catch (err) {
        const msg = (err as Error).message;
        steps.push({ name, ok: false, detail: msg });
        if (configured)
          // back to the configuration before the join (a member that is not one serves nobody)
          await c
            .change(
              { ...ctx, commitAudit: undefined },
              `shares.directory.ad.join failed at ${name}: configuration put back`,
              (cur) => ({
                state: { ...cur, ad: previous },
              }),
            )
            .catch(() => {});
        const kind = err instanceof RpcError && err.kind !== 'failed' ? err.kind : 'failed';
        // the job's error names the step: `<step>: <what went wrong>`
        throw new RpcError(kind, `${name}: ${msg}`, { step: name, steps });
      }
    };
    const ran = async (argv: string[], o: { password?: string; stdin?: string } = {}) => {
      const r = await run(argv, ctx, o);
      commands.push(argv);
      return r;
    };

    // the idmap check reads the smb.conf the join would render: the dry run makes it too
    const next = { ...c.state(), ad };
    const overlaps = idmapOverlaps(idmapRangesOf(c.render(next)), await localRanges());
    if (ctx.dryRun) {
      if (overlaps.length)
        throw invalid(`idmap range overlap: ${overlaps.join('; ')}`, { step: 'idmap range overlap' });
      const plan = (await c.change(ctx, `shares.directory.ad.join ${ad.realm}`, (cur) => ({
        state: { ...cur, ad },
      }))) as DryRunPlan;
      return {
        dryRun: true,
        commands: joinPlan(a, ad, user, !!registerDns, plan.commands),
        files: plan.files,
        notes: [...joinNotes(ad, user, ad.dnsServer), ...(plan.notes ?? [])],
      } satisfies DryRunPlan;
    }
    await step('idmap range overlap', 0, async () => {
      if (overlaps.length) throw invalid(overlaps.join('; '));
      return 'no overlap';
    });
    await requireTools();
    await step('DNS SRV', 1, async () => {
      const name = dcSrvName(ad.realm);
      try {
        const dcs = await lookup(name, ad.dnsServer);
        if (!dcs.length) throw new Error('no record');
        return `${name}: ${dcs.map((d) => `${d.name}:${d.port}`).join(', ')}`;
      } catch (err) {
        throw failed(
          `no domain controller of ${ad.realm} in DNS: ${name} through ${ad.dnsServer ?? 'the system’s DNS server'}: ${dnsProblem((err as { code?: string }).code) || (err as Error).message}`,
        );
      }
    });
    await writeKrb5(ad);
    await step('configuration', 2, async () => {
      const r = (await c.change(ctx, `shares.directory.ad.join ${ad.realm}`, (cur) => ({
        state: { ...cur, ad },
      }))) as { commands: string[][]; changed: string[] };
      configured = true;
      commands.push(...r.commands);
      return `smb.conf: security = ads, realm ${ad.realm}`;
    });
    await step('clock skew', 3, async () => {
      const r = await ran(infoArgv(a));
      const out = `${r.stdout}\n${r.stderr}`;
      const t = serverTimeOf(out);
      if (r.code !== 0 || t === undefined) throw failed(`the DC’s time is unknown: ${netAdsProblem(out)}`);
      const skew = deps.clock.now() - t;
      const mins = (Math.abs(skew) / 60_000).toFixed(1);
      if (Math.abs(skew) > MAX_SKEW_MS)
        throw failed(
          `this machine’s clock is ${mins} minutes ${skew > 0 ? 'ahead of' : 'behind'} the DC ${infoField(out, 'LDAP server name') ?? ''} (Kerberos allows 5): set the time (NTP) and join again`,
        );
      return `${mins} minutes apart`;
    });
    await step('credentials', 4, async () => {
      const r = await ran(kinitArgv(a, ad, user), { stdin: password });
      await ran(kdestroyArgv(a));
      if (r.code !== 0) throw failed(kinitProblem(`${r.stdout}\n${r.stderr}`, user, ad.realm));
      return `a ticket for ${user}@${ad.realm}`;
    });
    await step('join', 5, async () => {
      const r = await ran(joinArgv(a, user, !!registerDns), { password });
      if (r.code !== 0) throw failed(netAdsProblem(`${r.stdout}\n${r.stderr}`));
      return r.stdout.trim().split('\n').at(-1) ?? 'joined';
    });
    await step('keytab', 6, async () => {
      const k = await ran(keytabArgv(a));
      if (k.code !== 0) throw failed(`net ads keytab create: ${netAdsProblem(`${k.stdout}\n${k.stderr}`)}`);
      const l = await ran(klistArgv(a));
      const host = keytabPrincipals(l.stdout).filter(
        (x) => /^host\//i.test(x) && x.toUpperCase().endsWith(`@${ad.realm}`),
      );
      if (!host.length) throw failed(`${c.paths.keytab} holds no host/ principal of ${ad.realm}`);
      return host.join(', ');
    });
    await step('test join', 7, async () => {
      const r = await ran(testjoinArgv(a));
      const t = testjoinOf(`${r.stdout}\n${r.stderr}`, r.code);
      if (!t.joined) throw failed(t.detail);
      return t.detail;
    });
    await step('winbind', 8, async () => {
      // a winbindd of an earlier join holds the old machine password: start it afresh
      await winbindd.stop();
      commands.push(winbinddArgv(c.conf));
      try {
        await winbindd.start();
      } catch (err) {
        await winbindd.stop();
        throw failed((err as Error).message);
      }
      await c.afterWinbind?.().catch(() => {});
      return 'winbindd answers (wbinfo -p)';
    });
    await deps.alerts.clear(AD_ALERT);
    await deps.alerts.clear(WINBIND_ALERT);
    health.kick();
    return { realm: ad.realm, workgroup: ad.workgroup, steps, commands };
  }

  const listNames = domainNameList(deps.runner, timeoutMs, () => deps.clock.now());

  const methods: AnyMethodDef[] = [
    defineMethod({
      name: 'shares.directory.ad.join',
      summary:
        'Join an Active Directory domain (net ads join): DNS SRV, clock skew, idmap ranges, credentials, keytab, each step named when it fails',
      params: JoinParams,
      result: JoinResult,
      role: 'admin',
      mutating: true,
      secretParams: ['password'],
      job: { lock: () => AD_LOCK, title: (p) => `join ${p.realm.toUpperCase()}` },
      handler: (p, ctx) => join(p, ctx) as never,
    }),
    defineMethod({
      name: 'shares.directory.ad.leave',
      summary: 'Leave the Active Directory domain (net ads leave), then drop security = ads and the keytab',
      params: Type.Object(
        {
          user: User,
          password: Type.Optional(Password),
          force: Type.Optional(
            Type.Boolean({ description: 'drop the membership even when the DC cannot be told (it is gone)' }),
          ),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({
        realm: Type.String(),
        left: Type.Boolean({ description: 'the DC removed the machine account' }),
        detail: Type.String(),
        commands: Type.Array(Type.Array(Type.String())),
      }),
      role: 'admin',
      mutating: true,
      secretParams: ['password'],
      job: { lock: () => AD_LOCK, title: () => 'leave the domain' },
      handler: async (p, ctx) => {
        const ad = c.state().ad;
        if (!ad) throw invalid('not joined to a domain: nothing to leave');
        if (p.password === undefined && !p.force) throw invalid('the password of user is needed (or force)');
        // a standalone server resolves no domain name: the shares that name one are changed first
        const naming = c.state().shares.filter((s) => domainNamesOf(s).length);
        if (naming.length)
          throw invalid(
            `shares ${naming.map((s) => `${s.name} (${domainNamesOf(s).join(', ')})`).join('; ')} name domain users or groups: take them out of validUsers, validGroups, readList and writeList first (shares.update); nothing was changed`,
            { shares: naming.map((s) => s.name) },
          );
        const drop = (cur: SharesState) => {
          const { ad: _gone, ...rest } = cur;
          return { state: rest };
        };
        if (ctx.dryRun) {
          const plan = (await c.change(ctx, 'shares.directory.ad.leave', drop)) as DryRunPlan;
          return {
            dryRun: true,
            commands: [
              ...(p.password !== undefined ? [leaveArgv(a, p.user)] : []),
              ...plan.commands,
              removeKeytabArgv(a),
            ],
            files: plan.files,
            notes: [...(plan.notes ?? []), 'the member’s winbindd is stopped'],
          } satisfies DryRunPlan;
        }
        await requireTools();
        const commands: string[][] = [];
        let left = false;
        let detail = 'the DC was not told (force)';
        if (p.password !== undefined) {
          await writeKrb5(ad);
          const r = await run(leaveArgv(a, p.user), ctx, { password: p.password });
          commands.push(leaveArgv(a, p.user));
          left = r.code === 0;
          detail = left ? `left ${ad.realm}` : netAdsProblem(`${r.stdout}\n${r.stderr}`);
          if (!left && !p.force) throw failed(`leave: ${detail}`, { step: 'leave' });
        }
        // no domain, no winbindd
        await winbindd.stop();
        const r = (await c.change(ctx, 'shares.directory.ad.leave', drop)) as { commands: string[][] };
        commands.push(...r.commands);
        await deps.runner.run(removeKeytabArgv(a), { timeoutMs });
        commands.push(removeKeytabArgv(a));
        await rm(c.paths.krb5conf, { force: true });
        await deps.alerts.clear(AD_ALERT);
        await deps.alerts.clear(WINBIND_ALERT);
        return { realm: ad.realm, left, detail, commands };
      },
    }),
    defineMethod({
      name: 'shares.directory.ad.names',
      summary:
        'The joined domain’s users or groups, as winbind names them (DOMAIN\\name): the names a share’s valid users, groups and lists take',
      params: Type.Object(
        {
          kind: Type.Union([Type.Literal('users'), Type.Literal('groups')]),
          contains: Type.Optional(
            Type.String({
              maxLength: 64,
              pattern: '^[^\\u0000-\\u001f]*$',
              description: 'only names holding this text (case ignored)',
            }),
          ),
          limit: Type.Optional(
            Type.Integer({ minimum: 1, maximum: NAMES_MAX, description: `at most this many (default 200)` }),
          ),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({
        items: Type.Array(Type.String()),
        total: Type.Integer({ description: 'names that matched, of which items holds the first `limit`' }),
      }),
      role: 'auditor',
      mutating: false,
      handler: async (p) => {
        const ad = c.state().ad;
        if (!ad) throw invalid('not joined to a domain: there are no domain users or groups to list');
        await requireTools();
        if (!winbindd.running())
          throw unavailable(
            'the member’s winbindd is not running (the health check starts it again within its interval): the domain’s names cannot be listed now',
          );
        const all = await listNames(p.kind, ad.workgroup);
        const needle = p.contains?.toLowerCase();
        const hits = needle ? all.filter((n) => n.toLowerCase().includes(needle)) : all;
        return { items: hits.slice(0, p.limit ?? 200), total: hits.length };
      },
    }),
    defineMethod({
      name: 'shares.directory.ad.status',
      summary: 'The Active Directory membership: the realm, and whether the join holds (net ads testjoin)',
      params: Type.Object({}, { additionalProperties: false }),
      result: Type.Object({
        configured: Type.Boolean({ description: 'smb.conf says security = ads' }),
        realm: Type.Optional(Type.String()),
        workgroup: Type.Optional(Type.String()),
        joined: Type.Boolean(),
        detail: Type.String(),
        tools: Type.Object(
          {
            available: Type.Boolean(),
            reason: Type.Optional(Type.String({ description: 'what is missing, and what to install' })),
          },
          { description: 'whether a join can run here (winbind, net, kinit)' },
        ),
      }),
      role: 'auditor',
      mutating: false,
      handler: async () => {
        const ad = c.state().ad;
        if (!ad) {
          // not a member: the page offers the join only where it can run
          const tools = await requireTools().then(
            () => ({ available: true }),
            (err: unknown) => ({ available: false, reason: (err as Error).message }),
          );
          return { configured: false, joined: false, detail: 'not joined to a domain', tools };
        }
        await requireTools();
        const t = await health.check();
        return {
          configured: true,
          realm: ad.realm,
          workgroup: ad.workgroup,
          ...t,
          tools: { available: true },
        };
      },
    }),
  ];
  return {
    methods,
    health,
    winbindd,
    domain: domainLookup(deps.runner, timeoutMs),
    async start() {
      const ad = c.state().ad;
      if (!ad) return;
      await writeKrb5(ad);
      await winbindd
        .start()
        .then(() => c.afterWinbind?.())
        .catch((err) => deps.log.warn({ err: (err as Error).message }, 'shares: the member’s winbindd'));
    },
    stop: () => winbindd.stop(),
  };
}
