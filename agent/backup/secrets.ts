/**
 * Bacula passwords live in etc/calypso/secrets.env (the one store, agent/secrets.ts), never in
 * LMDB or logs. The renderer receives them as a RenderSecrets value; missing ones are generated
 * by the change that needs them, inside the pipeline (journaled with it).
 */
import { generatePassword, type SecretChange, type SecretReader } from '../secrets.js';
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

/** Keys the state needs that the map lacks, with fresh values (written by the change that needs them). */
export function missingSecrets(state: DesiredState, map: SecretReader): SecretChange[] {
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
export function renderSecrets(state: DesiredState, map: SecretReader, placeholder = false): RenderSecrets {
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

export { generatePassword, type SecretChange };
