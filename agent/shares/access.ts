/**
 * The access matrix: for given users, groups, guests and client hosts, what each may do on each
 * share (none / read / write) and why — computed, never tried, from the share's options (read
 * only, guest, valid users and groups, read and write lists, hosts allowed, NFS clients and
 * squash) and the POSIX mode, owner and ACLs of the shared directory. Pure: the service gathers
 * the accounts, modes and ACLs.
 */

import { type AccountDb, groupsOf } from './accounts.js';
import { type Acl, type AclDecision, type AclEntry, aclPermits, isExtended, rwx } from './acl.js';
import type { NfsClient, Share } from './model.js';
import { hostMatches, nfsClientFor } from './nfs-clients.js';

export { hostMatches };

export type Level = 'none' | 'read' | 'write';

export interface PathInfo {
  uid: number;
  gid: number;
  /** permission bits (st_mode & 0o7777) */
  mode: number;
  /** the directories above it, up to /: each must let the user pass (x) */
  ancestors?: { path: string; uid: number; gid: number; mode: number }[];
  /** the directory's ACLs (getfacl); absent: not read, the mode decides */
  acl?: Acl;
  /** why the ACLs were not read (no getfacl), said in the cells */
  aclNote?: string;
}

export type Principal = { kind: 'user'; name: string } | { kind: 'group'; name: string } | { kind: 'guest' };

export interface Cell {
  share: string;
  protocol: 'smb' | 'nfs';
  /** `alice`, `@staff` (a member of staff and nothing else), `guest` */
  principal: string;
  host?: string;
  access: Level;
  why: string;
}

export interface MatrixInput {
  shares: Share[];
  db: AccountDb;
  /** the shared directories' owners and modes (missing: not created yet, counted as none) */
  paths: Map<string, PathInfo>;
  principals: Principal[];
  /** client addresses; none: any host */
  hosts: string[];
  guestAccount: string;
}

interface Identity {
  uid: number;
  gids: number[];
  label: string;
}

const RANK: Record<Level, number> = { none: 0, read: 1, write: 2 };
const min = (a: Level, b: Level): Level => (RANK[a] <= RANK[b] ? a : b);

function bitsFor(p: { uid: number; gid: number; mode: number }, id: Identity): number {
  const shift = id.uid === p.uid ? 6 : id.gids.includes(p.gid) ? 3 : 0;
  return (p.mode >> shift) & 7;
}

/** How an ACL entry is named in a cell's why: `user:bob`, `group:staff`, `mask::`, `other::`. */
export type AclNamer = (e: AclEntry) => string;

const numericName: AclNamer = (e) => `${e.tag}:${e.id ?? ''}`;

export function namerOf(db: AccountDb): AclNamer {
  return (e) => {
    if (e.id === undefined) return `${e.tag}:`;
    const n =
      e.tag === 'user'
        ? db.users.find((u) => u.uid === e.id)?.name
        : db.groups.find((g) => g.gid === e.id)?.name;
    return `${e.tag}:${n ?? e.id}`;
  };
}

function decided(d: AclDecision, name: AclNamer): string {
  const entry = `${name(d.entry)}:${rwx(d.entry.perms)}`;
  return d.mask !== undefined && (d.entry.perms & d.mask) !== d.entry.perms
    ? `${entry} masked by mask::${rwx(d.mask)}`
    : entry;
}

/** What an access ACL with named entries lets `id` do: the kernel's check for r+x, then for w+x. */
function aclLevel(p: PathInfo & { acl: Acl }, id: Identity, name: AclNamer): { level: Level; why: string } {
  const read = aclPermits(p.acl.access, p, id, 5);
  if (!read.ok) return { level: 'none', why: `ACL ${decided(read, name)} (${id.label})` };
  const write = aclPermits(p.acl.access, p, id, 3);
  return {
    level: write.ok ? 'write' : 'read',
    why: `ACL ${decided(write, name)} (${id.label})`,
  };
}

/** What the default ACL gives `id` on what others create in the directory (not its own files). */
function inherited(p: PathInfo, id: Identity, name: AclNamer): string {
  if (!p.acl || !isExtended(p.acl.default)) return '';
  const creator = { uid: -2, gid: p.mode & 0o2000 ? p.gid : -2 };
  const d = aclPermits(p.acl.default, creator, id, 4);
  const w = aclPermits(p.acl.default, creator, id, 6);
  const level = w.ok ? 'write' : d.ok ? 'read' : 'none';
  return `; new files inherit the default ACL: ${level} by ${decided(w.ok ? w : d, name)}`;
}

