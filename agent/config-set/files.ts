/**
 * The managed-config pipeline's file side (index.ts drives it): reading a target's files as they
 * are, writing a rendering atomically, and the journal of an apply in flight — the previous
 * files kept beside `journal.json` so that a failure or a crash can put them back byte for byte.
 *
 * The calls that only reach the page cache run inline and only the syncs wait on the thread
 * pool (as in agent/fs/atomic-write.ts): under load each round trip there cost a wake-up, and
 * reading a 1,000-share smb.conf asynchronously took 3–280 ms (bench/shares.ts).
 */
import {
  closeSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { syncDir, syncPath, writeFileAtomic } from '../fs/atomic-write.js';
import type { FileSet, Journal } from './types.js';

/** The marker of the `activating` step beside journal.json (an empty file, its directory synced). */
const ACTIVATING = 'activating';

/** The files as they are now (`undefined`: absent). */
export async function readFiles(paths: Iterable<string>): Promise<FileSet> {
  const out: FileSet = new Map();
  for (const p of paths) {
    try {
      out.set(p, readFileSync(p, 'utf8'));
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
    if (text === undefined) rmSync(p, { force: true });
    else await writeFileAtomic(p, text, { mode: mode(p) ?? 0o600, syncDir: false });
    dirs.add(path.dirname(p));
  }
  for (const d of dirs) if (existsSync(d)) await syncDir(d);
}

/**
 * An apply's new rendering, under its journal: each file written and renamed into place at once,
 * and made durable (its data, then its directory) on the thread pool while the apply validates
 * and activates; the apply awaits `durable` before its commit. A crash before that commit is
 * undone from the journal, which holds the previous files, so the rename needs no sync first.
 */
export function stageFiles(
  files: FileSet,
  which: string[],
  mode: (file: string) => number | undefined,
): { staged: Promise<void>; durable: Promise<void> } {
  const written: string[] = [];
  const dirs = new Set<string>();
  const staged = (async () => {
    for (const p of which) {
      const text = files.get(p);
      if (text === undefined) rmSync(p, { force: true });
      else {
        await writeFileAtomic(p, text, { mode: mode(p) ?? 0o600, syncDir: false, syncData: false });
        written.push(p);
      }
      dirs.add(path.dirname(p));
    }
  })();
  const durable = staged.then(async () => {
    await Promise.all(written.map(syncPath));
    for (const d of dirs) if (existsSync(d)) await syncDir(d);
  });
  durable.catch(() => {}); // awaited by the apply when it gets that far; a failure before needs no sync
  return { staged, durable };
}

/** Where a file's new content waits while it is validated (`validatesStaged`): beside it, hidden. */
export const stagedPath = (p: string) => path.join(path.dirname(p), `.${path.basename(p)}.calypso-new`);

/**
 * A rendering staged for validation: each new file written beside the live one (`stagedPath`),
 * its data synced on the thread pool meanwhile (`synced`). `commit` renames them into place and
 * removes the files the rendering drops, and `durable` then syncs their directories; `discard`
 * removes the staged files (validation refused them: the live files were never touched).
 */
export function stageBeside(
  files: FileSet,
  which: string[],
  mode: (file: string) => number | undefined,
): {
  synced: Promise<void>;
  commit: () => { durable: Promise<void> };
  discard: () => void;
} {
  const written = which.filter((p) => files.get(p) !== undefined);
  for (const p of written) {
    const tmp = stagedPath(p);
    mkdirSync(path.dirname(p), { recursive: true });
    rmSync(tmp, { force: true });
    writeFileSync(tmp, files.get(p)!, { mode: mode(p) ?? 0o600, flag: 'wx' });
  }
  const synced = Promise.all(written.map((p) => syncPath(stagedPath(p)))).then(() => {});
  synced.catch(() => {}); // awaited before the commit; a refused rendering is discarded unsynced
  return {
    synced,
    commit() {
      const dirs = new Set<string>();
      for (const p of which) {
        if (files.get(p) === undefined) rmSync(p, { force: true });
        else renameSync(stagedPath(p), p);
        dirs.add(path.dirname(p));
      }
      const durable = (async () => {
        await synced;
        for (const d of dirs) if (existsSync(d)) await syncDir(d);
      })();
      durable.catch(() => {});
      return { durable };
    },
    discard() {
      for (const p of written) rmSync(stagedPath(p), { force: true });
    },
  };
}

/**
 * Keep the previous file as `backup`: a hard link to it when it is a regular file on the same
 * file system (the rename that replaces it leaves that inode, with its bytes, to the journal
 * alone: no copy written and synced), else a copy of the text read.
 */
async function keep(p: string, old: string, backup: string): Promise<void> {
  try {
    if (lstatSync(p).isFile()) {
      linkSync(p, backup);
      return;
    }
  } catch {
    // another file system (EXDEV), no hard links there, or gone since it was read: a copy
  }
  rmSync(backup, { force: true });
  await writeFileAtomic(backup, old, { syncDir: false });
}

/** Keep the files an apply is about to replace, and the journal that names them. */
export async function writeJournal(
  dir: string,
  head: Pick<Journal, 'target' | 'nextVersion' | 'time'>,
  cur: FileSet,
  changed: string[],
): Promise<Journal> {
  dropJournal(dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files: Journal['files'] = [];
  let i = 0;
  for (const p of changed) {
    const old = cur.get(p);
    if (old === undefined) files.push({ path: p, existed: false });
    else {
      const backup = `prev-${i++}`;
      await keep(p, old, path.join(dir, backup));
      files.push({ path: p, existed: true, backup });
    }
  }
  const j: Journal = { ...head, step: 'writing', files };
  // written in place, not renamed: a journal.json cut short does not parse, and reads as none —
  // right, since no file is touched before it is on disk. Its sync (on ext4 the journal commit
  // that carries the new names too) and its directory's make the kept files' names durable with it.
  const file = path.join(dir, 'journal.json');
  writeFileSync(file, JSON.stringify(j), { mode: 0o600, flag: 'wx' });
  await syncPath(file);
  await syncDir(dir);
  return j;
}

/**
 * Record that the apply activates (a crash from here re-activates the old files): a marker file
 * beside journal.json, durable once the directory is synced (one sync, where rewriting
 * journal.json took two).
 */
export async function journalActivating(dir: string, j: Journal): Promise<void> {
  j.step = 'activating';
  closeSync(openSync(path.join(dir, ACTIVATING), 'w', 0o600));
  await syncDir(dir);
}

/**
 * The journal left by an apply; undefined when there is none (or its writing was cut short).
 * Its step is `activating` when the marker is there (journals written before the marker carry
 * the step in journal.json, read as it is).
 */
export async function readJournal(dir: string): Promise<Journal | undefined> {
  try {
    const j = JSON.parse(readFileSync(path.join(dir, 'journal.json'), 'utf8')) as Journal;
    if (existsSync(path.join(dir, ACTIVATING))) j.step = 'activating';
    return j;
  } catch {
    return undefined;
  }
}

/** The previous files a journal kept. */
export async function keptFiles(dir: string, j: Journal): Promise<FileSet> {
  const prev: FileSet = new Map();
  for (const f of j.files)
    prev.set(f.path, f.existed ? readFileSync(path.join(dir, f.backup!), 'utf8') : undefined);
  return prev;
}

/** Forget an apply's journal (done, undone, or about to be replaced by a new one). */
export function dropJournal(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
