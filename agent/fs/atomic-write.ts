/**
 * Durable file replacement, the agent's only one (docs/design.md principle 3; STYLE.md convention 13):
 * write a temp file in the same directory, fsync it, rename it over the target, fsync the
 * directory. A crash leaves either the old or the new file, never a torn one.
 *
 * Two flavours of the same steps: async for the services (config pipeline, secrets), sync for
 * the installer and the release switch, which run before or outside the event loop's work. The
 * async one waits for the disk off the event loop (each fsync on the thread pool) and makes the
 * calls that only reach the page cache (mkdir, open, write, chmod, close, rename) inline: a small
 * file's write as nine thread-pool round trips cost a wake-up each, tens of ms under load (the
 * managed-config pipeline's apply of 1,000 shares, bench/shares.ts).
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fchmodSync,
  fsync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const fsyncOff = promisify(fsync);

export interface WriteOptions {
  /** file mode; default 0600 (generated configuration carries passwords) */
  mode?: number;
  /** fsync the directory after the rename; callers writing many files do it once */
  syncDir?: boolean;
  /**
   * false: rename without syncing the data first — only for a caller that syncs the file itself
   * before relying on it and can put the previous one back after a crash (the managed-config
   * pipeline's apply, under its journal)
   */
  syncData?: boolean;
  /** mode of directories created on the way; default 0700 */
  dirMode?: number;
}

const tmpName = (file: string) =>
  path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);

export async function writeFileAtomic(
  file: string,
  data: string | Buffer,
  opts: WriteOptions = {},
): Promise<void> {
  const dir = path.dirname(file);
  const mode = opts.mode ?? 0o600;
  mkdirSync(dir, { recursive: true, mode: opts.dirMode ?? 0o700 });
  const tmp = tmpName(file);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeAll(fd, data);
    fchmodSync(fd, mode); // the umask may have narrowed or widened the create mode
    if (opts.syncData !== false) await fsyncOff(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  if (opts.syncDir !== false) await syncDir(dir);
}

/** fsync a file (its data) or a directory (its names), waiting off the event loop. */
export async function syncPath(p: string): Promise<void> {
  const fd = openSync(p, 'r');
  try {
    await fsyncOff(fd);
  } finally {
    closeSync(fd);
  }
}

export const syncDir = syncPath;

function writeAll(fd: number, data: string | Buffer): void {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off);
}

/** The same steps, synchronously (installer, release switch). */
export function writeFileAtomicSync(file: string, data: string | Buffer, opts: WriteOptions = {}): void {
  const dir = path.dirname(file);
  const mode = opts.mode ?? 0o600;
  mkdirSync(dir, { recursive: true, mode: opts.dirMode ?? 0o700 });
  const tmp = tmpName(file);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeAll(fd, data);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  chmodSync(tmp, mode);
  renameSync(tmp, file);
  if (opts.syncDir !== false) syncDirSync(dir);
}

export function syncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
