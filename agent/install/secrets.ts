/**
 * secrets.env: KEY=VALUE lines (read by agent/config.ts `loadSecrets`), mode 0600 root:root.
 * The installer generates every secret the appliance needs and never replaces one that exists:
 * a re-install keeps the passwords the daemons were configured with, and a secret added by a
 * newer release is appended.
 */
import { randomBytes } from 'node:crypto';

export interface SecretSpec {
  name: string;
  comment: string;
  /** generator; default 32 random bytes, base64url (43 characters, no quoting needed) */
  generate?: () => string;
}

/** Secrets generated at install. Subsystems read them from `deps.secrets` by these names. */
export const GENERATED_SECRETS: SecretSpec[] = [
  {
    name: 'BACULA_DIR_PASSWORD',
    comment: 'Bacula director: password of the director resource (bconsole, peers)',
  },
  { name: 'BACULA_SD_PASSWORD', comment: 'Bacula storage daemon: password the director uses to reach it' },
  { name: 'BACULA_FD_PASSWORD', comment: "Bacula file daemon: password of the appliance's own client" },
  { name: 'BACULA_CONSOLE_PASSWORD', comment: 'Bacula restricted console used by the agent' },
  {
    name: 'MINIO_ROOT_USER',
    comment: 'object store root user',
    generate: () => `calypso-${randomBytes(6).toString('hex')}`,
  },
  { name: 'MINIO_ROOT_PASSWORD', comment: 'object store root password' },
  {
    name: 'ISCSI_CHAP_SECRET',
    comment: 'default CHAP secret offered for new iSCSI targets (12 to 16 characters)',
    generate: () => randomBytes(12).toString('base64url').slice(0, 16),
  },
];

const HEADER = `# Calypso secrets: KEY=VALUE, one per line. Mode 0600, root only.
# Generated at install; never logged, never stored in LMDB. Changing a value here requires the
# matching daemon configuration to be re-applied (the agent renders it at start).
`;

const defaultGenerate = () => randomBytes(32).toString('base64url');

/** The file text with every generated secret present; existing lines are kept verbatim. */
export function mergeSecrets(existing: string | undefined, specs: SecretSpec[] = GENERATED_SECRETS): string {
  const text = existing ?? HEADER;
  const present = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
    if (m && !line.trimStart().startsWith('#')) present.add(m[1]!);
  }
  const added: string[] = [];
  for (const s of specs) {
    if (present.has(s.name)) continue;
    added.push(`# ${s.comment}`, `${s.name}=${(s.generate ?? defaultGenerate)()}`);
  }
  if (added.length === 0) return text;
  const base = text.endsWith('\n') || text === '' ? text : `${text}\n`;
  return `${base}${added.join('\n')}\n`;
}
