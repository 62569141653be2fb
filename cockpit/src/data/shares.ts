/**
 * shares.* — file shares (SMB and NFS), their access matrix, SMB sessions, and the local share
 * users and groups (agent/shares/). Every mutation has a `plan` twin (the same params with
 * `dryRun: true`); passwords go out in a call and never come back. The draft functions are pure:
 * a share dialog's fields in, the params (or what is wrong) out.
 */
import type { Item, Params, Result } from '../generated/api.js';
import type { AgentClient } from '../rpc/client.js';

type Opts = { signal?: AbortSignal };

export type Share = Item<'shares.list'>;
export type NfsClient = Share['nfsClients'][number];
export type Protocol = Share['protocols'][number];
export type SharesStatus = Result<'shares.status'>;
export type Sessions = Result<'shares.sessions'>;
export type Cell = Result<'shares.access'>['cells'][number];
export type Drift = Result<'shares.drift'>;
export type ShareUser = Item<'shares.user.list'>;
export type ShareGroup = Item<'shares.group.list'>;
export type Applied = Result<'shares.create'>;
export type AccountsApplied = Result<'shares.user.create'>;

export const sharesStatus = (c: AgentClient, o: Opts = {}) => c.call<SharesStatus>('shares.status', {}, o);
export const listShares = (c: AgentClient, o: Opts = {}) => c.items<Share>('shares.list', {}, o);
export const sharesSessions = (c: AgentClient, o: Opts = {}) => c.call<Sessions>('shares.sessions', {}, o);
export const sharesDrift = (c: AgentClient, o: Opts = {}) => c.call<Drift>('shares.drift', {}, o);
export const listUsers = (c: AgentClient, o: Opts = {}) => c.items<ShareUser>('shares.user.list', {}, o);
export const listGroups = (c: AgentClient, o: Opts = {}) => c.items<ShareGroup>('shares.group.list', {}, o);

/** The access matrix of a share as the dialog would make it (nothing applied yet). */
export const proposedAccess = (c: AgentClient, proposed: Params<'shares.access'>['proposed']) =>
  c.call<Result<'shares.access'>>('shares.access', { proposed });

/** A mutation and its dry run. */
function mutation<A extends unknown[], R>(method: string, params: (...a: A) => Record<string, unknown>) {
  return {
    method,
    params,
    plan: (c: AgentClient, ...a: A) => c.call<R>(method, { ...params(...a), dryRun: true }),
    run: (c: AgentClient, ...a: A) => c.call<R>(method, params(...a)),
  };
}

export const createShare = mutation<[ShareParams], Applied>('shares.create', (p) => ({ ...p }));
export const updateShare = mutation<[ShareParams], Applied>('shares.update', ({ name, ...set }) => ({
  name,
  set,
}));
export const deleteShare = mutation<[string], Applied>('shares.delete', (name) => ({ name }));
export const reapplyShares = mutation<[], Applied>('shares.apply', () => ({}));
export const createUser = mutation<[string, string, string[]], AccountsApplied>(
  'shares.user.create',
  (name, password, groups) => (groups.length ? { name, password, groups } : { name, password }),
);
export const setPassword = mutation<[string, string], AccountsApplied>(
  'shares.user.password',
  (name, password) => ({ name, password }),
);
/** a user's groups besides its own (the list replaces the current one) */
export const setUserGroups = mutation<[string, string[]], AccountsApplied>(
  'shares.user.groups',
  (name, groups) => ({ name, groups }),
);
/** The groups a user may join or leave on the page: every group but its own (named like it). */
export const joinableGroups = (user: string, groups: ShareGroup[]) =>
  groups.map((g) => g.name).filter((g) => g !== user);
export const deleteUser = mutation<[string], AccountsApplied>('shares.user.delete', (name) => ({ name }));
export const createGroup = mutation<[string], AccountsApplied>('shares.group.create', (name) => ({ name }));
export const deleteGroup = mutation<[string], AccountsApplied>('shares.group.delete', (name) => ({ name }));

// ---- the share dialog's draft ----

export interface NfsClientDraft {
  host: string;
  readOnly: boolean;
  squash: NfsClient['squash'];
}

export interface ShareDraft {
  name: string;
  description: string;
  smb: boolean;
  nfs: boolean;
  readOnly: boolean;
  guest: boolean;
  browseable: boolean;
  validUsers: string[];
  validGroups: string[];
  /** SMB read list and write list as typed: names separated by commas (`alice, @staff, @CALYPSO\\Domain Admins`) */
  readList: string;
  writeList: string;
  nfsClients: NfsClientDraft[];
  /** the dataset's refquota as typed ("10G"); empty: no quota */
  quota: string;
}

export type ShareParams = Params<'shares.create'>;

export const newShareDraft = (): ShareDraft => ({
  name: '',
  description: '',
  smb: true,
  nfs: false,
  readOnly: false,
  guest: false,
  browseable: true,
  validUsers: [],
  validGroups: [],
  readList: '',
  writeList: '',
  nfsClients: [],
  quota: '',
});

