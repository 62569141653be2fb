/**
 * Local accounts for shares behind one small interface: the machine's account database through
 * useradd/groupadd (production), or the passwd and group files of Samba's own test approach
 * (cwrap's nss_wrapper), so that tests never touch the host's accounts. Each change is built
 * as operations that a dry run lists and a real run carries out — the same ones.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { Runner } from '../runner.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export interface AccountDb {
  users: PasswdEntry[];
  groups: GroupEntry[];
}

/** One change to the account database: what the plan shows, and how it is done. */
export interface AccountOp {
  /** argv (system) or a description of the file edit (nss-wrapper) */
  shown: string[];
  run(): Promise<void>;
}

export interface AccountBackend {
  name: 'system' | 'nss-wrapper';
  read(): Promise<AccountDb>;
  addGroup(g: { name: string; gid: number }): AccountOp;
  delGroup(name: string): AccountOp;
  addUser(u: { name: string; uid: number; gid: number; groups: string[] }): AccountOp;
  delUser(name: string): AccountOp;
  /** Replace a user's supplementary groups (the primary group stays). */
  setGroups(name: string, groups: string[]): AccountOp;
  /** the environment Samba's tools need to see these accounts (nss_wrapper's) */
  env: Record<string, string>;
}

export function parsePasswd(text: string): PasswdEntry[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 7)
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]! }));
}

export function parseGroup(text: string): GroupEntry[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4)
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: f[3] ? f[3].split(',').filter(Boolean) : [] }));
}

const NOLOGIN = '/usr/sbin/nologin';

async function readDb(passwd: string, group: string): Promise<AccountDb> {
  const read = (p: string) => readFile(p, 'utf8').catch(() => '');
  return { users: parsePasswd(await read(passwd)), groups: parseGroup(await read(group)) };
}

/** useradd/groupadd on the machine; users get no home and no login shell (they are for shares). */
export function systemAccounts(runner: Runner, timeoutMs: number): AccountBackend {
  const op = (argv: string[]): AccountOp => ({
    shown: argv,
    run: async () => {
      await runner.run(argv, { timeoutMs });
    },
  });
  return {
    name: 'system',
    env: {},
    read: () => readDb('/etc/passwd', '/etc/group'),
    addGroup: (g) => op(['groupadd', '-g', String(g.gid), '--', g.name]),
    delGroup: (name) => op(['groupdel', '--', name]),
    addUser: (u) =>
      op([
        'useradd',
        '-M',
        '-N',
        '-s',
        NOLOGIN,
        '-d',
        '/nonexistent',
        '-u',
        String(u.uid),
        '-g',
        String(u.gid),
        ...(u.groups.length ? ['-G', u.groups.join(',')] : []),
        '--',
        u.name,
      ]),
    delUser: (name) => op(['userdel', '--', name]),
    // usermod -G replaces the supplementary list; an empty list is '' (no supplementary group)
    setGroups: (name, groups) => op(['usermod', '-G', groups.join(','), '--', name]),
  };
}

/** cwrap's nss_wrapper files: the same records, edited in place (atomically). */
export function nssWrapperAccounts(files: { passwd: string; group: string }): AccountBackend {
  const edit = (shown: string[], fn: (db: AccountDb) => AccountDb): AccountOp => ({
    shown,
    run: async () => {
      const next = fn(await readDb(files.passwd, files.group));
      await writeFileAtomic(
        files.passwd,
        next.users.map((u) => `${u.name}:x:${u.uid}:${u.gid}:${u.name}:${u.home}:${u.shell}\n`).join(''),
        { mode: 0o644 },
      );
      await writeFileAtomic(
        files.group,
        next.groups.map((g) => `${g.name}:x:${g.gid}:${g.members.join(',')}\n`).join(''),
        { mode: 0o644 },
      );
    },
  });
  return {
    name: 'nss-wrapper',
    env: {
      NSS_WRAPPER_PASSWD: files.passwd,
      NSS_WRAPPER_GROUP: files.group,
      LD_PRELOAD: 'libnss_wrapper.so',
    },
    read: () => readDb(files.passwd, files.group),
    addGroup: (g) =>
      edit([`${files.group}: add group ${g.name} (gid ${g.gid})`], (db) => ({
        ...db,
        groups: [...db.groups, { name: g.name, gid: g.gid, members: [] }],
      })),
    delGroup: (name) =>
      edit([`${files.group}: remove group ${name}`], (db) => ({
        ...db,
        groups: db.groups.filter((g) => g.name !== name),
      })),
    addUser: (u) =>
      edit(
        [`${files.passwd}: add user ${u.name} (uid ${u.uid}, groups ${u.groups.join(',') || '-'})`],
        (db) => ({
          users: [
            ...db.users,
            { name: u.name, uid: u.uid, gid: u.gid, home: '/nonexistent', shell: NOLOGIN },
          ],
          groups: db.groups.map((g) =>
            u.groups.includes(g.name)
              ? { ...g, members: [...g.members.filter((m) => m !== u.name), u.name] }
              : g,
          ),
        }),
      ),
    delUser: (name) =>
      edit([`${files.passwd}: remove user ${name}`], (db) => ({
        users: db.users.filter((u) => u.name !== name),
        groups: db.groups.map((g) => ({ ...g, members: g.members.filter((m) => m !== name) })),
      })),
    setGroups: (name, groups) =>
      edit([`${files.group}: groups of ${name} become ${groups.join(',') || '-'}`], (db) => ({
        ...db,
        groups: db.groups.map((g) => ({
          ...g,
          members: groups.includes(g.name)
            ? [...g.members.filter((m) => m !== name), name]
            : g.members.filter((m) => m !== name),
        })),
      })),
  };
}

/** A user's groups: the primary group and every group that lists them. */
export function groupsOf(db: AccountDb, user: PasswdEntry): GroupEntry[] {
  return db.groups.filter((g) => g.gid === user.gid || g.members.includes(user.name));
}
