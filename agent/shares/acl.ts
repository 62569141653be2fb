/**
 * POSIX ACLs of a shared directory: the parser of `getfacl -cpn` (no header, absolute paths,
 * numeric ids; recorded output in test/fixtures/getfacl/) and the access check the kernel makes
 * with them (fs/posix_acl.c, posix_acl_permission): the owner's entry for the owner; a named
 * user's entry AND the mask; else every group entry of a group the caller is in — the first
 * that holds all the wanted bits decides, AND the mask — and a caller in one of those groups
 * whom none grants is refused; everyone else gets `other`. Pure.
 */

export type AclTag = 'user' | 'group' | 'mask' | 'other';

export interface AclEntry {
  tag: AclTag;
  /** a named user's uid or named group's gid; absent: the owner (user::), owning group (group::), mask, other */
  id?: number;
  /** rwx as bits: 4 read, 2 write, 1 execute (search, for a directory) */
  perms: number;
}

export interface Acl {
  access: AclEntry[];
  /** what new files and directories inherit (directories only; empty: none) */
  default: AclEntry[];
}

/** The argv that reads a directory's ACLs: -c no header, -p absolute names kept, -n numeric ids. */
export const getfaclArgv = (dir: string): string[] => ['getfacl', '-cpn', '--', dir];

const ENTRY = /^(default:)?(user|group|mask|other):(\d*):([r-][w-][x-])$/;

function bits(rwx: string): number {
  return (rwx[0] === 'r' ? 4 : 0) | (rwx[1] === 'w' ? 2 : 0) | (rwx[2] === 'x' ? 1 : 0);
}

export function rwx(perms: number): string {
  return `${perms & 4 ? 'r' : '-'}${perms & 2 ? 'w' : '-'}${perms & 1 ? 'x' : '-'}`;
}

/** getfacl -cpn's output; an `#effective:` comment is dropped (the mask is applied here). */
export function parseGetfacl(text: string): Acl {
  const acl: Acl = { access: [], default: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const m = ENTRY.exec(line);
    if (!m) throw new Error(`getfacl: unexpected line ${JSON.stringify(raw)}`);
    const entry: AclEntry = {
      tag: m[2] as AclTag,
      ...(m[3] ? { id: Number(m[3]) } : {}),
      perms: bits(m[4] as string),
    };
    (m[1] ? acl.default : acl.access).push(entry);
  }
  return acl;
}

/** More than the three entries a mode is: named users or groups, hence a mask. */
export const isExtended = (entries: AclEntry[]) =>
  entries.some((e) => e.id !== undefined || e.tag === 'mask');

export interface AclCaller {
  uid: number;
  gids: number[];
}

export interface AclDecision {
  ok: boolean;
  /** the entry that decided, as getfacl writes it (numeric id), and the mask when it applied */
  entry: AclEntry;
  mask?: number;
}

/** The kernel's check of `want` (rwx bits) for `caller` against an access ACL on a file owned by uid/gid. */
export function aclPermits(
  entries: AclEntry[],
  owner: { uid: number; gid: number },
  caller: AclCaller,
  want: number,
): AclDecision {
  const mask = entries.find((e) => e.tag === 'mask')?.perms;
  const masked = (e: AclEntry): AclDecision => ({
    ok: (e.perms & (mask ?? 7) & want) === want,
    entry: e,
    ...(mask !== undefined ? { mask } : {}),
  });
  const ownerEntry = entries.find((e) => e.tag === 'user' && e.id === undefined);
  if (ownerEntry && caller.uid === owner.uid)
    return { ok: (ownerEntry.perms & want) === want, entry: ownerEntry };
  const named = entries.find((e) => e.tag === 'user' && e.id === caller.uid);
  if (named) return masked(named);
  let found: AclEntry | undefined;
  for (const e of entries) {
    if (e.tag !== 'group') continue;
    if (!caller.gids.includes(e.id ?? owner.gid)) continue;
    if ((e.perms & want) === want) return masked(e);
    found ??= e;
  }
  // in a group with an entry, none of which grants: refused, `other` is not consulted
  if (found) return { ok: false, entry: found, ...(mask !== undefined ? { mask } : {}) };
  const other = entries.find((e) => e.tag === 'other') ?? { tag: 'other', perms: 0 };
  return { ok: (other.perms & want) === want, entry: other };
}
