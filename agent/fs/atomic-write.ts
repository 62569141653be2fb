/**
 * Durable file replacement, the agent's only one (docs/design.md principle 3; STYLE.md convention 13):
 * write a temp file in the same directory, fsync it, rename it over the target, fsync the
 * directory. A crash leaves either the old or the new file, never a torn one.
 *
 * Two flavours of the same steps: async for the services (config pipeline, secrets), sync for
 * the installer and the release switch, which run before or outside the event loop's work.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export interface WriteOptions {
  /** file mode; default 0600 (generated configuration carries passwords) */
  mode?: number;
  /** fsync the directory after the rename; callers writing many files do it once */
  syncDir?: boolean;
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
  await mkdir(dir, { recursive: true, mode: opts.dirMode ?? 0o700 });
  const tmp = tmpName(file);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.chmod(mode); // the umask may have narrowed or widened the create mode
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  if (opts.syncDir !== false) await syncDir(dir);
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The same steps, synchronously (installer, release switch). */
export function writeFileAtomicSync(file: string, data: string | Buffer, opts: WriteOptions = {}): void {
  const dir = path.dirname(file);
  const mode = opts.mode ?? 0o600;
  mkdirSync(dir, { recursive: true, mode: opts.dirMode ?? 0o700 });
  const tmp = tmpName(file);
  const fd = openSync(tmp, 'wx', mode);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off);
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