/** An existing share as a draft (NFS options the dialog does not edit are kept by the agent's merge). */
export const draftOf = (s: Share): ShareDraft => ({
  name: s.name,
  description: s.description,
  smb: s.protocols.includes('smb'),
  nfs: s.protocols.includes('nfs'),
  readOnly: s.readOnly,
  guest: s.guest,
  browseable: s.browseable,
  validUsers: [...s.validUsers],
  validGroups: [...s.validGroups],
  readList: (s.readList ?? []).join(', '),
  writeList: (s.writeList ?? []).join(', '),
  nfsClients: s.nfsClients.map((c) => ({ host: c.host, readOnly: c.readOnly, squash: c.squash })),
  quota: s.quota === undefined || s.quota === null ? '' : String(s.quota),
});

const SHARE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** the agent's size format (agent/zfs/properties.ts Size): bytes, or a number with K/M/G/T/P */
const SIZE = /^[0-9]+(\.[0-9]+)?[KMGTP]?$/;
const HOST = /^(\*|[0-9a-fA-F.:]+(\/\d{1,3})?|[A-Za-z0-9][A-Za-z0-9.-]*)$/;

/** A typed list: its names, split at commas (a domain group's name may hold a space). */
export const listOf = (text: string): string[] =>
  text
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
/** a list member as the agent's schema takes it (agent/shares/model.ts LIST_MEMBER, DOMAIN_LIST_MEMBER) */
const LIST_MEMBER = /^@?[a-z_][a-z0-9_-]{0,31}$/;
const DOMAIN_LIST_MEMBER =
  /^@?[A-Za-z0-9][A-Za-z0-9-]{0,14}\\[A-Za-z0-9_.-]([A-Za-z0-9 _.$-]{0,62}[A-Za-z0-9_.$-])?$/;

/** What is wrong with a draft, each a sentence; empty when it can be sent (the agent checks again). */
export function shareProblems(d: ShareDraft): string[] {
  const p: string[] = [];
  if (!SHARE_NAME.test(d.name))
    p.push('the name is 1–64 letters, digits, _ . - and starts with a letter or digit');
  if (!d.smb && !d.nfs) p.push('choose SMB, NFS or both');
  if (d.nfs && !d.nfsClients.length) p.push('an NFS share needs at least one client (* for anyone)');
  if (d.quota.trim() && !SIZE.test(d.quota.trim().toUpperCase()))
    p.push('the quota is a size: bytes, or a number with K, M, G, T or P (10G, 1.5T)');
  for (const c of d.nfsClients)
    if (!HOST.test(c.host.trim())) p.push(`"${c.host}" is not an address, network or * `.trim());
  for (const [list, label] of [
    [d.readList, 'read list'],
    [d.writeList, 'write list'],
  ] as const)
    for (const x of listOf(list))
      if (!LIST_MEMBER.test(x) && !DOMAIN_LIST_MEMBER.test(x))
        p.push(`"${x}" in the ${label} is not a user, @group, DOMAIN\\user or @DOMAIN\\group`);
  return p;
}

/** The shares.create params of a draft (shares.update takes the same, its name apart). */
export function shareParams(d: ShareDraft): ShareParams {
  const protocols: Protocol[] = [...(d.smb ? ['smb' as const] : []), ...(d.nfs ? ['nfs' as const] : [])];
  return {
    name: d.name,
    description: d.description,
    protocols,
    readOnly: d.readOnly,
    guest: d.guest,
    browseable: d.browseable,
    validUsers: d.validUsers,
    validGroups: d.validGroups,
    readList: listOf(d.readList),
    writeList: listOf(d.writeList),
    nfsClients: d.nfs ? d.nfsClients.map((c) => ({ ...c, host: c.host.trim() })) : [],
    // empty: no quota (an edit clears one)
    quota: d.quota.trim() ? d.quota.trim().toUpperCase() : null,
  };
}

/** The matrix as a table: one row per principal, one column per protocol. */
export function matrixRows(cells: Cell[]): { principal: string; by: Map<string, Cell> }[] {
  const rows = new Map<string, Map<string, Cell>>();
  for (const c of cells) {
    const key = c.host ? `${c.protocol} ${c.host}` : c.protocol;
    const r = rows.get(c.principal) ?? new Map<string, Cell>();
    r.set(key, c);
    rows.set(c.principal, r);
  }
  return [...rows].map(([principal, by]) => ({ principal, by }));
}

/** Clients and open files per share from shares.sessions (0 when nobody is on it). */
export function usageOf(s: Sessions | undefined, share: string): { clients: number; openFiles: number } {
  const r = s?.shares.find((x) => x.share === share);
  return { clients: r?.clients ?? 0, openFiles: r?.openFiles ?? 0 };
}

/** A password the agent accepts: 8–128 characters, no control characters (it checks again). */
export function passwordProblem(pw: string, again: string): string | undefined {
  if (pw.length < 8 || pw.length > 128) return 'the password is 8–128 characters';
  if (/[\u0000-\u001f\u007f]/.test(pw)) return 'the password has no control characters';
  if (pw !== again) return 'the two passwords differ';
  return undefined;
}
