/**
 * An LDAP server as the directory of share users and groups (issue #26): its settings in the
 * managed-config pipeline (target `directory`, rendering sssd.conf's [domain/calypso], checked
 * by `sssctl config-check`), the bind password in secrets.env, a connect job whose failure
 * names the step, the directory's users and groups listed, and a standing health check that
 * raises `shares.directory:ldap` when the directory stops answering and clears it when it comes
 * back. In production sssd (pointed at the rendered file) and nsswitch give these users to
 * smbd; the agent never edits the machine's nsswitch.conf or /etc/sssd itself.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { invalid, unavailable } from '../../rpc/errors.js';
import { type AnyMethodDef, type CallContext, defineMethod } from '../../rpc/registry.js';
import { appliedOf, changeState, planOf } from '../config-set/change.js';
import type { ConfigTarget, ManagedConfig, Step } from '../config-set/index.js';
import type { Change } from '../config-set/types.js';
import type { AgentDeps } from '../deps.js';
import type { AccountDb } from './accounts.js';
import {
  type ConnectResult,
  connectSteps,
  type DirectoryGroup,
  type DirectoryUser,
  hostPortOf,
  type StepName,
} from './directory-ldap-client.js';
import {
  BindPasswordSchema,
  checkDirectory,
  type DirectoryState,
  DnSchema,
  EMPTY_DIRECTORY,
  LDAP_SECRET_KEY,
  type LdapSettings,
  LdapUriSchema,
  redactSssdConf,
  renderSssdConf,
} from './directory-ldap-model.js';
import { CaCertInputSchema, CertError, caPemOf, checkTls } from './directory-ldap-tls.js';
import { ApplyResult } from './methods-shares.js';

export const LDAP_ALERT = 'shares.directory:ldap';
const INSTALL = 'install Debian’s ldap-utils package (apt-get install ldap-utils)';
/** How often the standing health check binds. */
export const HEALTH_INTERVAL_MS = 60_000;

export interface SssdPaths {
  conf: string;
  snippets: string;
  /** the directory's CA (PEM), when one is configured */
  ca: string;
}

export function sssdPaths(generatedDir: string): SssdPaths {
  return {
    conf: path.join(generatedDir, 'sssd.conf'),
    snippets: path.join(generatedDir, 'conf.d'),
    ca: path.join(generatedDir, 'ldap-ca.pem'),
  };
}

/** sssctl's findings in a file it nevertheless may answer 1 for (a missing snippet directory). */
export function sssctlStep(p: SssdPaths, timeoutMs: number): Step {
  return {
    argv: ['sssctl', 'config-check', '-c', p.conf, '-s', p.snippets],
    timeoutMs,
    okCodes: [0, 1],
    check: (r) => {
      const out = `${r.stdout}\n${r.stderr}`;
      const issues = /Issues identified by validators: (\d+)/.exec(out);
      if (r.code === 0 && issues?.[1] === '0') return;
      const lines = out
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !/^(Issues identified|Messages generated|Used configuration)/.test(l));
      throw invalid(`sssctl refuses the rendered sssd.conf: ${lines.join('; ') || `exit ${r.code}`}`, {
        sssctl: lines,
      });
    },
  };
}

/** An sssd process started on this very file (`sssd -c <file>`): never the machine's own sssd. */
async function sssdRunsOn(conf: string, sysroot: string): Promise<boolean> {
  const proc = path.join(sysroot, 'proc');
  for (const e of await readdir(proc).catch(() => [] as string[])) {
    if (!/^\d+$/.test(e)) continue;
    const cmd = await readFile(path.join(proc, e, 'cmdline'), 'utf8').catch(() => '');
    const argv = cmd.split('\0');
    if (path.basename(argv[0] ?? '') === 'sssd' && argv.includes(conf)) return true;
  }
  return false;
}

export function directoryTarget(
  deps: AgentDeps,
  p: SssdPaths,
  timeoutMs: number,
): ConfigTarget<DirectoryState> {
  // sssctl insists on a root-owned 0600 file: an unprivileged agent (the demo) checks with the schema only
  const canCheck = () => process.getuid?.() === 0 && !!deps.runner.which('sssctl');
  return {
    name: 'directory',
    initial: () => EMPTY_DIRECTORY,
    render: (s) =>
      new Map([
        [p.conf, s.ldap ? renderSssdConf(s.ldap, deps.secrets.get(LDAP_SECRET_KEY), p.ca) : undefined],
        [p.ca, s.ldap?.caCert],
      ]),
    redact: (text) => redactSssdConf(text),
    // sssd refuses to start on a file others can read (the CA is public)
    mode: (file) => (file === p.ca ? 0o644 : 0o600),
    prepare: async () => {
      await mkdir(p.snippets, { recursive: true, mode: 0o755 });
    },
    validate: ({ state }) => (state.ldap && canCheck() ? [sssctlStep(p, timeoutMs)] : []),
    activate: ({ changed }) =>
      changed.includes(p.conf)
        ? [
            {
              argv: ['systemctl', 'try-restart', 'sssd.service'],
              timeoutMs,
              when: { describe: 'an sssd runs on this file', test: () => sssdRunsOn(p.conf, deps.sysroot) },
            },
          ]
        : [],
  };
}

