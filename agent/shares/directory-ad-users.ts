/**
 * Domain users and groups of an Active Directory member, read through the member's winbindd
 * with `wbinfo` (winbind.ts): a user's passwd entry and groups, a group's gid — for the access
 * matrix (a domain user or a member of a domain group) and the role mapping (a domain group's
 * gid). Names are `DOMAIN\name` as winbind spells them; they reach wbinfo as argv elements only.
 */
import { Type } from '@sinclair/typebox';
import type { Runner } from '../runner.js';
import type { AccountDb, GroupEntry, PasswdEntry } from './accounts.js';

/** `DOMAIN\name`: a NetBIOS domain, a backslash, a sAMAccountName (inner spaces: "domain users"). */
export const DOMAIN_NAME =
  '^[A-Za-z0-9][A-Za-z0-9-]{0,14}\\\\[A-Za-z0-9_.-]([A-Za-z0-9 _.$-]{0,62}[A-Za-z0-9_.$-])?$';
export const DomainNameSchema = Type.String({
  pattern: DOMAIN_NAME,
  description: 'an Active Directory user or group as winbind names it: DOMAIN\\name',
});
/** compiled once: checked for every name of every share on each change (no `g` flag: no state) */
const DOMAIN_NAME_RE = new RegExp(DOMAIN_NAME);
export const isDomainName = (n: string) => DOMAIN_NAME_RE.test(n);

export const wbUserArgv = (name: string) => ['wbinfo', '-i', name];
export const wbUserGroupsArgv = (name: string) => ['wbinfo', '-r', name];
export const wbGroupArgv = (name: string) => ['wbinfo', '--group-info', name];
export const wbGidArgv = (gid: number) => ['wbinfo', '--gid-info', String(gid)];
/** Every user (`-u`) or group (`-g`) winbind knows, one `DOMAIN\\name` per line. */
export const wbListArgv = (kind: 'users' | 'groups') => ['wbinfo', kind === 'users' ? '-u' : '-g'];

/**
 * The names of `wbinfo -u` / `-g` that belong to `workgroup` (the joined domain: the member's idmap
 * maps no other) and match the pattern a share takes, sorted without case. Winbind answers the
 * domain in upper case (`CALYPSO\\bob`); a line of another domain, of BUILTIN, or one the pattern
 * refuses (a UPN, a quote) is left out.
 */
export function parseWbList(out: string, workgroup: string): string[] {
  const wg = `${workgroup.toUpperCase()}\\`;
  const names = out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.toUpperCase().startsWith(wg) && isDomainName(l));
  return [...new Set(names)].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }));
}

/** `name:*:uid:gid:gecos:home:shell` (wbinfo -i). */
export function parseWbUser(line: string): PasswdEntry | undefined {
  const f = line.trim().split(':');
  if (f.length < 7 || !/^\d+$/.test(f[2] ?? '') || !/^\d+$/.test(f[3] ?? '')) return undefined;
  return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '', shell: f[6] ?? '' };
}

/** `name:x:gid:members` (wbinfo --group-info, --gid-info). */
export function parseWbGroup(line: string): GroupEntry | undefined {
  const f = line.trim().split(':');
  if (f.length < 3 || !/^\d+$/.test(f[2] ?? '')) return undefined;
  return { name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) };
}

export interface DomainLookup {
  user(name: string): Promise<{ user: PasswdEntry; groups: GroupEntry[] } | undefined>;
  group(name: string): Promise<GroupEntry | undefined>;
}

export function domainLookup(runner: Runner, timeoutMs: number): DomainLookup {
  const run = (argv: string[]) => runner.run(argv, { timeoutMs, okCodes: [0, 1, 255] });
  return {
    async user(name) {
      const r = await run(wbUserArgv(name));
      const user = r.code === 0 ? parseWbUser(r.stdout) : undefined;
      if (!user) return undefined;
      const g = await run(wbUserGroupsArgv(name));
      const gids = g.code === 0 ? g.stdout.split('\n').filter((l) => /^\d+$/.test(l.trim())) : [];
      const groups: GroupEntry[] = [];
      for (const gid of new Set([String(user.gid), ...gids.map((x) => x.trim())])) {
        const gr = await run(wbGidArgv(Number(gid)));
        const entry = gr.code === 0 ? parseWbGroup(gr.stdout) : undefined;
        if (entry) groups.push({ ...entry, members: [...new Set([...entry.members, user.name])] });
      }
      return { user, groups };
    },
    async group(name) {
      const r = await run(wbGroupArgv(name));
      return r.code === 0 ? parseWbGroup(r.stdout) : undefined;
    },
  };
}

/** The accounts with these domain users and groups added (as winbind answers for them; unknown ones left out). */
export async function withDomain(
  db: AccountDb,
  lookup: DomainLookup,
  names: { users: string[]; groups: string[] },
): Promise<AccountDb> {
  const users = [...db.users];
  const groups = new Map(db.groups.map((g) => [g.name, { ...g, members: [...g.members] }]));
  const addGroup = (g: GroupEntry) => {
    const have = groups.get(g.name);
    groups.set(g.name, have ? { ...have, members: [...new Set([...have.members, ...g.members])] } : g);
  };
  for (const n of names.users.filter(isDomainName)) {
    const u = await lookup.user(n);
    if (!u || users.some((x) => x.name === u.user.name)) continue;
    // the matrix names the user as it was asked (winbind answers the domain in upper case)
    users.push({ ...u.user, name: n });
    for (const g of u.groups) addGroup({ ...g, members: g.members.map((m) => (m === u.user.name ? n : m)) });
  }
  for (const n of names.groups.filter(isDomainName)) {
    const g = await lookup.group(n);
    if (g) addGroup({ ...g, name: n });
  }
  return { users, groups: [...groups.values()] };
}

/**
 * The domain's users or groups (`parseWbList`), kept 30 s and asked once for every caller meanwhile:
 * a domain of 100,000 users answers `wbinfo -u` in seconds, and any local user may ask.
 */
export function domainNameList(
  runner: Runner,
  timeoutMs: number,
  now: () => number,
): (kind: 'users' | 'groups', workgroup: string) => Promise<string[]> {
  const TTL_MS = 30_000;
  const kept = new Map<string, { at: number; names: Promise<string[]> }>();
  return (kind, workgroup) => {
    const key = `${kind} ${workgroup}`;
    const hit = kept.get(key);
    if (hit && now() - hit.at < TTL_MS) return hit.names;
    const names = runner
      .run(wbListArgv(kind), { timeoutMs, maxOutput: 16 << 20 })
      .then((r) => parseWbList(r.stdout, workgroup));
    kept.set(key, { at: now(), names });
    names.catch(() => kept.delete(key));
    return names;
  };
}
