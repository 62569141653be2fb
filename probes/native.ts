/**
 * The batch reader (probes/native/sysread.c): many sysfs reads, listings or readlinks in one
 * call, made from C and shared among threads for large batches. Optional: without the built
 * addon (or with CALYPSO_PROBE_NATIVE=0) every read goes through Node's fs one by one, with
 * the same results — the addon only makes a large tree faster. Reads use io_uring where the
 * kernel allows it (CALYPSO_PROBE_URING=0 turns that off), plain system calls otherwise.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The directory holding package.json above this module (sources, dist/ or a release). */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) return dir;
    dir = up;
  }
  return dir;
}

/** What a batch does with each path: read the file, list the directory, read the link. */
export const BATCH_READ = 0;
export const BATCH_LIST = 1;
export const BATCH_LINK = 2;

export interface SysreadAddon {
  /**
   * One entry per path (`root/paths[i]`, or `root/paths[i]/names[i]` when names is given): the
   * result (file text as latin1, entry names, link target) or a negative errno.
   */
  batch(
    kind: number,
    root: string,
    paths: string[],
    names: string[] | null,
    maxBytes: number,
    flags?: number,
  ): (string | string[] | number)[];
  /** How the last read batch was made: through io_uring or with plain system calls. */
  readerMode(): 'io_uring' | 'syscalls';
}

/** Batch flags: bit 0 keeps reads off io_uring (CALYPSO_PROBE_URING=0, read at each batch). */
export function batchFlags(): number {
  return process.env.CALYPSO_PROBE_URING === '0' ? 1 : 0;
}

let addon: SysreadAddon | null | undefined;
let loadError = '';

export function loadSysread(): SysreadAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.env.CALYPSO_PROBE_NATIVE === '0') {
    loadError = 'disabled by CALYPSO_PROBE_NATIVE=0';
    return addon;
  }
  const req = createRequire(import.meta.url);
  for (const c of [
    path.join(packageRoot(), 'probes/native/build/Release/sysread.node'),
    path.join(packageRoot(), 'native/sysread.node'),
  ]) {
    try {
      addon = req(c) as SysreadAddon;
      return addon;
    } catch (e) {
      loadError = (e as Error).message;
    }
  }
  return addon;
}

/** Why the addon is not in use ('' when it is). */
export function sysreadError(): string {
  return loadError;
}
