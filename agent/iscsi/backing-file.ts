/**
 * File-backed LUNs in the appliance's iSCSI data area (srv/calypso/iscsi), never through a link
 * (issue #28 item 16): a symbolic link there exported a root-only file over iSCSI, and a
 * dangling one made `truncate` create a file as root wherever it pointed. The data area itself
 * and every existing backing file must be what they claim (a directory, regular files); a missing
 * backing file is created here with O_CREAT|O_EXCL|O_NOFOLLOW (mode 0600) and made sparse to
 * its size, never by following a name. The dry run and the real run make the same checks.
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { invalid } from '../../rpc/errors.js';
import type { Step } from '../config-set/index.js';

const kindOf = async (p: string) => {
  try {
    const s = await lstat(p);
    return s.isSymbolicLink() ? 'link' : s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
};

/** Create `file` (which must not exist, not even as a link) sparse at `size` bytes. */
export async function createBackingFile(file: string, size: number): Promise<void> {
  const fh = await open(
    file,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    await fh.truncate(size);
  } finally {
    await fh.close();
  }
}

/** The steps that give every file LUN its backing file; refuses links and non-regular files. */
export async function backingFileSteps(
  dataDir: string,
  luns: readonly { name: string; sizeBytes: number }[],
): Promise<Step[]> {
  if (luns.length === 0) return [];
  const dir = await kindOf(dataDir);
  if (dir === 'link' || (dir !== 'missing' && dir !== 'dir'))
    throw invalid(`${dataDir} is not a directory (a ${dir}): the iSCSI data area must be one, not a link`);
  const steps: Step[] = [];
  if (dir === 'missing')
    steps.push({
      argv: ['mkdir', '-p', '-m', '0700', dataDir],
      run: async () => {
        await mkdir(dataDir, { recursive: true, mode: 0o700 });
      },
    });
  for (const l of luns) {
    const file = path.join(dataDir, l.name);
    const k = dir === 'missing' ? 'missing' : await kindOf(file);
    if (k === 'link')
      throw invalid(`${file} is a symbolic link: a LUN's backing file must be a regular file in ${dataDir}`, {
        file,
      });
    if (k !== 'missing' && k !== 'file')
      throw invalid(`${file} is not a regular file (a ${k}); remove it or choose another name`, { file });
    if (k === 'missing')
      steps.push({
        argv: ['truncate', '--size', String(l.sizeBytes), file],
        shown: ['truncate', '--size', String(l.sizeBytes), file],
        run: () => createBackingFile(file, l.sizeBytes),
      });
  }
  return steps;
}
