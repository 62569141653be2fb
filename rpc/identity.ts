/**
 * Who is calling. On the Unix socket: SO_PEERCRED/SO_PEERGROUPS through the native addon,
 * mapped to a role by calypso.yaml's `roles` (defaults: root and calypso-admin → admin,
 * calypso-operator → operator, calypso → auditor). The agent's own uid is admin too: a process
 * running as the agent's user could open its state directly anyway, and this is what makes an
 * unprivileged demo usable. Anyone else gets role `none` (public methods only).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Identity, Role } from './roles.js';

/** Who gets a role: the shape of calypso.yaml's `roles` entries (the agent passes its config in). */
export interface RoleMatch {
  users: string[];
  groups: string[];
  uids: number[];
}
export type RoleMap = Record<'admin' | 'operator' | 'auditor', RoleMatch>;

/**
 * A role granted to the members of a group by its gid, beyond calypso.yaml's `roles`: the
 * agent's directory groups (a group NSS knows from LDAP through sssd, absent from /etc/group).
 */
export interface GidRole {
  gid: number;
  role: 'admin' | 'operator' | 'auditor';
  /** what grants it, for logs (`directory group storage-admins`) */
  via: string;
}

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
  groups: number[];
}

type Addon = { getPeerCred(fd: number): PeerCred };
let addon: Addon | null | undefined;
let addonError = '';

/** Where the addon is looked for under a package root: the build tree, then a release's native/. */
export function peerCredPaths(root: string): string[] {
  return [
    path.join(root, 'rpc/peercred/build/Release/peercred.node'),
    path.join(root, 'native/peercred.node'),
  ];
}

/** The nearest directory above this module holding a package.json (source tree or dist/). */
function nearestPackageDir(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
  return dir;
}

/**
 * Load the addon once. The agent passes the candidate paths (from its package root); without
 * them the package directory above this module is searched.
 */
export function loadPeerCred(candidates?: readonly string[]): Addon | null {
  if (addon !== undefined) return addon;
  const req = createRequire(import.meta.url);
  if (!candidates) {
    const root = nearestPackageDir();
    candidates = root ? peerCredPaths(root) : [];
  }
  for (const c of candidates) {
    try {
      addon = req(c) as Addon;
      return addon;
    } catch (e) {
      addonError = (e as Error).message;
    }
  }
  addon = null;
  return addon;
}

export function peerCredError(): string {
  return addonError;
}

/** Peer credentials of a connected Unix socket, or undefined when they cannot be read. */
export function peerCredOf(socket: unknown): PeerCred | undefined {
  const fd = (socket as { _handle?: { fd?: number } })._handle?.fd;
  const a = loadPeerCred();
  if (!a || typeof fd !== 'number' || fd < 0) return undefined;
  try {
    return a.getPeerCred(fd);
  } catch {
    return undefined;
  }
}

interface Db {
  mtime: number;
  users: Map<number, { name: string; gid: number }>;
  groups: Map<string, { gid: number; members: string[] }>;
}

/** Reads /etc/passwd and /etc/group (never writes them); cached until they change. */
export class UserDb {
  private db: Db | undefined;
  constructor(private etc = '/etc') {}

  private load(): Db {
    const pw = path.join(this.etc, 'passwd');
    const gr = path.join(this.etc, 'group');
    let mtime = 0;
    try {
      mtime = Math.max(statSync(pw).mtimeMs, statSync(gr).mtimeMs);
    } catch {
      /* absent */
    }
    if (this.db && this.db.mtime === mtime) return this.db;
    const users = new Map<number, { name: string; gid: number }>();
    const groups = new Map<string, { gid: number; members: string[] }>();
    for (const line of safeRead(pw).split('\n')) {
      const f = line.split(':');
      if (f.length >= 4) users.set(Number(f[2]), { name: f[0]!, gid: Number(f[3]) });
    }
    for (const line of safeRead(gr).split('\n')) {
      const f = line.split(':');
      if (f.length >= 3)
        groups.set(f[0]!, { gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) });
    }
    this.db = { mtime, users, groups };
    return this.db;
  }

  userName(uid: number): string {
    return this.load().users.get(uid)?.name ?? `uid:${uid}`;
  }

  gidOf(group: string): number | undefined {
    return this.load().groups.get(group)?.gid;
  }
}

function safeRead(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

export function roleForPeer(
  cred: PeerCred,
  roles: RoleMap,
  users: UserDb,
  agentUid: number,
  byGid: readonly GidRole[] = [],
): Role {
  const name = users.userName(cred.uid);
  const gids = new Set([cred.gid, ...cred.groups]);
  const matches = (m: RoleMatch, role: GidRole['role']) =>
    m.uids.includes(cred.uid) ||
    m.users.includes(name) ||
    m.groups.some((g) => {
      const gid = users.gidOf(g);
      return gid !== undefined && gids.has(gid);
    }) ||
    byGid.some((g) => g.role === role && gids.has(g.gid));
  if (cred.uid === 0 || cred.uid === agentUid || matches(roles.admin, 'admin')) return 'admin';
  if (matches(roles.operator, 'operator')) return 'operator';
  if (matches(roles.auditor, 'auditor')) return 'auditor';
  return 'none';
}

export function unixIdentity(
  cred: PeerCred | undefined,
  roles: RoleMap,
  users: UserDb,
  agentUid: number,
  byGid: readonly GidRole[] = [],
): Identity {
  if (!cred) return { user: 'unknown', role: 'none', transport: 'unix' };
  return {
    user: users.userName(cred.uid),
    uid: cred.uid,
    gid: cred.gid,
    pid: cred.pid,
    groups: cred.groups,
    role: roleForPeer(cred, roles, users, agentUid, byGid),
    transport: 'unix',
  };
}
