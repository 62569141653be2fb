/** Share methods: list, get, create, update, delete, and the access matrix (a dry run by nature). */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { conflict, invalid, notFound } from '../../rpc/errors.js';
import { listed, listResult } from '../../rpc/list.js';
import { type AnyMethodDef, type CallContext, type DryRunPlan, defineMethod } from '../../rpc/registry.js';
import type { Change, Effect } from '../config-set/index.js';
import type { AgentDeps } from '../deps.js';
import { accessMatrix, type PathInfo, type Principal } from './access.js';
import type { AccountBackend, AccountDb } from './accounts.js';
import type { SharesConfig } from './config.js';
import { DomainNameSchema } from './directory-ad-users.js';
import {
  AccountNameSchema,
  domainUsersOf,
  HostNameSchema,
  HostSchema,
  SHARE_DEFAULTS,
  type Share,
  ShareNameSchema,
  ShareOptions,
  ShareSchema,
  type SharesState,
} from './model.js';

export const ApplyResult = Type.Object({
  changed: Type.Array(Type.String(), { description: 'files written' }),
  version: Type.Optional(Type.Integer()),
  commands: Type.Array(Type.Array(Type.String()), { description: 'argv run, in order' }),
  notes: Type.Array(Type.String()),
});

const ShareView = Type.Object({
  ...ShareSchema.properties,
  exists: Type.Boolean({ description: 'the directory exists' }),
  previousVersionsAvailable: Type.Boolean({
    description: 'snapshots are visible under .zfs/snapshot (what Previous Versions shows)',
  }),
  used: Type.Optional(Type.Number({ description: 'bytes the dataset holds (ZFS used)' })),
  available: Type.Optional(
    Type.Number({ description: 'bytes it may still take: the quota, or the pool, whichever is less' }),
  ),
});

type Quota = string | number | null;

/** A quota needs the share's dataset (a plain directory has none to limit). */
function needDataset(s: Pick<Share, 'name' | 'dataset'>, quota: Quota | undefined): string | undefined {
  if (quota === undefined || quota === null) return s.dataset;
  if (!s.dataset)
    throw invalid(
      `share ${s.name} has no dataset (no shares.pool configured): a quota limits a dataset, a plain directory has none`,
      { name: s.name },
    );
  return s.dataset;
}

const snapshotDirOf = (s: Share) => path.join(s.path, '.zfs', 'snapshot');
const noSnapshots = (s: Share) =>
  `share ${s.name}: no .zfs/snapshot under ${s.path} (not a ZFS dataset, or a ZFS without it such as zfs-fuse): Previous Versions will list nothing`;

/** What the share methods use of the service (service.ts builds it). */
export interface SharesMethodsContext {
  deps: AgentDeps;
  cfg: SharesConfig;
  state(): SharesState;
  /** One change, planned (dry run) or applied: `fn` reads the committed state inside the pipeline's lock. */
  change(
    ctx: CallContext,
    summary: string,
    fn: (cur: SharesState, dryRun: boolean) => Change<SharesState> | Promise<Change<SharesState>>,
  ): Promise<unknown>;
  /** Where a share's directory is: `<shares area>/<name>`. */
  pathOf(name: string): string;
  /**
   * The side effects that make a share's directory (a dataset through the zfs port, or mkdir);
   * `protocols` pick its properties (case-insensitive names for an SMB-only share).
   */
  provision(
    name: string,
    dryRun: boolean,
    protocols: ('smb' | 'nfs')[],
  ): Promise<{ effects: Effect[]; dataset?: string; notes: string[]; snapshotDir: boolean }>;
  accounts(): AccountBackend;
  /** the accounts the access matrix resolves: the local ones and the directory's (LDAP) */
  accessDb?(names: { users: string[]; groups: string[] }): Promise<AccountDb>;
  stat(path: string): Promise<PathInfo | undefined>;
  /** the share datasets' space through the zfs port (none without it) */
  space(datasets: string[]): Promise<Map<string, { used: number; available: number }>>;
  /** the effect that sets a share dataset's refquota (through the zfs port) */
  setQuota(dataset: string, quota: Quota, previous: Quota): Effect;
}

const CreateParams = Type.Object(
  {
    name: ShareNameSchema,
    ...Object.fromEntries(Object.entries(ShareOptions).map(([k, v]) => [k, Type.Optional(v)])),
  },
  { additionalProperties: false },
);

const SetParams = Type.Object(
  Object.fromEntries(Object.entries(ShareOptions).map(([k, v]) => [k, Type.Optional(v)])),
  { additionalProperties: false, description: 'the options to change' },
);

const isDirectory = (p: string) => statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;

function findShare(s: SharesState, name: string): Share {
  const sh = s.shares.find((x) => x.name === name);
  if (!sh) throw notFound(`share ${name} does not exist`, { name });
  return sh;
}

type ShareInput = { name: string } & Partial<typeof SHARE_DEFAULTS>;

