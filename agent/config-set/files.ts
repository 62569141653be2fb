/**
 * The managed-config pipeline's file side (index.ts drives it): reading a target's files as they
 * are, writing a rendering atomically, and the journal of an apply in flight — the previous
 * files kept beside `journal.json` so that a failure or a crash can put them back byte for byte.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { syncDir, writeFileAtomic } from '../fs/atomic-write.js';
import type { FileSet, Journal } from './types.js';

/** The files as they are now (`undefined`: absent). */
export async function readFiles(paths: Iterable<string>): Promise<FileSet> {
  const out: FileSet = new Map();
  for (const p of paths) {
    try {
      out.set(p, await readFile(p, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      out.set(p, undefined);
    }
  }
  return out;
}

/** Write (or remove, for `undefined`) the named files atomically, then sync their directories. */
export async function writeFiles(
  files: FileSet,
  which: string[],
  mode: (file: string) => number | undefined,
): Promise<void> {
  const dirs = new Set<string>();
  for (const p of which) {
    const text = files.get(p);
    if (text === undefined) await rm(p, { force: true });
    else await writeFileAtomic(p, text, { mode: mode(p) ?? 0o600, syncDir: false });
    dirs.add(path.dirname(p));
  }
  for (const d of dirs) if (existsSync(d)) await syncDir(d);
}

/** Keep the files an apply is about to replace, and the journal that names them. */
export async function writeJournal(
  dir: string,
  head: Pick<Journal, 'target' | 'nextVersion' | 'time'>,
  cur: FileSet,
  changed: string[],
): Promise<Journal> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files: Journal['files'] = [];
  let i = 0;
  for (const p of changed) {
    const old = cur.get(p);
    if (old === undefined) files.push({ path: p, existed: false });
    else {
      const backup = `prev-${i++}`;
      await writeFileAtomic(path.join(dir, backup), old, { syncDir: false });
      files.push({ path: p, existed: true, backup });
    }
  }
  const j: Journal = { ...head, step: 'writing', files };
  await writeFileAtomic(path.join(dir, 'journal.json'), JSON.stringify(j));
  return j;
}

/** Record the step an apply has reached (a crash in `activating` re-activates the old files). */
export async function journalStep(dir: string, j: Journal, step: Journal['step']): Promise<void> {
  j.step = step;
  await writeFileAtomic(path.join(dir, 'journal.json'), JSON.stringify(j));
}

/** The journal left by an apply; undefined when there is none (or its writing was cut short). */
export async function readJournal(dir: string): Promise<Journal | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, 'journal.json'), 'utf8')) as Journal;
  } catch {
    return undefined;
  }
}

/** The previous files a journal kept. */
export async function keptFiles(dir: string, j: Journal): Promise<FileSet> {
  const prev: FileSet = new Map();
  for (const f of j.files)
    prev.set(f.path, f.existed ? await readFile(path.join(dir, f.backup!), 'utf8') : undefined);
  return prev;
}
