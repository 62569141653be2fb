/**
 * Durable file replacement (DESIGN.md principle 3): write a temp file in the same directory,
 * fsync it, rename it over the target, fsync the directory. A crash leaves either the old or
 * the new file, never a torn one.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export interface WriteOptions {
  /** file mode; default 0600 (Bacula config files carry passwords) */
  mode?: number;
  /** fsync the directory after the rename; callers writing many files do it once */
  syncDir?: boolean;
}

export async function writeFileAtomic(
  file: string,
  data: string | Buffer,
  opts: WriteOptions = {},
): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', opts.mode ?? 0o600);
  try {
    await fh.writeFile(data);
    await fh.chmod(opts.mode ?? 0o600); // the umask may have narrowed or widened the create mode
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
