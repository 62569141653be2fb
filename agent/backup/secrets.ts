/**
 * Bacula passwords live in etc/calypso/secrets.env (mode 0600), never in LMDB or logs. The
 * renderer receives them as a RenderSecrets value; missing ones are generated on apply.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { DesiredState } from './model.js';
import type { RenderSecrets } from './render-common.js';

export const DIR_KEY = 'BACULA_DIR_PASSWORD';
export const SD_KEY = 'BACULA_SD_PASSWORD';
export const FD_KEY = 'BACULA_FD_PASSWORD';
/** Shown in dry-run renders for passwords that do not exist yet (diffs redact them anyway). */
export const PLACEHOLDER = 'generated-on-apply';

/** Client names may contain . and -, which env keys cannot: the name is hex-encoded. */
export function clientKey(name: string): string {
  return `BACULA_CLIENT_${Buffer.from(name, 'utf8').toString('hex').toUpperCase()}_PASSWORD`;
}

export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

export interface SecretChange {
  key: string;
  /** undefined deletes the key */
  value: string | undefined;
  comment?: string;
}

/**
 * Apply changes to secrets.env (other subsystems' keys are preserved) and to the in-memory map.
 * The file is rewritten atomically with mode 0600.
 */
export async function updateSecrets(
  file: string,
  map: Map<string, string>,
  changes: SecretChange[],
): Promise<void> {
  if (changes.length === 0) return;
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  let lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const c of changes) {
    const re = new RegExp(`^\\s*${c.key}\\s*=`);
    const idx = lines.findIndex((l) => re.test(l));
    if (c.value === undefined) {
      if (idx >= 0) {
        const commentAbove = idx > 0 && lines[idx - 1]!.startsWith(`# bacula: `);
        lines = lines.filter((_, i) => i !== idx && !(commentAbove && i === idx - 1));
      }
      map.delete(c.key);
      continue;
    }
    if (/[\r\n]/.test(c.value)) throw new Error('secrets: newline in value');
    const line = `${c.key}=${c.value}`;
    if (idx >= 0) lines[idx] = line;
    else lines.push(...(c.comment ? [`# bacula: ${c.comment}`] : []), line);
    map.set(c.key, c.value);
  }
  await writeFileAtomic(file, `${lines.join('\n')}\n`, { mode: 0o600 });
}

/** Keys the state needs that the map lacks, with fresh values (applied by updateSecrets). */
export function missingSecrets(state: DesiredState, map: Map<string, string>): SecretChange[] {
  const want: [string, string][] = [
    [DIR_KEY, 'console ↔ director'],
    [SD_KEY, 'director ↔ storage daemon'],
    [FD_KEY, 'director ↔ appliance file daemon'],
    ...state.clients.map((c): [string, string] => [clientKey(c.name), `director ↔ client ${c.name}`]),
  ];
  return want
    .filter(([k]) => !map.get(k))
    .map(([key, comment]) => ({ key, value: generatePassword(), comment }));
}

/** The renderer's view. With `placeholder`, missing values render as PLACEHOLDER (dry runs). */
export function renderSecrets(
  state: DesiredState,
  map: Map<string, string>,
  placeholder = false,
): RenderSecrets {
  const get = (k: string) => {
    const v = map.get(k);
    if (v) return v;
    if (placeholder) return PLACEHOLDER;
    throw new Error(`secrets: ${k} missing`);
  };
  return {
    dir: get(DIR_KEY),
    sd: get(SD_KEY),
    fd: get(FD_KEY),
    clients: Object.fromEntries(state.clients.map((c) => [c.name, get(clientKey(c.name))])),
  };
}