/**
 * What POSIX modes and ACLs let `id` do in a directory (read: r+x, write: w+x). The directories
 * above are passed by their mode (an ACL on them is not read).
 */
export function posixLevel(
  p: PathInfo | undefined,
  id: Identity,
  name: AclNamer = numericName,
): { level: Level; why: string } {
  if (!p) return { level: 'none', why: 'the directory does not exist' };
  if (id.uid === 0) return { level: 'write', why: 'root' };
  for (const a of p.ancestors ?? [])
    if ((bitsFor(a, id) & 1) === 0)
      return {
        level: 'none',
        why: `${id.label} cannot pass ${a.path} (mode ${a.mode.toString(8).padStart(4, '0')})`,
      };
  if (p.acl && isExtended(p.acl.access)) {
    const r = aclLevel(p as PathInfo & { acl: Acl }, id, name);
    return { level: r.level, why: r.why + inherited(p, id, name) };
  }
  const cls = id.uid === p.uid ? 'owner' : id.gids.includes(p.gid) ? 'group' : 'other';
  const bits = (p.mode >> (cls === 'owner' ? 6 : cls === 'group' ? 3 : 0)) & 7;
  const note = p.aclNote ? ` (${p.aclNote})` : '';
  const mode = `mode ${p.mode.toString(8).padStart(4, '0')}, ${id.label} as ${cls}${note}`;
  if ((bits & 5) !== 5) return { level: 'none', why: mode };
  return { level: bits & 2 ? 'write' : 'read', why: mode + inherited(p, id, name) };
}

function userIdentity(db: AccountDb, name: string): Identity | undefined {
  const u = db.users.find((x) => x.name === name);
  if (!u) return undefined;
  return { uid: u.uid, gids: groupsOf(db, u).map((g) => g.gid), label: name };
}

/**
 * `name` or `@group` of a Samba list names this caller (a user by name, anyone in the group); a
 * domain name (`DOMAIN\\name`) is compared without case, as winbind does.
 */
function inList(list: string[] | undefined, p: Principal, id: Identity, m: MatrixInput, guestName: string) {
  const name = p.kind === 'user' ? p.name : p.kind === 'guest' ? guestName : undefined;
  return (list ?? []).find((x) =>
    x.startsWith('@')
      ? m.db.groups.some((g) => sameName(x.slice(1), g.name) && id.gids.includes(g.gid))
      : name !== undefined && sameName(x, name),
  );
}

/** What the share's options let the caller do: read only, then read list, then write list (Samba's order: the write list wins). */
function shareLevelOf(s: Share, p: Principal, id: Identity, m: MatrixInput): { level: Level; why: string } {
  let r: { level: Level; why: string } = s.readOnly
    ? { level: 'read', why: 'the share is read-only' }
    : { level: 'write', why: 'the share is writable' };
  const rl = inList(s.readList, p, id, m, m.guestAccount);
  if (rl) r = { level: 'read', why: `${rl} is in the read list` };
  const wl = inList(s.writeList, p, id, m, m.guestAccount);
  if (wl) r = { level: 'write', why: `${wl} is in the write list` };
  return r;
}

function smbCell(
  s: Share,
  p: Principal,
  host: string | undefined,
  m: MatrixInput,
): Omit<Cell, 'share' | 'protocol' | 'principal'> {
  const none = (why: string) => ({ access: 'none' as Level, why });
  if (host !== undefined && s.hostsAllow.length && !s.hostsAllow.some((h) => hostMatches(h, host)))
    return none(`${host} is not in hosts allow`);
  let id: Identity | undefined;
  if (p.kind === 'guest') {
    if (!s.guest) return none('guest access is off');
    id = userIdentity(m.db, m.guestAccount);
    if (!id) return none(`the guest account ${m.guestAccount} does not exist`);
    id.label = `guest (${m.guestAccount})`;
  } else if (p.kind === 'user') {
    id = userIdentity(m.db, p.name);
    if (!id)
      return none(p.name.includes('\\') ? `winbind knows no user ${p.name}` : `no local user ${p.name}`);
  } else {
    const g = m.db.groups.find((x) => x.name === p.name);
    if (!g)
      return none(p.name.includes('\\') ? `winbind knows no group ${p.name}` : `no local group ${p.name}`);
    id = { uid: -1, gids: [g.gid], label: `a member of ${p.name}` };
  }
  if (p.kind !== 'guest' && (s.validUsers.length || s.validGroups.length)) {
    const groupNames = m.db.groups.filter((g) => id.gids.includes(g.gid)).map((g) => g.name);
    const user = p.kind === 'user' ? s.validUsers.find((u) => sameName(u, p.name)) : undefined;
    const group = s.validGroups.find((g) => groupNames.some((n) => sameName(g, n)));
    if (!user && !group) return none('not in valid users or valid groups');
    const share = shareLevelOf(s, p, id, m);
    const posix = posixLevel(m.paths.get(s.path), id, namerOf(m.db));
    const r = leveled(share, posix);
    return {
      ...r,
      why: `${r.why}; admitted as ${user ? `${user}, a valid user` : `a member of ${group}, a valid group`}`,
    };
  }
  const share = shareLevelOf(s, p, id, m);
  const posix = posixLevel(m.paths.get(s.path), id, namerOf(m.db));
  return leveled(share, posix);
}