/**
 * The server's certificate against the CA given: a certificate problem refuses the change
 * (`invalid`, naming it); a server that does not answer now does not (the connect job says why).
 */
async function refuseWrongCa(l: LdapSettings): Promise<void> {
  const { host, port } = hostPortOf(l.uri);
  try {
    await checkTls({ host, port, startTls: l.startTls, ca: l.caCert, timeoutMs: 10_000 });
  } catch (e) {
    if (e instanceof CertError) throw invalid(`caCert: ${l.uri}: ${e.message}`, { step: 'tls' });
  }
}

export interface LdapDirectory {
  methods: AnyMethodDef[];
  start(): void;
  stop(): Promise<void>;
  /** the last groups the directory answered (the role mapping's gids) */
  groups(): DirectoryGroup[];
  /** the local accounts with the directory's added (the access matrix) */
  withDirectory(db: AccountDb): Promise<AccountDb>;
  managed: ManagedConfig<DirectoryState>;
  change(
    ctx: CallContext,
    summary: string,
    fn: (cur: DirectoryState) => Change<DirectoryState>,
  ): Promise<unknown>;
}

const Settings = {
  uri: LdapUriSchema,
  baseDn: { ...DnSchema, description: 'where the directory’s entries are (e.g. dc=example,dc=org)' },
  usersBase: Type.Optional({ ...DnSchema, description: 'where users are (default: the base DN)' }),
  groupsBase: Type.Optional({ ...DnSchema, description: 'where groups are (default: the base DN)' }),
  bindDn: {
    ...DnSchema,
    description: 'the account the appliance binds as (read access to users and groups)',
  },
};

const StepReportSchema = Type.Object({
  step: Type.Union(
    ['resolve', 'connect', 'tls', 'starttls', 'bind', 'users', 'groups'].map((s) =>
      Type.Literal(s as StepName),
    ),
  ),
  ok: Type.Boolean(),
  detail: Type.String({ description: 'what the step found, or its failure in the server’s words' }),
  ms: Type.Integer(),
});

export const DirectoryUserSchema = Type.Object({
  name: Type.String({ description: 'the user’s uid (what valid users name)' }),
  uid: Type.Integer(),
  gid: Type.Integer(),
  fullName: Type.Optional(Type.String()),
});
export const DirectoryGroupItem = Type.Object({
  name: Type.String({ description: 'the group’s cn (what valid groups name)' }),
  gid: Type.Integer(),
  members: Type.Array(Type.String()),
});

