/**
 * System accounts. On the real root (`/`) missing groups and users are created with the
 * distribution's groupadd/useradd (via the runner) and looked up with getent, so that NSS
 * sources other than /etc/group are honoured.
 *
 * Under any other prefix no account is created: a prefix is for tests and trials and must not
 * change the host's account database, and writing a private etc/passwd into the prefix would
 * give numeric ids that mean nothing to the host. The install report lists what would be
 * created, and files keep the invoking user's ownership except where an account exists.
 */
import type { Runner } from '../runner.js';
import type { Change, IdResolver } from './fs-apply.js';
import type { Account } from './plan.js';

export interface GetentEntry {
  name: string;
  id: number;
  /** group of a passwd entry */
  gid?: number;
}

/** Parse one `getent passwd NAME` or `getent group NAME` line. Pure. */
export function parseGetent(kind: 'passwd' | 'group', text: string): GetentEntry | undefined {
  const line = text.split('\n').find((l) => l.trim() !== '');
  if (!line) return undefined;
  const f = line.split(':');
  const id = Number(f[2]);
  if (!f[0] || !Number.isInteger(id)) return undefined;
  if (kind === 'passwd') {
    const gid = Number(f[3]);
    return { name: f[0], id, gid: Number.isInteger(gid) ? gid : undefined };
  }
  return { name: f[0], id };
}

export async function lookup(
  runner: Runner,
  kind: 'passwd' | 'group',
  name: string,
): Promise<GetentEntry | undefined> {
  // getent exits 2 when the key is not found.
  const r = await runner.run(['getent', kind, '--', name], { okCodes: [0, 2], timeoutMs: 10_000 });
  return r.code === 0 ? parseGetent(kind, r.stdout) : undefined;
}

/** argv that creates one account (Debian/Ubuntu shadow-utils). */
export function createArgv(a: Account, home: string): string[] {
  if (a.kind === 'group') return ['groupadd', '--system', '--', a.name];
  return [
    'useradd',
    '--system',
    '--gid',
    a.group ?? a.name,
    '--home-dir',
    home,
    '--no-create-home',
    '--shell',
    '/usr/sbin/nologin',
    '--comment',
    a.comment,
    '--',
    a.name,
  ];
}

export interface AccountResult {
  name: string;
  kind: Account['kind'];
  action: 'exists' | 'created' | 'would-create' | 'skipped-prefix';
}

/**
 * Ensure the accounts exist on the real root; returns what happened and a resolver of numeric
 * ids for the ownership step. `apply` false (dry run) only reports.
 */
export async function ensureAccounts(
  runner: Runner,
  accounts: Account[],
  home: string,
  apply: boolean,
  changes: (c: Change) => void,
): Promise<{ results: AccountResult[]; ids: IdResolver }> {
  const users = new Map<string, number>([['root', 0]]);
  const groups = new Map<string, number>([['root', 0]]);
  const results: AccountResult[] = [];
  for (const a of accounts) {
    const kind = a.kind === 'user' ? 'passwd' : 'group';
    let found = await lookup(runner, kind, a.name);
    if (found) {
      results.push({ name: a.name, kind: a.kind, action: 'exists' });
    } else {
      const argv = createArgv(a, home);
      if (apply) {
        await runner.run(argv, { timeoutMs: 30_000 });
        found = await lookup(runner, kind, a.name);
      }
      changes({ path: a.name, action: 'account', detail: argv.join(' ') });
      results.push({ name: a.name, kind: a.kind, action: apply ? 'created' : 'would-create' });
    }
    if (found) (a.kind === 'user' ? users : groups).set(a.name, found.id);
  }
  return { results, ids: mapResolver(users, groups) };
}

/** Under a prefix: nothing is created; root is root, other accounts resolve only if given. */
export function prefixAccounts(
  accounts: Account[],
  given: { users?: Record<string, number>; groups?: Record<string, number> } = {},
): { results: AccountResult[]; ids: IdResolver } {
  const users = new Map<string, number>(Object.entries(given.users ?? {}));
  const groups = new Map<string, number>(Object.entries(given.groups ?? {}));
  const uid = process.getuid?.() ?? 0;
  // Only root can give files to root; an unprivileged prefix install keeps the caller's ids.
  if (uid === 0) {
    users.set('root', 0);
    groups.set('root', 0);
  }
  return {
    results: accounts.map((a) => ({ name: a.name, kind: a.kind, action: 'skipped-prefix' })),
    ids: mapResolver(users, groups),
  };
}

function mapResolver(users: Map<string, number>, groups: Map<string, number>): IdResolver {
  return { uid: (u) => users.get(u), gid: (g) => groups.get(g) };
}
