/**
 * Talking to the LDAP server through OpenLDAP's own clients (ldap-utils: ldapwhoami,
 * ldapsearch) as argv, never a shell: the pure argv builders, the pure LDIF parser and the
 * error words, then the connect steps in order — resolve the host, open TCP, StartTLS when
 * asked, bind, search users, search groups — each answering what it did or the step's own
 * failure with the server's words ("bind: invalid credentials (49)").
 *
 * Why ldap-utils and not an npm client (ldapts): they are the reference implementation the
 * directory's administrators use themselves, so an error reads the same here as in their
 * terminal; they share libldap's TLS and ldap.conf handling with sssd; and they add no
 * dependency to the agent. The bind password reaches them through a 0600 file (`-y`), never
 * the argv (ps shows argv to every user) nor the environment.
 */

import { lookup } from 'node:dns/promises';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { failed } from '../../rpc/errors.js';
import type { Runner } from '../runner.js';
import { groupsBaseOf, type LdapSettings, usersBaseOf } from './directory-ldap-model.js';
import { checkTls } from './directory-ldap-tls.js';

export type StepName = 'resolve' | 'connect' | 'tls' | 'starttls' | 'bind' | 'users' | 'groups';

export interface StepReport {
  step: StepName;
  ok: boolean;
  detail: string;
  ms: number;
}

export interface DirectoryUser {
  name: string;
  uid: number;
  gid: number;
  fullName?: string;
}

export interface DirectoryGroup {
  name: string;
  gid: number;
  members: string[];
}

/** Entries most searches return; more is refused by the server (`-z`) and reported as truncated. */
export const SEARCH_LIMIT = 5000;

/** The host and port of an ldap:// or ldaps:// URI (default ports 389 and 636). */
export function hostPortOf(uri: string): { host: string; port: number } {
  const m = /^(ldaps?):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(uri);
  if (!m) throw failed(`resolve: ${uri} is not an LDAP URI`);
  const host = m[2]!.replace(/^\[|\]$/g, '');
  return { host, port: m[3] ? Number(m[3]) : m[1] === 'ldaps' ? 636 : 389 };
}

/** Options every ldap-utils call takes: simple bind, our URI, bounded waits, no line wrapping. */
function common(l: LdapSettings, bind: { passwordFile: string } | undefined): string[] {
  return [
    '-x',
    '-H',
    l.uri,
    ...(bind ? ['-D', l.bindDn, '-y', bind.passwordFile] : []),
    ...(l.startTls ? ['-ZZ'] : []),
    '-o',
    'nettimeout=10',
  ];
}

export function whoamiArgv(l: LdapSettings, bind?: { passwordFile: string }): string[] {
  return ['ldapwhoami', ...common(l, bind)];
}

export const USER_FILTER = '(objectClass=posixAccount)';
export const GROUP_FILTER = '(objectClass=posixGroup)';

export function searchArgv(
  l: LdapSettings,
  bind: { passwordFile: string },
  what: 'users' | 'groups',
): string[] {
  const [base, filter, attrs] =
    what === 'users'
      ? [usersBaseOf(l), USER_FILTER, ['uid', 'uidNumber', 'gidNumber', 'cn']]
      : [groupsBaseOf(l), GROUP_FILTER, ['cn', 'gidNumber', 'memberUid']];
  return [
    'ldapsearch',
    '-LLL',
    ...common(l, bind),
    '-o',
    'ldif-wrap=no',
    '-l',
    '15',
    '-z',
    String(SEARCH_LIMIT),
    '-b',
    base,
    '-s',
    'sub',
    filter,
    ...attrs,
  ];
}

