/**
 * Pure builders for the SSH side of remotes: the key made at pairing, the host key pinned then,
 * the `ssh` argv that runs one zfs command on the remote, and the authorized_keys line that
 * restricts the key on the receiving side. The dry runs and the real runs use these same ones.
 */
import { createHash } from 'node:crypto';

export interface RemoteFiles {
  /** the private key, written from secrets.env (mode 0600) */
  key: string;
  /** known_hosts holding only the host key pinned at pairing */
  knownHosts: string;
}

export interface SshTarget {
  host: string;
  port: number;
  user: string;
}

export const keygenArgv = (file: string, comment: string): string[] => [
  'ssh-keygen',
  '-q',
  '-t',
  'ed25519',
  '-N',
  '',
  '-C',
  comment,
  '-f',
  file,
];

export const keyscanArgv = (t: SshTarget): string[] => [
  'ssh-keyscan',
  '-T',
  '10',
  '-t',
  'ed25519',
  '-p',
  String(t.port),
  t.host,
];

const BARE = /^[A-Za-z0-9_.,:@/=+-]+$/;

/** One command line for the remote side (ssh joins its words with spaces): words quoted with '…' when needed. */
export function remoteCommandLine(argv: readonly string[]): string {
  return argv
    .map((w) => {
      if (BARE.test(w)) return w;
      if (w.includes("'")) throw new Error(`a remote argument holds a quote: ${JSON.stringify(w)}`);
      return `'${w}'`;
    })
    .join(' ');
}

/**
 * The options every ssh of a remote takes: nothing from the machine's or the user's ssh
 * configuration, this key only, the pinned host key only (a changed host key fails the
 * connection), no prompts, and keepalives so that a dead link ends the run within a minute
 * instead of hanging it.
 */
function baseArgv(t: SshTarget, files: RemoteFiles): string[] {
  return [
    'ssh',
    '-F',
    '/dev/null',
    '-i',
    files.key,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${files.knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'ConnectTimeout=10',
    '-o',
    'ServerAliveInterval=15',
    '-o',
    'ServerAliveCountMax=4',
    '-p',
    String(t.port),
    '-l',
    t.user,
  ];
}

/**
 * One command on the remote. With `controlPath` (a run's connection, mux.ts), it goes through
 * that run's master connection: no new key exchange; when no master listens there, ssh connects
 * on its own (ControlMaster=no never makes this command a master).
 */
export function sshArgv(
  t: SshTarget,
  files: RemoteFiles,
  remote: readonly string[],
  controlPath?: string,
): string[] {
  return [
    ...baseArgv(t, files),
    ...(controlPath ? ['-o', 'ControlMaster=no', '-o', `ControlPath=${controlPath}`] : []),
    '--',
    t.host,
    remoteCommandLine(remote),
  ];
}

/**
 * A run's master connection: authenticates once and then carries the run's commands as sessions
 * of the same connection (-N: no command of its own; it lives until the run stops it).
 */
export function masterArgv(t: SshTarget, files: RemoteFiles, controlPath: string): string[] {
  return [
    ...baseArgv(t, files),
    '-o',
    'ControlMaster=yes',
    '-o',
    `ControlPath=${controlPath}`,
    '-o',
    'ControlPersist=no',
    '-N',
    '--',
    t.host,
  ];
}

/** The ed25519 lines of ssh-keyscan's output (`host ssh-ed25519 AAAA…`); comments dropped. */
export function parseKeyscan(out: string): string[] {
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && /^\S+ ssh-ed25519 [A-Za-z0-9+/=]+$/.test(l));
}

/** `SHA256:…` as ssh-keygen -l prints it, from a key's base64 blob. */
export function fingerprint(blob: string): string {
  const h = createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64');
  return `SHA256:${h.replace(/=+$/, '')}`;
}

/** `ssh-ed25519 AAAA… comment` → its type and blob, or undefined. */
export function parsePublicKey(line: string): { type: string; blob: string } | undefined {
  const m = /^(ssh-ed25519) ([A-Za-z0-9+/]+={0,2})(?: [^\r\n]*)?$/.exec(line.trim());
  return m ? { type: m[1]!, blob: m[2]! } : undefined;
}

/** The marker comment that names which remote's key a line of authorized_keys is. */
export const authorizedMarker = (name: string) => `calypso-remote:${name}`;

/**
 * The receiving side's authorized_keys line: the key may run only the guard (forced command),
 * with no pty, forwarding or agent (`restrict`).
 */
export function authorizedKeyLine(o: {
  node: string;
  guard: string;
  prefix: string;
  publicKey: string;
  name: string;
  /** the key may also be pulled from (`zfs send` of snapshots under the prefix) */
  send?: boolean;
}): string {
  const key = parsePublicKey(o.publicKey);
  if (!key) throw new Error('not an ssh-ed25519 public key');
  const cmd = [o.node, o.guard, '--prefix', o.prefix, ...(o.send ? ['--send'] : [])].join(' ');
  if (/["\\\s]/.test(o.node + o.guard + o.prefix)) throw new Error('the guard path has spaces or quotes');
  return `command="${cmd}",restrict ${key.type} ${key.blob} ${authorizedMarker(o.name)}`;
}

/** authorized_keys text with the line of `name` replaced (or removed when `line` is undefined). */
export function editAuthorizedKeys(text: string, name: string, line: string | undefined): string {
  const marker = ` ${authorizedMarker(name)}`;
  const kept = text.split('\n').filter((l) => l && !l.endsWith(marker));
  if (line) kept.push(line);
  return kept.length ? `${kept.join('\n')}\n` : '';
}
