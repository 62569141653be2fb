/**
 * File shares: one desired state (model.ts) in the managed-config pipeline (target `shares`),
 * rendered as smb.conf (never Samba's registry), checked with testparm and taken into use with
 * smbcontrol reload-config; history, diff, restore and drift like iSCSI. Local share users and
 * groups go to the account backend (accounts.ts) and Samba's passdb. Share directories are
 * datasets under <pool>/calypso/shares through the zfs port when a pool is configured, plain
 * directories under the shares area otherwise.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { unavailable } from '../../rpc/errors.js';
import { type AnyMethodDef, type CallContext, defineMethod } from '../../rpc/registry.js';
import { configOf } from '../config.js';
import { appliedOf, changeOptions, changeState, planOf } from '../config-set/change.js';
import type { Effect } from '../config-set/index.js';
import { configMethods } from '../config-set/methods.js';
import type { Service, ServiceFactory, Subsystem } from '../deps.js';
import { DATASETS } from '../zfs/port.js';
import type { PathInfo } from './access.js';
import { type AccountBackend, nssWrapperAccounts, systemAccounts } from './accounts.js';
import { getfaclArgv, parseGetfacl } from './acl.js';
import { sharesConfig } from './config.js';
import { adMethods } from './directory-ad.js';
import type { ResolveSrv } from './directory-ad-dns.js';
import { adPathsOf } from './directory-ad-model.js';
import { isDomainName, withDomain } from './directory-ad-users.js';
import { ldapDirectory } from './directory-ldap.js';
import type { DirectoryGroup } from './directory-ldap-client.js';
import { directoryRoleMethods, gidRolesOf } from './directory-roles.js';
import { quotaDrift, quotaDriftItem, quotaFixes } from './drift-quota.js';
import { accountMethods } from './methods-accounts.js';
import { sessionMethods } from './methods-sessions.js';
import { ApplyResult, type SharesMethodsContext, shareMethods } from './methods-shares.js';
import { sharesMetrics } from './metrics.js';
import { checkShares, type SharesState } from './model.js';
import { EXPORTFS_V, parseExportfsV } from './parse-exportfs.js';
import { parseSmbstatusJson } from './parse-smbstatus.js';
import { checkExports, nfsShares } from './render-nfs.js';
import { renderSmbConf } from './render-smb.js';
import {
  exportsPathOf,
  hasNfs,
  hasSmb,
  sambaPaths,
  sharesTarget,
  smbdRunning,
  smbGlobals,
} from './target.js';

const INSTALL = 'install Debian’s samba package (apt-get install samba smbclient)';
const INSTALL_ACL = 'apt-get install acl';
const INSTALL_NFS = 'install Debian’s NFS server (apt-get install nfs-kernel-server)';

const DriftItem = Type.Object({
  kind: Type.Union(
    [Type.Literal('file'), Type.Literal('directory'), Type.Literal('export'), Type.Literal('quota')],
    {
      description:
        'export: an NFS export of the file missing from the kernel table (exportfs -v); quota: a share dataset’s refquota not the desired one',
    },
  ),
  what: Type.String(),
  detail: Type.String(),
  want: Type.Optional(Type.String({ description: 'quota: the desired quota ("20M", bytes or none)' })),
  have: Type.Optional(Type.String({ description: 'quota: the dataset’s refquota in bytes, or none' })),
});
type DriftEntry = typeof DriftItem.static;

/** A client of the file and one of the table: names aside from case, or a name the resolver made fully qualified. */
const sameClient = (want: string, have: string) =>
  want.toLowerCase() === have.toLowerCase() ||
  (!/[*?@/:]/.test(want) && /[a-z]/i.test(want) && have.toLowerCase().startsWith(`${want.toLowerCase()}.`));