/** LDIF (RFC 2849) as ldapsearch -LLL writes it: entries of attribute → values (base64 `::` decoded). */
export function parseLdif(text: string): Map<string, string[]>[] {
  const out: Map<string, string[]>[] = [];
  let cur: Map<string, string[]> | undefined;
  // folded lines (a leading space continues the previous one) joined first
  const lines = text.replace(/\r?\n /g, '').split(/\r?\n/);
  for (const line of lines) {
    if (line === '') {
      cur = undefined;
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([A-Za-z0-9;.-]+)(::?)\s?(.*)$/.exec(line);
    if (!m) continue;
    if (!cur) {
      cur = new Map();
      out.push(cur);
    }
    const key = m[1]!.toLowerCase();
    const value = m[2] === '::' ? Buffer.from(m[3]!, 'base64').toString('utf8') : m[3]!;
    cur.set(key, [...(cur.get(key) ?? []), value]);
  }
  return out;
}

const int = (v: string | undefined) => (v !== undefined && /^\d{1,10}$/.test(v) ? Number(v) : undefined);

export function usersOf(entries: Map<string, string[]>[]): DirectoryUser[] {
  const out: DirectoryUser[] = [];
  for (const e of entries) {
    const name = e.get('uid')?.[0];
    const uid = int(e.get('uidnumber')?.[0]);
    const gid = int(e.get('gidnumber')?.[0]);
    if (!name || uid === undefined || gid === undefined) continue;
    const cn = e.get('cn')?.[0];
    out.push({ name, uid, gid, ...(cn ? { fullName: cn } : {}) });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export function groupsOf(entries: Map<string, string[]>[]): DirectoryGroup[] {
  const out: DirectoryGroup[] = [];
  for (const e of entries) {
    const name = e.get('cn')?.[0];
    const gid = int(e.get('gidnumber')?.[0]);
    if (!name || gid === undefined) continue;
    out.push({ name, gid, members: [...(e.get('memberuid') ?? [])].sort() });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The server's words from an ldap-utils stderr: "ldap_bind: Invalid credentials (49)" and its
 * "additional info" become "invalid credentials (49)"; the call's own prefix is dropped.
 */
export function ldapErrorWords(stderr: string, code: number): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const first = lines.find((l) => !/^additional info:/i.test(l));
  const info = lines
    .filter((l) => /^additional info:/i.test(l))
    .map((l) => l.replace(/^additional info:\s*/i, ''));
  if (!first) return `exit status ${code}`;
  const msg = first.replace(/^ldap_[a-z_]+(\([A-Z]+\))?:\s*/, '');
  const words = msg.charAt(0).toLowerCase() + msg.slice(1);
  return info.length ? `${words}: ${info.join('; ')}` : words;
}

/** Run `fn` with the password in a fresh 0600 file under `dir`, removed afterwards. */
export async function withPasswordFile<T>(
  dir: string,
  password: string,
  fn: (file: string) => Promise<T>,
): Promise<T> {
  const d = await mkdtemp(path.join(dir, 'ldap-'));
  try {
    const file = path.join(d, 'bind');
    await writeFile(file, password, { mode: 0o600 });
    return await fn(file);
  } finally {
    await rm(d, { recursive: true, force: true });
  }
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`${host}:${port}: no answer in ${timeoutMs / 1000} s`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve();
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(t);
      const words = e.code === 'ECONNREFUSED' ? 'connection refused' : e.message;
      reject(new Error(`${host}:${port}: ${words}${e.code ? ` (${e.code})` : ''}`));
    });
  });
}

export interface ConnectOptions {
  settings: LdapSettings;
  password: string;
  runner: Runner;
  /** where the password file is made (the agent's run directory) */
  tmpDir: string;
  signal?: AbortSignal;
  /** called as each step starts */
  onStep?: (step: StepName, index: number, total: number) => void;
  /** leave out the users' search (the health check: bind, then the groups the role mapping needs) */
  skipUsers?: boolean;
  /** the configured CA: its PEM (our own handshake check) and its file (LDAPTLS_CACERT for ldap-utils) */
  ca?: { pem: string; file: string };
}

export interface ConnectResult {
  steps: StepReport[];
  users: DirectoryUser[];
  groups: DirectoryGroup[];
  truncated: boolean;
}