type Said = { level: Level; why: string };

/** The lesser of what the share's options and the directory allow, with the reason that decided. */
function leveled(share: Said, posix: Said): Omit<Cell, 'share' | 'protocol' | 'principal'> {
  const access = min(share.level, posix.level);
  // the share's word is the reason when it is what limits (read) or what lifts (the write list)
  const said = access === share.level && (share.level === 'read' || share.why.includes('write list'));
  return { access, why: said ? `${share.why} (${posix.why})` : posix.why };
}

/** Local names are exact; domain names (`DOMAIN\name`) are case-insensitive, as Windows and winbind have them. */
const sameName = (a: string, b: string) =>
  a === b || (a.includes('\\') && a.toLowerCase() === b.toLowerCase());

/** What a principal may do through one NFS client entry: read-only, squash, then POSIX. */
function throughClient(
  s: Share,
  c: NfsClient,
  p: Principal,
  m: MatrixInput,
): Omit<Cell, 'share' | 'protocol' | 'principal'> {
  let id: Identity | undefined;
  if (p.kind === 'user') id = userIdentity(m.db, p.name);
  else if (p.kind === 'group') {
    const g = m.db.groups.find((x) => x.name === p.name);
    id = g ? { uid: -1, gids: [g.gid], label: `a member of ${p.name}` } : undefined;
  }
  const anon = (label: string): Identity => ({
    uid: c.anonuid ?? 65534,
    gids: [c.anongid ?? 65534],
    label: `${label} squashed to ${c.anonuid ?? 65534}`,
  });
  if (!id || p.kind === 'guest') id = anon(p.kind === 'guest' ? 'guest' : 'unknown');
  else if (c.squash === 'all' || (c.squash === 'root' && id.uid === 0)) id = anon(id.label);
  const shareLevel: Level = s.readOnly || c.readOnly ? 'read' : 'write';
  const posix = posixLevel(m.paths.get(s.path), id, namerOf(m.db));
  return {
    access: min(shareLevel, posix.level),
    why: shareLevel === 'read' ? `exported read-only (${posix.why})` : posix.why,
  };
}

function nfsCell(
  s: Share,
  p: Principal,
  host: string | undefined,
  m: MatrixInput,
): Omit<Cell, 'share' | 'protocol' | 'principal'> {
  const { client, unresolved } = nfsClientFor(s.nfsClients, host);
  const r = client
    ? throughClient(s, client, p, m)
    : { access: 'none' as Level, why: `${host ?? 'this host'} is not an NFS client of the share` };
  // a netgroup is not looked up: say what the host would get if it were in the first one passed over
  const ng = unresolved[0];
  if (!ng) return r;
  const inIt = throughClient(s, ng, p, m);
  return {
    ...r,
    why: `${r.why}; unknown unless resolved: ${ng.host} is a netgroup, not looked up — if ${host} is in it: ${inIt.access} (${inIt.why})`,
  };
}

const label = (p: Principal) => (p.kind === 'guest' ? 'guest' : p.kind === 'group' ? `@${p.name}` : p.name);

export function accessMatrix(m: MatrixInput): Cell[] {
  const hosts: (string | undefined)[] = m.hosts.length ? m.hosts : [undefined];
  const out: Cell[] = [];
  for (const s of m.shares)
    for (const protocol of s.protocols)
      for (const host of hosts)
        for (const p of m.principals) {
          const c = protocol === 'smb' ? smbCell(s, p, host, m) : nfsCell(s, p, host, m);
          out.push({ share: s.name, protocol, principal: label(p), ...(host ? { host } : {}), ...c });
        }
  return out;
}