/** `resolveSrv`: the AD join's DNS lookup (a test runs it inside the DC's network namespace). */
export function createSharesService(o: { resolveSrv?: ResolveSrv } = {}): ServiceFactory {
  return (deps): Service => {
    const cfg = configOf(deps.config, sharesConfig);
    const paths = sambaPaths(deps.layout);
    const timeoutMs = cfg.commandTimeoutSec * 1000;
    deps.capabilities.declare({
      name: 'samba',
      bins: ['smbd', 'testparm', 'smbcontrol', 'pdbedit'],
      versionArgs: ['--version'],
      versionFrom: /Version (\S+)/,
    });
    deps.capabilities.declare({ name: 'nfs-server', bins: ['exportfs'] });
    const exportsFile = exportsPathOf(cfg, deps.layout);
    const target = sharesTarget(cfg, paths, exportsFile);
    const managed = deps.configSet.register(target);
    const state = () => managed.state();
    const pathOf = (name: string) => path.join(deps.layout.data.shares, name);

    let accounts: AccountBackend | undefined;
    const accountsOf = (): AccountBackend => {
      if (accounts) return accounts;
      const a = cfg.accounts;
      if (a.backend === 'nss-wrapper') {
        if (!a.passwd || !a.group)
          throw unavailable('shares.accounts: the nss-wrapper backend needs its passwd and group files', {
            reason: 'passwd/group not configured',
          });
        accounts = nssWrapperAccounts({ passwd: a.passwd, group: a.group });
      } else accounts = systemAccounts(deps.runner, timeoutMs);
      return accounts;
    };

    async function requireSamba(): Promise<void> {
      try {
        await deps.capabilities.require('samba');
      } catch (err) {
        throw unavailable(`Samba is not available: ${(err as Error).message}; ${INSTALL}`, {
          reason: (err as Error).message,
          install: 'samba smbclient',
        });
      }
    }

    async function requireNfs(): Promise<void> {
      try {
        await deps.capabilities.require('nfs-server');
      } catch (err) {
        throw unavailable(`the NFS server is not available: ${(err as Error).message}; ${INSTALL_NFS}`, {
          reason: (err as Error).message,
          install: 'nfs-kernel-server',
        });
      }
    }

    /** What a state needs installed: Samba for SMB shares, exportfs for NFS shares (and to unexport the last). */
    async function requireFor(next: SharesState, previous: SharesState): Promise<void> {
      if (hasSmb(next) || hasSmb(previous)) await requireSamba();
      if (hasNfs(next) || hasNfs(previous)) await requireNfs();
    }

    /** nfsd runs: its threads file says how many threads serve (0 or absent: none). */
    const nfsdRunning = async () => {
      const t = await readFile(path.join(deps.sysroot, 'proc/fs/nfsd/threads'), 'utf8').catch(() => '0');
      return Number.parseInt(t, 10) > 0;
    };
    const sharesRoot = deps.layout.data.shares;
    const checkAll = (s: SharesState) => [...checkShares(s), ...checkExports(s, sharesRoot)];

    const readSmbstatus = async () => {
      const r = await deps.runner.run(['smbstatus', '-s', paths.conf, '--json'], { timeoutMs: 10_000 });
      const byPath = new Map(state().shares.map((s) => [s.path, s.name]));
      return { status: parseSmbstatusJson(r.stdout), shareOf: (dir: string) => byPath.get(dir) ?? dir };
    };
    // SMB sessions and open files per share for /metrics: no Samba or no smbd, no series
    deps.metrics.contribute(...sharesMetrics(readSmbstatus));

    // a dataset a share lives on is not destroyed from under it
    deps.usage.register('dataset', (name, recursive) =>
      state().shares.flatMap((s) =>
        s.dataset && (s.dataset === name || (recursive && s.dataset.startsWith(`${name}/`)))
          ? [`share ${s.name}`]
          : [],
      ),
    );

    async function change(
      ctx: CallContext,
      summary: string,
      fn: Parameters<SharesMethodsContext['change']>[2],
    ) {
      let pair: [SharesState, SharesState] | undefined;
      const r = await changeState(
        managed,
        ctx,
        summary,
        async (cur, u) => {
          const c = await fn(cur, u.dryRun);
          pair = [c.state, cur];
          return c;
        },
        // inside the lock, once the next state passed its check: what it needs must be installed
        { check: checkAll, requireChecked: () => requireFor(...(pair as [SharesState, SharesState])) },
      );
      if (pair && hasNfs(pair[0]) && !(await nfsdRunning()))
        r.notes.push('nfsd is not running: the exports take effect when nfs-kernel-server starts');
      return ctx.dryRun ? planOf(r) : appliedOf(r);
    }

    /** The share's directory: a dataset through the zfs port when a pool is configured, else mkdir. */
    async function provision(name: string, dryRun: boolean, protocols: ('smb' | 'nfs')[]) {
      const dir = pathOf(name);
      if (cfg.pool) {
        const datasets = deps.ports.need(DATASETS);
        const dataset = `${cfg.pool}/calypso/shares/${name}`;
        const p = await datasets.prepareShare({ name: dataset, mountpoint: dir, protocols, dryRun });
        return { effects: p.effects, dataset, notes: p.notes, snapshotDir: p.snapshotDir };
      }
      if (existsSync(dir))
        return { effects: [] as Effect[], notes: [`${dir} exists: shared as it is`], snapshotDir: false };
      return {
        effects: [{ argv: ['mkdir', '-p', '-m', '0775', '--', dir], undo: ['rmdir', '--', dir] }] as Effect[],
        notes: [],
        snapshotDir: false,
      };
    }

    /** The directory's ACLs through getfacl; without it the mode decides, and the cells say so. */
    const aclOf = async (dir: string): Promise<Pick<PathInfo, 'acl' | 'aclNote'>> => {
      if (!deps.runner.which('getfacl')) return { aclNote: `ACLs not read: no getfacl (${INSTALL_ACL})` };
      const r = await deps.runner.run(getfaclArgv(dir), { timeoutMs, okCodes: [0, 1] });
      if (r.code !== 0) return { aclNote: `ACLs not read: ${r.stderr.trim()}` };
      return { acl: parseGetfacl(r.stdout) };
    };

    const statOf = async (p: string, acl = true): Promise<PathInfo | undefined> => {
      try {
        const st = await stat(p);
        if (!st.isDirectory()) return undefined;
        const ancestors = [];
        for (let d = path.dirname(p); ; d = path.dirname(d)) {
          const a = await stat(d);
          ancestors.push({ path: d, uid: a.uid, gid: a.gid, mode: a.mode & 0o7777 });
          if (d === path.dirname(d)) break;
        }
        return {
          uid: st.uid,
          gid: st.gid,
          mode: st.mode & 0o7777,
          ancestors,
          ...(acl ? await aclOf(p) : {}),
        };
      } catch {
        return undefined;
      }
    };

    // an LDAP server as the directory of share users and groups, its groups → Calypso roles
    const directory = ldapDirectory(deps, timeoutMs);

    const sc = {
      deps,
      cfg,
      state,
      change,
      pathOf,
      provision,
      accounts: accountsOf,
      // the local accounts, the LDAP directory's, and the domain users and groups asked for (winbind)
      accessDb: async (names: { users: string[]; groups: string[] }) => {
        const db = await directory.withDirectory(await accountsOf().read());
        return state().ad && ad.winbindd.running() ? withDomain(db, ad.domain, names) : db;
      },
      stat: statOf,
      conf: paths.conf,
      // the datasets' space for shares.get/list: without the zfs subsystem (or zfs), none shown
      space: async (names: string[]) =>
        names.length && deps.ports.has(DATASETS)
          ? await deps.ports
              .need(DATASETS)
              .space(names)
              .catch(() => new Map())
          : new Map(),
      setQuota: (dataset: string, quota: string | number | null, previous: string | number | null) =>
        deps.ports.need(DATASETS).setQuota(dataset, quota, previous),
    };

    /**
     * The file's exports missing from the table nfsd serves (`exportfs -v`, i.e. etab): one removed by
     * hand with `exportfs -u` while the file is intact. Only while nfsd runs (before, nothing is served
     * and the file is read when it starts); shares.apply runs `exportfs -ra`, which puts them back.
     */
    async function exportDrift() {
      const want = nfsShares(state());
      if (!want.length || !deps.runner.which('exportfs') || !(await nfsdRunning())) return [];
      const table = parseExportfsV((await deps.runner.run(EXPORTFS_V, { timeoutMs })).stdout);
      return want.flatMap((s) =>
        s.nfsClients
          .filter((c) => !table.some((e) => e.path === s.path && sameClient(c.host, e.client)))
          .map((c) => ({
            kind: 'export' as const,
            what: `${s.path} ${c.host}`,
            detail: `share ${s.name}: in the exports file, not in the kernel's export table (removed with exportfs -u?)`,
          })),
      );
    }
    // Active Directory groups a role names, as the member's winbindd last answered
    let adGroups: DirectoryGroup[] = [];
    const refreshAdGroup = async (name: string) => {
      if (!isDomainName(name) || !state().ad || !ad.winbindd.running()) return;
      const g = await ad.domain.group(name).catch(() => undefined);
      adGroups = [...adGroups.filter((x) => x.name !== name), ...(g ? [{ ...g, name }] : [])];
    };
    const ad = adMethods({
      ...sc,
      paths: adPathsOf(paths.dirs.private),
      render: (st) => renderSmbConf(st, smbGlobals(cfg, paths)),
      resolveSrv: o.resolveSrv,
      afterWinbind: async () => {
        for (const r of directory.managed.state().roles) await refreshAdGroup(r.group);
      },
    });
    const roleGroups = {
      groups: () => [...directory.groups(), ...(state().ad ? adGroups : [])],
      refresh: refreshAdGroup,
    };

    /** The share datasets' refquotas that differ from the desired quotas (through the zfs port). */
    const quotasOf = async (st: SharesState) =>
      deps.ports.has(DATASETS) && st.shares.some((s) => s.dataset)
        ? quotaDrift(st, deps.ports.need(DATASETS))
        : [];

    async function drift() {
      const items: DriftEntry[] = [];
      const want = await target.render(state());
      for (const [file, text] of want) {
        const have = await readFile(file, 'utf8').catch(() => undefined);
        if (have === undefined) items.push({ kind: 'file', what: file, detail: 'missing' });
        else if (have !== text)
          items.push({ kind: 'file', what: file, detail: 'edited by hand (differs from the rendering)' });
      }
      for (const s of state().shares)
        if (!(await statOf(s.path, false)))
          items.push({ kind: 'directory', what: s.path, detail: `share ${s.name}: directory missing` });
      items.push(...(await exportDrift()));
      items.push(...(await quotasOf(state()).catch(() => [])).map(quotaDriftItem));
      return items;
    }

    const methods: AnyMethodDef[] = [
      defineMethod({
        name: 'shares.status',
        summary:
          'Whether Samba and the NFS server are installed, smbd and nfsd run, the generated files, and how many shares',
        params: Type.Object({}, { additionalProperties: false }),
        result: Type.Object({
          samba: Type.Boolean(),
          reason: Type.Optional(Type.String()),
          smbdRunning: Type.Boolean(),
          smbConf: Type.String(),
          nfs: Type.Boolean({ description: 'exportfs is installed' }),
          nfsReason: Type.Optional(Type.String()),
          nfsdRunning: Type.Boolean({ description: 'the kernel nfsd has threads' }),
          exportsFile: Type.String({ description: 'the exports file the agent renders' }),
          accounts: Type.String(),
          shares: Type.Integer(),
        }),
        role: 'auditor',
        mutating: false,
        handler: async () => {
          const all = await deps.capabilities.all();
          const c = all.find((x) => x.name === 'samba');
          const n = all.find((x) => x.name === 'nfs-server');
          return {
            samba: !!c?.available,
            ...(c?.available ? {} : { reason: `${c?.reason ?? 'not probed'}; ${INSTALL}` }),
            smbdRunning: c?.available ? await smbdRunning(paths.dirs.pid) : false,
            smbConf: paths.conf,
            nfs: !!n?.available,
            ...(n?.available ? {} : { nfsReason: `${n?.reason ?? 'not probed'}; ${INSTALL_NFS}` }),
            nfsdRunning: await nfsdRunning(),
            exportsFile,
            accounts: cfg.accounts.backend,
            shares: state().shares.length,
          };
        },
      }),
      ...shareMethods(sc),
      ...accountMethods(sc),
      ...directory.methods,
      ...directoryRoleMethods(directory, roleGroups),
      ...sessionMethods({
        requireSamba,
        read: readSmbstatus,
        userNames: async () => new Map((await accountsOf().read()).users.map((u) => [u.uid, u.name])),
      }),
      ...ad.methods,
      defineMethod({
        name: 'shares.drift',
        summary:
          'What differs between the desired shares and what is on disk or served (smb.conf or exports edited by hand, a directory gone, an NFS export removed from the kernel table)',
        params: Type.Object({}, { additionalProperties: false }),
        result: Type.Object({ inSync: Type.Boolean(), items: Type.Array(DriftItem) }),
        role: 'auditor',
        mutating: false,
        handler: async () => {
          const items = await drift();
          if (items.length)
            await deps.alerts.raise({
              key: 'shares.drift',
              level: 'warning',
              source: 'shares',
              title: `Shares: the configuration on disk differs from the desired one (${items.length} difference(s))`,
              detail: 'Re-apply it with shares.apply (the Shares page), or make the change through Calypso.',
              data: { items },
            });
          else await deps.alerts.clear('shares.drift');
          return { inSync: items.length === 0, items };
        },
      }),
      defineMethod({
        name: 'shares.apply',
        summary:
          'Write the desired smb.conf and exports again (undoing a hand edit), check them, reload smbd and re-export',
        params: Type.Object({}, { additionalProperties: false }),
        result: ApplyResult,
        role: 'admin',
        mutating: true,
        handler: async (_p, ctx) => {
          if (!ctx.dryRun) await requireFor(state(), state());
          // inside the pipeline's lock: the refquotas set by hand are put back first (their effects)
          const r = await managed.update(
            async (cur) => {
              const drifted = await quotasOf(cur);
              return {
                state: cur,
                effects: drifted.length ? quotaFixes(drifted, deps.ports.need(DATASETS)) : [],
              };
            },
            { ...changeOptions(ctx, 'shares.apply'), forceActivate: true },
          );
          if (ctx.dryRun) return planOf(r);
          await deps.alerts.clear('shares.drift');
          return appliedOf(r);
        },
      }),
      ...configMethods<SharesState, unknown>({
        area: 'shares',
        label: 'the shares configuration',
        config: () => managed,
        restore: (s, ctx, summary) => change(ctx, summary, () => ({ state: s })) as never,
        restoreResult: ApplyResult,
      }),
    ];

    return {
      name: 'shares',
      methods,
      start: () => {
        directory.start();
        ad.health.start();
        void ad.start();
      },
      stop: async () => {
        await directory.stop();
        ad.health.stop();
        await ad.stop();
      },
      gidRoles: () => gidRolesOf(directory.managed.state().roles, roleGroups.groups()),
    };
  };
}

export const sharesSubsystem: Subsystem = {
  name: 'shares',
  service: createSharesService(),
  config: sharesConfig,
  needs: [DATASETS],
  alertSources: ['shares'],
};
