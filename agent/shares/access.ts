/**
 * The access matrix: for given users, groups, guests and client hosts, what each may do on each
 * share (none / read / write) and why — computed, never tried, from the share's options (read
 * only, guest, valid users and groups, hosts allowed, NFS clients and squash) and the POSIX
 * mode and owner of the shared directory. Pure: the service gathers the accounts and modes.
 */
import { type AccountDb, groupsOf } from './accounts.js';
import type { NfsClient, Share } from './model.js';

export type Level = 'none' | 'read' | 'write';

export interface PathInfo {
  uid: number;
  gid: number;
  /** permission bits (st_mode & 0o7777) */
  mode: number;
  /** the directories above it, up to /: each must let the user pass (x) */
  ancestors?: { path: string; uid: number; gid: number; mode: number }[];
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

function ipv4(a: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (!m) return undefined;
  return m.slice(1).reduce((n, p) => n * 256 + Number(p), 0);
}

/** `host` is `pattern` (an address, an IPv4 network a.b.c.d/len, or *). */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*' || pattern === host) return true;
  const [net, len] = pattern.split('/');
  const a = ipv4(host);
  const b = ipv4(net ?? '');
  if (a === undefined || b === undefined || len === undefined) return false;
  const bits = Number(len);
  if (bits === 0) return true;
  const mask = bits === 32 ? 0xffffffff : ~((1 << (32 - bits)) - 1) >>> 0;
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

function bitsFor(p: { uid: number; gid: number; mode: number }, id: Identity): number {
  const shift = id.uid === p.uid ? 6 : id.gids.includes(p.gid) ? 3 : 0;
  return (p.mode >> shift) & 7;
}

/** What POSIX modes let `id` do in a directory (read: r+x, write: w+x). */
export function posixLevel(p: PathInfo | undefined, id: Identity): { level: Level; why: string } {
  if (!p) return { level: 'none', why: 'the directory does not exist' };
  if (id.uid === 0) return { level: 'write', why: 'root' };
  for (const a of p.ancestors ?? [])
    if ((bitsFor(a, id) & 1) === 0)
      return {
        level: 'none',
        why: `${id.label} cannot pass ${a.path} (mode ${a.mode.toString(8).padStart(4, '0')})`,
      };
  const cls = id.uid === p.uid ? 'owner' : id.gids.includes(p.gid) ? 'group' : 'other';
  const bits = (p.mode >> (cls === 'owner' ? 6 : cls === 'group' ? 3 : 0)) & 7;
  const mode = `mode ${p.mode.toString(8).padStart(4, '0')}, ${id.label} as ${cls}`;
  if ((bits & 5) !== 5) return { level: 'none', why: mode };
  return { level: bits & 2 ? 'write' : 'read', why: mode };
}

function userIdentity(db: AccountDb, name: string): Identity | undefined {
  const u = db.users.find((x) => x.name === name);
  if (!u) return undefined;
  return { uid: u.uid, gids: groupsOf(db, u).map((g) => g.gid), label: name };
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
    if (!id) return none(`no local user ${p.name}`);
  } else {
    const g = m.db.groups.find((x) => x.name === p.name);
    if (!g) return none(`no local group ${p.name}`);
    id = { uid: -1, gids: [g.gid], label: `a member of ${p.name}` };
  }
  if (p.kind !== 'guest' && (s.validUsers.length || s.validGroups.length)) {
    const groupNames = m.db.groups.filter((g) => id.gids.includes(g.gid)).map((g) => g.name);
    const ok =
      (p.kind === 'user' && s.validUsers.includes(p.name)) ||
      s.validGroups.some((g) => groupNames.includes(g));
    if (!ok) return none('not in valid users or valid groups');
  }
  const shareLevel: Level = s.readOnly ? 'read' : 'write';
  const posix = posixLevel(m.paths.get(s.path), id);
  const access = min(shareLevel, posix.level);
  const why =
    access === shareLevel && shareLevel === 'read' ? `the share is read-only (${posix.why})` : posix.why;
  return { access, why };
}

/** The NFS client entry exportfs would use for `host` (the first that matches). */
function nfsClientFor(s: Share, host: string | undefined): NfsClient | undefined {
  return s.nfsClients.find((c) => (host === undefined ? c.host === '*' : hostMatches(c.host, host)));
}

function nfsCell(
  s: Share,
  p: Principal,
  host: string | undefined,
  m: MatrixInput,
): Omit<Cell, 'share' | 'protocol' | 'principal'> {
  const none = (why: string) => ({ access: 'none' as Level, why });
  const c = nfsClientFor(s, host);
  if (!c) return none(`${host ?? 'this host'} is not an NFS client of the share`);
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
  const posix = posixLevel(m.paths.get(s.path), id);
  return {
    access: min(shareLevel, posix.level),
    why: shareLevel === 'read' ? `exported read-only (${posix.why})` : posix.why,
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
