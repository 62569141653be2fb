/**
 * Who the terminal's shell runs as. A Unix-socket caller is a real local user (SO_PEERCRED):
 * the shell is theirs, with their home. A token caller (WebSocket) has no local account: the
 * shell runs as the agent's own user, which is what the admin role grants on the appliance.
 */
import os from 'node:os';
import type { Identity } from '../../rpc/roles.js';
import type { Runner } from '../runner.js';

export interface LoginUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** Parse one passwd(5) line: name:password:uid:gid:gecos:home:shell. */
export function parsePasswdLine(line: string): LoginUser | undefined {
  const f = line.trim().split(':');
  if (f.length < 7) return undefined;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!f[0] || !Number.isInteger(uid) || !Number.isInteger(gid)) return undefined;
  return { name: f[0], uid, gid, home: f[5] || '/' };
}

export function agentUser(): LoginUser {
  const u = os.userInfo();
  return { name: u.username, uid: u.uid, gid: u.gid, home: u.homedir || '/' };
}

/** The account the shell of `identity` runs as. */
export async function resolveLoginUser(identity: Identity, runner: Runner): Promise<LoginUser> {
  const self = agentUser();
  if (identity.uid === undefined || identity.uid === self.uid) return self;
  // getent rather than reading /etc/passwd: it also answers for NSS users (LDAP, sssd)
  const { stdout } = await runner.run(['getent', 'passwd', '--', String(identity.uid)], {
    timeoutMs: 5000,
    okCodes: [0, 2], // 2: no such user; the shell then runs with the numeric ids and /
  });
  const u = parsePasswdLine(stdout.split('\n')[0] ?? '');
  if (!u) return { name: identity.user, uid: identity.uid, gid: identity.gid ?? identity.uid, home: '/' };
  return u;
}