export function ldapDirectory(deps: AgentDeps, timeoutMs: number): LdapDirectory {
  deps.capabilities.declare({ name: 'ldap-utils', bins: ['ldapwhoami', 'ldapsearch'] });
  const paths = sssdPaths(deps.layout.generated('sssd'));
  const managed = deps.configSet.register(directoryTarget(deps, paths, timeoutMs));
  const state = () => managed.state();
  let lastGroups: DirectoryGroup[] = [];
  let lastUsers: DirectoryUser[] = [];
  let timer: NodeJS.Timeout | undefined;
  let checking: Promise<unknown> | undefined;

  async function change(
    ctx: CallContext,
    summary: string,
    fn: (cur: DirectoryState) => Change<DirectoryState>,
  ) {
    const r = await changeState(managed, ctx, summary, (cur) => fn(cur), { check: checkDirectory });
    return ctx.dryRun ? planOf(r) : appliedOf(r);
  }

  const settingsOrRefuse = (): LdapSettings => {
    const l = state().ldap;
    if (!l) throw invalid('no LDAP directory is configured: set one with shares.directory.ldap.set');
    return l;
  };

  async function requireTools(): Promise<void> {
    try {
      await deps.capabilities.require('ldap-utils');
    } catch (err) {
      throw unavailable(`the LDAP clients are not available: ${(err as Error).message}; ${INSTALL}`, {
        reason: (err as Error).message,
        install: 'ldap-utils',
      });
    }
  }

  /** The connect steps against the configured directory (all of them, or the health check's). */
  async function connect(o: {
    signal?: AbortSignal;
    health?: boolean;
    onStep?: (s: StepName, i: number, n: number) => void;
  }) {
    const settings = settingsOrRefuse();
    await requireTools();
    await mkdir(deps.layout.runDir, { recursive: true, mode: 0o755 });
    const r: ConnectResult = await connectSteps({
      settings,
      password: deps.secrets.get(LDAP_SECRET_KEY) ?? '',
      runner: deps.runner,
      tmpDir: deps.layout.runDir,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.onStep ? { onStep: o.onStep } : {}),
      ...(o.health ? { skipUsers: true } : {}),
      ...(settings.caCert ? { ca: { pem: settings.caCert, file: paths.ca } } : {}),
    });
    if (r.steps.some((s) => s.step === 'groups')) lastGroups = r.groups;
    if (r.steps.some((s) => s.step === 'users')) lastUsers = r.users;
    return r;
  }

  /** The standing check: bind and read the groups; raise the alert on failure, clear it on success. */
  async function healthCheck(): Promise<{ ok: boolean; step?: StepName; error?: string }> {
    if (!state().ldap) {
      await deps.alerts.clear(LDAP_ALERT);
      return { ok: true };
    }
    try {
      await connect({ health: true });
      await deps.alerts.clear(LDAP_ALERT);
      return { ok: true };
    } catch (e) {
      const err = e as Error & { data?: { step?: StepName } };
      const step = err.data?.step;
      await deps.alerts.raise({
        key: LDAP_ALERT,
        level: 'critical',
        source: 'shares',
        title: `Shares: the LDAP directory does not answer (${err.message})`,
        detail: `${state().ldap?.uri}: directory users cannot reach shares and directory groups grant no role until it answers again. Run shares.directory.ldap.connect for every step's words.`,
        data: { uri: state().ldap?.uri, ...(step ? { step } : {}), error: err.message },
      });
      return { ok: false, ...(step ? { step } : {}), error: err.message };
    }
  }

  const runCheck = () => {
    checking ??= healthCheck()
      .catch((e) => deps.log.warn({ err: (e as Error).message }, 'shares.directory: health check failed'))
      .finally(() => {
        checking = undefined;
      });
    return checking;
  };

  const methods: AnyMethodDef[] = [
    defineMethod({
      name: 'shares.directory.ldap.get',
      summary: 'The LDAP directory the shares use (never its password), and where sssd.conf is rendered',
      params: Type.Object({}, { additionalProperties: false }),
      result: Type.Object({
        configured: Type.Boolean(),
        settings: Type.Optional(
          Type.Object({
            ...Settings,
            startTls: Type.Boolean(),
            caCert: Type.Optional(Type.String({ description: 'the CA (PEM)' })),
          }),
        ),
        passwordSet: Type.Boolean({ description: 'a bind password is kept in secrets.env' }),
        sssdConf: Type.String({ description: 'the rendered sssd.conf (mode 0600)' }),
      }),
      role: 'auditor',
      mutating: false,
      handler: async () => {
        const l = state().ldap;
        return {
          configured: !!l,
          ...(l ? { settings: l } : {}),
          passwordSet: deps.secrets.has(LDAP_SECRET_KEY),
          sssdConf: paths.conf,
        };
      },
    }),
    defineMethod({
      name: 'shares.directory.ldap.set',
      summary: 'Use an LDAP server as the directory of share users and groups (renders sssd.conf)',
      description:
        'The settings go to the desired state, the bind password to secrets.env only; sssd.conf is rendered (0600) and checked with sssctl config-check. Run shares.directory.ldap.connect to test it step by step.',
      params: Type.Object(
        {
          ...Settings,
          startTls: Type.Optional(
            Type.Boolean({ description: 'StartTLS on an ldap:// connection (default false)' }),
          ),
          caCert: Type.Optional(CaCertInputSchema),
          bindPassword: Type.Optional(BindPasswordSchema),
        },
        { additionalProperties: false },
      ),
      result: ApplyResult,
      role: 'admin',
      mutating: true,
      secretParams: ['bindPassword'],
      handler: async (p, ctx) => {
        const { bindPassword, caCert, ...rest } = p;
        const ldap: LdapSettings = {
          ...rest,
          startTls: rest.startTls ?? false,
          ...(caCert !== undefined ? { caCert: await caPemOf(caCert) } : {}),
        };
        // a CA the server's certificate does not chain to is refused before anything changes
        if (ldap.caCert && (ldap.startTls || /^ldaps:/i.test(ldap.uri))) await refuseWrongCa(ldap);
        return (await change(ctx, `shares.directory.ldap.set ${ldap.uri}`, (cur) => {
          if (!bindPassword && !deps.secrets.has(LDAP_SECRET_KEY))
            throw invalid('the bind password is needed the first time (bindPassword)');
          return {
            state: { ...cur, ldap },
            secrets: bindPassword
              ? [
                  {
                    key: LDAP_SECRET_KEY,
                    value: bindPassword,
                    comment: `LDAP bind password of ${ldap.bindDn}`,
                  },
                ]
              : [],
          };
        })) as never;
      },
    }),
    defineMethod({
      name: 'shares.directory.ldap.delete',
      summary: 'Stop using the LDAP directory (sssd.conf and the bind password removed; role mappings kept)',
      params: Type.Object({}, { additionalProperties: false }),
      result: ApplyResult,
      role: 'admin',
      mutating: true,
      handler: async (_p, ctx) => {
        settingsOrRefuse();
        const r = await change(ctx, 'shares.directory.ldap.delete', (cur) => ({
          state: { roles: cur.roles },
          secrets: [{ key: LDAP_SECRET_KEY, value: undefined }],
        }));
        if (!ctx.dryRun) {
          lastGroups = [];
          lastUsers = [];
          await deps.alerts.clear(LDAP_ALERT);
        }
        return r as never;
      },
    }),
    defineMethod({
      name: 'shares.directory.ldap.connect',
      summary:
        'Test the directory step by step: resolve, TCP connect, StartTLS (when set), bind, search users, search groups',
      description:
        'A job; its failure names the step and carries the server’s words (“bind: invalid credentials (49)”).',
      params: Type.Object({}, { additionalProperties: false }),
      result: Type.Object({
        steps: Type.Array(StepReportSchema),
        users: Type.Integer(),
        groups: Type.Integer(),
        truncated: Type.Boolean({ description: 'a search met the size limit' }),
      }),
      role: 'operator',
      mutating: false,
      job: { lock: () => 'shares.directory', title: () => 'connect to the LDAP directory' },
      handler: async (_p, ctx) => {
        const r = await connect({
          signal: ctx.signal,
          onStep: (s, i, n) => ctx.progress((i / n) * 100, s),
        });
        await deps.alerts.clear(LDAP_ALERT);
        return { steps: r.steps, users: r.users.length, groups: r.groups.length, truncated: r.truncated };
      },
    }),
    defineMethod({
      name: 'shares.directory.ldap.check',
      summary:
        'Run the standing health check now (bind, read groups): raises or clears the shares.directory:ldap alert',
      params: Type.Object({}, { additionalProperties: false }),
      result: Type.Object({
        ok: Type.Boolean(),
        step: Type.Optional(Type.String({ description: 'the step that failed' })),
        error: Type.Optional(Type.String()),
      }),
      role: 'auditor',
      mutating: false,
      handler: async () => {
        await checking;
        return healthCheck();
      },
    }),
    defineMethod({
      name: 'shares.directory.user.list',
      summary: 'The directory’s users (posixAccount), searched now: names a share’s valid users may give',
      params: Type.Object({}, { additionalProperties: false }),
      result: Type.Object({ items: Type.Array(DirectoryUserSchema), total: Type.Integer() }),
      role: 'auditor',
      mutating: false,
      handler: async (_p, ctx) => {
        const r = await connect({ signal: ctx.signal });
        return { items: r.users, total: r.users.length };
      },
    }),
    defineMethod({
      name: 'shares.directory.group.list',
      summary: 'The directory’s groups (posixGroup) with their members, searched now',
      params: Type.Object({}, { additionalProperties: false }),
      result: Type.Object({ items: Type.Array(DirectoryGroupItem), total: Type.Integer() }),
      role: 'auditor',
      mutating: false,
      handler: async (_p, ctx) => {
        const r = await connect({ signal: ctx.signal });
        return { items: r.groups, total: r.groups.length };
      },
    }),
  ];

  return {
    methods,
    managed,
    change,
    groups: () => lastGroups,
    async withDirectory(db) {
      if (!state().ldap) return db;
      // fresh when the directory answers; the last answer otherwise
      await connect({}).catch(() => undefined);
      const users = new Set(db.users.map((u) => u.name));
      const groups = new Set(db.groups.map((g) => g.name));
      return {
        users: [
          ...db.users,
          ...lastUsers
            .filter((u) => !users.has(u.name))
            .map((u) => ({ name: u.name, uid: u.uid, gid: u.gid, home: '', shell: '' })),
        ],
        groups: [
          ...db.groups,
          ...lastGroups.filter((g) => !groups.has(g.name)).map((g) => ({ ...g, members: [...g.members] })),
        ],
      };
    },
    start() {
      if (state().ldap) void runCheck();
      timer = setInterval(() => void runCheck(), HEALTH_INTERVAL_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await checking;
    },
  };
}