/** A failed step: the error names it with its words; `data.steps` has what ran before. */
function stepFailed(step: StepName, words: string, steps: StepReport[]) {
  return failed(`${step}: ${words}`, { step, steps });
}

/** The connect steps in order; the first that fails throws `failed("<step>: <words>")`. */
export async function connectSteps(o: ConnectOptions): Promise<ConnectResult> {
  const l = o.settings;
  const names: StepName[] = [
    'resolve',
    'connect',
    ...(/^ldaps:/i.test(l.uri) ? (['tls'] as const) : []),
    ...(l.startTls ? (['starttls'] as const) : []),
    'bind',
    ...(o.skipUsers ? [] : (['users'] as const)),
    'groups',
  ];
  const steps: StepReport[] = [];
  const result: ConnectResult = { steps, users: [], groups: [], truncated: false };
  const { host, port } = hostPortOf(l.uri);
  let address = host;
  const runTool = async (argv: string[], okCodes: number[]) => {
    const r = await o.runner.run(argv, {
      timeoutMs: 30_000,
      // libldap verifies the server against the configured CA too (demand: no certificate, no connection)
      ...(o.ca ? { env: { LDAPTLS_CACERT: o.ca.file, LDAPTLS_REQCERT: 'demand' } } : {}),
      okCodes: Array.from({ length: 256 }, (_, i) => i),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    return { ...r, ok: okCodes.includes(r.code) };
  };
  await withPasswordFile(o.tmpDir, o.password, async (passwordFile) => {
    for (const [i, step] of names.entries()) {
      o.onStep?.(step, i, names.length);
      const t0 = Date.now();
      let detail = '';
      try {
        if (step === 'resolve') {
          address = net.isIP(host) ? host : (await lookup(host)).address;
          detail = address === host ? `${host} is an address` : `${host} is ${address}`;
        } else if (step === 'connect') {
          await tcpConnect(address, port, 10_000);
          detail = `${address}:${port} accepts connections`;
        } else if (step === 'tls') {
          detail = await checkTls({
            host: address,
            name: host,
            port,
            startTls: false,
            ...(o.ca ? { ca: o.ca.pem } : {}),
          });
        } else if (step === 'starttls') {
          // our own handshake first: its words name the certificate's problem (libldap's do not)
          await checkTls({
            host: address,
            name: host,
            port,
            startTls: true,
            ...(o.ca ? { ca: o.ca.pem } : {}),
          });
          const r = await runTool(whoamiArgv(l), [0]);
          if (!r.ok) throw new Error(ldapErrorWords(r.stderr, r.code));
          detail = 'TLS negotiated (certificate accepted)';
        } else if (step === 'bind') {
          const r = await runTool(whoamiArgv(l, { passwordFile }), [0]);
          if (!r.ok) throw new Error(ldapErrorWords(r.stderr, r.code));
          detail = `bound as ${r.stdout.trim().replace(/^dn:/, '') || l.bindDn}`;
        } else {
          // 4: the size limit was reached; what came is used, and said
          const r = await runTool(searchArgv(l, { passwordFile }, step), [0, 4]);
          if (!r.ok) throw new Error(ldapErrorWords(r.stderr, r.code));
          if (r.code === 4) result.truncated = true;
          const entries = parseLdif(r.stdout);
          if (step === 'users') {
            result.users = usersOf(entries);
            detail = `${result.users.length} user(s) under ${usersBaseOf(l)}`;
          } else {
            result.groups = groupsOf(entries);
            detail = `${result.groups.length} group(s) under ${groupsBaseOf(l)}`;
          }
          if (r.code === 4) detail += ` (more than ${SEARCH_LIMIT}: truncated)`;
        }
      } catch (e) {
        const words = (e as Error).message;
        steps.push({ step, ok: false, detail: words, ms: Date.now() - t0 });
        throw stepFailed(step, words, steps);
      }
      steps.push({ step, ok: true, detail, ms: Date.now() - t0 });
    }
  });
  return result;
}
