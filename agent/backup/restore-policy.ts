/**
 * Who may restore where (issue #28 item 1). A restore writes as root on its client: an operator
 * who could restore anywhere with `replace: always` could put any backed-up content — from any
 * client, so from data an outsider controls — over the appliance's own files, and become root.
 *
 * The rules, checked before a restore reaches Bacula (the dry run checks them too; what the
 * params alone decide is checked before the catalog is read, restoreRefusalFromParams):
 * 1. a restore to the appliance's own file daemon needs the admin role;
 * 2. a restore to `/` needs the admin role;
 * 3. below admin, `where` must be one of the restore client's `restoreRoots` or inside one
 *    (default: Bacula's /tmp/bacula-restores), so nothing is restored over files outside a
 *    restore area;
 * 4. on the appliance (where the agent can look), no existing component of `where` may be a
 *    symbolic link, for anyone: a restore never writes through a link.
 */
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { denied, invalid } from '../../rpc/errors.js';
import { type Role, roleAllows } from '../../rpc/roles.js';

/** Where operators may restore on a client that names no restore roots (Bacula's own default). */
export const DEFAULT_RESTORE_ROOTS = ['/tmp/bacula-restores'];

export interface RestoreRequest {
  role: Role;
  where: string;
  /** the client the files are written on */
  restoreClient: string;
  /** the appliance's own file daemon */
  applianceFd: string;
  /** the restore client's allowed restore roots */
  roots: readonly string[];
}

/** `where` is `root` or below it (both normalised; `..` cannot climb out). */
export function isWithin(where: string, root: string): boolean {
  const w = path.posix.normalize(where).replace(/\/+$/, '') || '/';
  const r = path.posix.normalize(root).replace(/\/+$/, '') || '/';
  return r === '/' || w === r || w.startsWith(`${r}/`);
}

/** Rules 1–3 (pure): the refusal, or undefined when the caller may restore there. */
export function restoreRefusal(r: RestoreRequest): Error | undefined {
  if (roleAllows(r.role, 'admin')) return undefined;
  if (r.restoreClient === r.applianceFd)
    return denied(
      `a restore to the appliance itself (${r.applianceFd}) needs the admin role: it writes as root on this machine`,
      { need: 'admin', have: r.role },
    );
  const w = path.posix.normalize(r.where);
  if (w === '/' || w === '')
    return denied('a restore to / (over the original files) needs the admin role', {
      need: 'admin',
      have: r.role,
    });
  if (!r.roots.some((root) => isWithin(w, root)))
    return denied(
      `${r.where} is outside the restore roots of client ${r.restoreClient} (${r.roots.join(', ')}); a restore elsewhere needs the admin role`,
      { need: 'admin', have: r.role, roots: [...r.roots] },
    );
  return undefined;
}

/**
 * Rules 1–3 as far as the params decide them, before the catalog is read: a restore over / by a
 * caller below admin, or to a named client outside its roots, is refused without asking Bacula
 * anything (nor needing it up). The job's own client, when none is named, is checked later.
 */
export function restoreRefusalFromParams(r: {
  role: Role;
  where: string;
  client?: string;
  applianceFd: string;
  rootsOf: (client: string) => readonly string[];
}): Error | undefined {
  if (roleAllows(r.role, 'admin')) return undefined;
  if (r.client !== undefined)
    return restoreRefusal({ ...r, restoreClient: r.client, roots: r.rootsOf(r.client) });
  const w = path.posix.normalize(r.where);
  return w === '/' || w === ''
    ? restoreRefusal({ ...r, restoreClient: '', applianceFd: r.applianceFd, roots: [] })
    : undefined;
}

/**
 * Rule 4, on this machine: the first existing component of `where` that is a symbolic link, or
 * undefined. Components that do not exist yet are made by the file daemon as directories.
 */
export async function linkOnTheWay(where: string): Promise<string | undefined> {
  const parts = path.posix.normalize(where).split('/').filter(Boolean);
  let p = '';
  for (const part of parts) {
    p = `${p}/${part}`;
    try {
      if ((await lstat(p)).isSymbolicLink()) return p;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
  return undefined;
}

/** All four rules; throws `denied` or `invalid` in plain words. */
export async function checkRestore(r: RestoreRequest): Promise<void> {
  const refusal = restoreRefusal(r);
  if (refusal) throw refusal;
  if (r.restoreClient === r.applianceFd) {
    const link = await linkOnTheWay(r.where);
    if (link)
      throw invalid(`${link} is a symbolic link: a restore never writes through one; choose another place`, {
        link,
      });
  }
}
