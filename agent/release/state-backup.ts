/**
 * Backups of the LMDB state (var/lib/calypso/state) around migrations. Taken while the agent
 * is stopped, so a plain file copy is consistent; made under a temp name and renamed, so a
 * backup directory that has its final name is complete. Restoring renames a full copy of
 * data.mdb over the live one (atomic) and drops the lock file, which LMDB rebuilds.
 * Data under srv/calypso is never part of this: it is the user's, not the agent's.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import path from 'node:path';
import { syncDirSync, writeFileAtomicSync } from '../fs/atomic-write.js';
import type { Layout } from '../layout.js';
import { releasePaths } from './paths.js';

export interface BackupMeta {
  id: string;
  /** release that was current when the backup was taken */
  version: string;
  /** its state schema */
  schema: number;
  takenAt: number;
}

const LOCK_FILE = 'lock.mdb';
const META = 'backup.json';

export function backupDirFor(layout: Layout, id: string): string {
  return path.join(releasePaths(layout).backups, id);
}

/** Copy the state directory to backups/<id>; a second call with the same id is a no-op. */
export function backupState(
  layout: Layout,
  id: string,
  meta: Omit<BackupMeta, 'id' | 'takenAt'>,
  now = Date.now(),
): string {
  const dest = backupDirFor(layout, id);
  if (existsSync(path.join(dest, META))) return dest;
  const root = releasePaths(layout).backups;
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const tmp = path.join(root, `.tmp-${id}-${randomBytes(4).toString('hex')}`);
  mkdirSync(tmp, { mode: 0o700 });
  if (existsSync(layout.lmdbDir)) {
    for (const f of readdirSync(layout.lmdbDir)) {
      if (f === LOCK_FILE) continue;
      copyDurable(path.join(layout.lmdbDir, f), path.join(tmp, f));
    }
  }
  writeFileAtomicSync(path.join(tmp, META), `${JSON.stringify({ id, takenAt: now, ...meta }, null, 2)}\n`, {
    mode: 0o600,
  });
  rmSync(dest, { recursive: true, force: true });
  renameSync(tmp, dest);
  syncDirSync(root);
  return dest;
}

export function readBackupMeta(dir: string): BackupMeta | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, META), 'utf8')) as BackupMeta;
  } catch {
    return undefined;
  }
}

export function listBackups(layout: Layout): (BackupMeta & { dir: string })[] {
  const root = releasePaths(layout).backups;
  let names: string[] = [];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  return names
    .filter((n) => !n.startsWith('.'))
    .map((n) => ({ dir: path.join(root, n), meta: readBackupMeta(path.join(root, n)) }))
    .filter((x): x is { dir: string; meta: BackupMeta } => !!x.meta)
    .map((x) => ({ ...x.meta, dir: x.dir }))
    .sort((a, b) => a.takenAt - b.takenAt);
}

/** Put a backup back in place of the live state. The agent must be stopped. Idempotent. */
export function restoreState(layout: Layout, dir: string): void {
  if (!readBackupMeta(dir)) throw new Error(`state backup ${dir} is incomplete`);
  mkdirSync(layout.lmdbDir, { recursive: true, mode: 0o700 });
  for (const f of readdirSync(dir)) {
    if (f === META || f.startsWith('.')) continue;
    const tmp = path.join(layout.lmdbDir, `.${f}.restore-${randomBytes(4).toString('hex')}`);
    copyDurable(path.join(dir, f), tmp);
    renameSync(tmp, path.join(layout.lmdbDir, f));
  }
  rmSync(path.join(layout.lmdbDir, LOCK_FILE), { force: true });
  syncDirSync(layout.lmdbDir);
}

/** Keep the newest `keep` backups. */
export function pruneBackups(layout: Layout, keep: number): string[] {
  const all = listBackups(layout);
  const drop = all.slice(0, Math.max(0, all.length - keep));
  for (const b of drop) rmSync(b.dir, { recursive: true, force: true });
  return drop.map((b) => b.id);
}

function copyDurable(from: string, to: string): void {
  copyFileSync(from, to);
  const fd = openSync(to, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