/** The share shares.create (a new name) or shares.update (an existing one) would make of `p`. */
function proposedShare(sc: SharesMethodsContext, all: Share[], p: ShareInput): Share {
  const { name, ...opts } = p;
  const cur = all.find((x) => x.name === name);
  return cur ? { ...cur, ...opts } : { name, path: sc.pathOf(name), ...SHARE_DEFAULTS, ...opts };
}

/** A directory shares.create would make (mkdir -m 0775 as root), below the nearest one that exists. */
async function plannedDir(sc: SharesMethodsContext, dir: string): Promise<PathInfo | undefined> {
  for (let d = path.dirname(dir); d !== path.dirname(d); d = path.dirname(d)) {
    const st = await sc.stat(d);
    if (st)
      return {
        uid: 0,
        gid: 0,
        mode: 0o775,
        ancestors: [{ path: d, uid: st.uid, gid: st.gid, mode: st.mode }, ...(st.ancestors ?? [])],
      };
  }
  return undefined;
}

export function shareMethods(sc: SharesMethodsContext): AnyMethodDef[] {
  // one stat each, no getfacl: a list of 1,000 shares answers within 50 ms (bench/shares.ts)
  const view = (s: Share, space?: Map<string, { used: number; available: number }>) => {
    const sp = s.dataset ? space?.get(s.dataset) : undefined;
    return {
      ...s,
      exists: isDirectory(s.path),
      previousVersionsAvailable: existsSync(snapshotDirOf(s)),
      ...(sp ? { used: sp.used, available: sp.available } : {}),
    };
  };
  // one `zfs get` for all the share datasets (none when no share has one)
  const spaceOf = (shares: Share[]) => sc.space(shares.flatMap((s) => (s.dataset ? [s.dataset] : [])));
  return [
    defineMethod({
      name: 'shares.list',
      summary: 'File shares as desired (SMB and NFS options, directory, dataset)',
      params: Type.Object({}, { additionalProperties: false }),
      result: listResult(ShareView),
      role: 'auditor',
      mutating: false,
      handler: async () => {
        const shares = sc.state().shares;
        const space = await spaceOf(shares);
        return listed(shares.map((s) => view(s, space)));
      },
    }),
    defineMethod({
      name: 'shares.get',
      summary: 'One share as desired',
      params: Type.Object({ name: ShareNameSchema }, { additionalProperties: false }),
      result: ShareView,
      role: 'auditor',
      mutating: false,
      handler: async (p) => {
        const s = findShare(sc.state(), p.name);
        return view(s, await spaceOf([s]));
      },
    }),
    defineMethod({
      name: 'shares.create',
      summary:
        'Create a share: its directory (a dataset under <pool>/calypso/shares when a pool is configured) and its smb.conf section',
      params: CreateParams,
      result: ApplyResult,
      role: 'admin',
      mutating: true,
      handler: async (p, ctx) => {
        const { name, ...opts } = p as { name: string } & Partial<typeof SHARE_DEFAULTS>;
        let notes: string[] = [];
        const r = await sc.change(ctx, `share ${name} created`, async (cur, dryRun) => {
          if (cur.shares.some((x) => x.name.toLowerCase() === name.toLowerCase()))
            throw conflict(`share ${name} already exists`, { name });
          const prov = await sc.provision(name, dryRun, opts.protocols ?? SHARE_DEFAULTS.protocols);
          const { quota, ...rest } = opts as typeof opts & { quota?: Quota };
          const share: Share = {
            name,
            path: sc.pathOf(name),
            ...(prov.dataset ? { dataset: prov.dataset } : {}),
            ...SHARE_DEFAULTS,
            ...rest,
            ...(quota !== undefined && quota !== null ? { quota } : {}),
          };
          const ds = needDataset(share, quota);
          const effects = [
            ...prov.effects,
            ...(ds && share.quota ? [sc.setQuota(ds, share.quota, null)] : []),
          ];
          const snapshots = prov.dataset ? prov.snapshotDir : existsSync(snapshotDirOf(share));
          notes = [...prov.notes, ...(share.previousVersions && !snapshots ? [noSnapshots(share)] : [])];
          return { state: { ...cur, shares: [...cur.shares, share] }, effects };
        });
        (r as { notes: string[] }).notes.push(...notes);
        if (!ctx.dryRun) sc.deps.events.publish('shares.changed', { name, action: 'created' });
        return r as never;
      },
    }),
    defineMethod({
      name: 'shares.update',
      summary: 'Change a share’s options (protocols, read-only, guest, valid users, hosts, NFS clients)',
      params: Type.Object({ name: ShareNameSchema, set: SetParams }, { additionalProperties: false }),
      result: ApplyResult,
      role: 'admin',
      mutating: true,
      handler: async (p, ctx) => {
        let notes: string[] = [];
        const r = await sc.change(ctx, `share ${p.name} updated`, (cur) => {
          const prev = findShare(cur, p.name);
          const { quota, ...set } = p.set as typeof p.set & { quota?: Quota };
          const next = { ...prev, ...set } as Share;
          if (quota === null) delete next.quota;
          else if (quota !== undefined) next.quota = quota;
          const ds = needDataset(next, quota);
          const effects =
            ds && quota !== undefined && (next.quota ?? null) !== (prev.quota ?? null)
              ? [sc.setQuota(ds, next.quota ?? null, prev.quota ?? null)]
              : [];
          notes = next.previousVersions && !existsSync(snapshotDirOf(next)) ? [noSnapshots(next)] : [];
          return {
            state: { ...cur, shares: cur.shares.map((s) => (s.name === p.name ? next : s)) },
            effects,
          };
        });
        (r as { notes: string[] }).notes.push(...notes);
        if (!ctx.dryRun) sc.deps.events.publish('shares.changed', { name: p.name, action: 'updated' });
        return r as never;
      },
    }),
    defineMethod({
      name: 'shares.delete',
      summary: 'Stop sharing a directory (its files and dataset stay)',
      params: Type.Object({ name: ShareNameSchema }, { additionalProperties: false }),
      result: ApplyResult,
      role: 'admin',
      mutating: true,
      handler: async (p, ctx) => {
        const r = await sc.change(ctx, `share ${p.name} deleted`, (cur) => {
          findShare(cur, p.name);
          return { state: { ...cur, shares: cur.shares.filter((s) => s.name !== p.name) } };
        });
        if (!ctx.dryRun) sc.deps.events.publish('shares.changed', { name: p.name, action: 'deleted' });
        return r as never;
      },
    }),
    defineMethod({
      name: 'shares.access',
      summary:
        'The access matrix: what each user, group member, guest and client host may do on each share (none/read/write) and why; computed, nothing is tried or changed',
      params: Type.Object(
        {
          users: Type.Optional(
            Type.Array(Type.Union([AccountNameSchema, DomainNameSchema]), {
              maxItems: 256,
              description: 'users (default: every share user); DOMAIN\\name: a domain user through winbind',
            }),
          ),
          groups: Type.Optional(
            Type.Array(Type.Union([AccountNameSchema, DomainNameSchema]), {
              maxItems: 256,
              description:
                'a member of each group (and of no other); DOMAIN\\name: a domain group through winbind',
            }),
          ),
          guest: Type.Optional(Type.Boolean({ description: 'include an anonymous guest (default true)' })),
          hosts: Type.Optional(
            Type.Array(Type.Union([HostSchema, HostNameSchema]), {
              maxItems: 64,
              description: 'client addresses or host names (a name matches NFS name and wildcard entries)',
            }),
          ),
          shares: Type.Optional(Type.Array(ShareNameSchema, { maxItems: 1000, description: 'default: all' })),
          proposed: Type.Optional(
            Type.Object(CreateParams.properties, {
              additionalProperties: false,
              description:
                'a share as shares.create or shares.update would make it (its options over the current ones): the matrix of that share alone, before it is applied; a directory not made yet counts as made by shares.create (mode 0775, root)',
            }),
          ),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({
        cells: Type.Array(
          Type.Object({
            share: Type.String(),
            protocol: Type.Union([Type.Literal('smb'), Type.Literal('nfs')]),
            principal: Type.String({ description: 'user, @group (a member of it only) or guest' }),
            host: Type.Optional(Type.String()),
            access: Type.Union([Type.Literal('none'), Type.Literal('read'), Type.Literal('write')]),
            why: Type.String(),
          }),
        ),
      }),
      role: 'auditor',
      mutating: false,
      handler: async (p) => {
        const all = sc.state().shares;
        const shares = p.proposed
          ? [proposedShare(sc, all, p.proposed as ShareInput)]
          : p.shares
            ? p.shares.map((n) => findShare(sc.state(), n))
            : all;
        // by default, the domain users the shares name (valid users, read and write lists) too, resolved through winbind
        const domainUsers = p.users || p.groups ? [] : [...new Set(shares.flatMap(domainUsersOf))];
        const asked = { users: p.users ?? domainUsers, groups: p.groups ?? [] };
        const db = sc.accessDb ? await sc.accessDb(asked) : await sc.accounts().read();
        const users =
          p.users ??
          (p.groups
            ? []
            : [
                ...db.users
                  .filter((u) => u.uid >= sc.cfg.accounts.uidMin && u.uid <= sc.cfg.accounts.uidMax)
                  .map((u) => u.name),
                ...domainUsers,
              ]);
        const principals: Principal[] = [
          ...users.map((name) => ({ kind: 'user' as const, name })),
          ...(p.groups ?? []).map((name) => ({ kind: 'group' as const, name })),
          ...(p.guest === false ? [] : [{ kind: 'guest' as const }]),
        ];
        const paths = new Map<string, PathInfo>();
        for (const s of shares) {
          const st = (await sc.stat(s.path)) ?? (p.proposed ? await plannedDir(sc, s.path) : undefined);
          if (st) paths.set(s.path, st);
        }
        return {
          cells: accessMatrix({
            shares,
            db,
            paths,
            principals,
            hosts: p.hosts ?? [],
            guestAccount: sc.cfg.guestAccount,
          }),
        };
      },
    }),
  ] as AnyMethodDef[];
}

export type { DryRunPlan };
