/**
 * A replica drill's manifest of one snapshot (docs/replication.md, "Replica drills"): the snapshot is
 * cloned (read-only, mounted at a scratch directory), its tree walked (every directory, symlink and
 * regular file, a regular file with its size and SHA-256), and the clone destroyed, also when the walk
 * fails. zfs-fuse has neither `zfs diff` nor `.zfs/snapshot`, so a clone is how its snapshot's files
 * are read. The same code runs at both ends: here through the ZFS_SEND port, at a remote in its guard
 * (`calypso drill-manifest`, guard.ts), so both manifests are made alike. The walk is bounded (files,
 * bytes): past a bound it stops with a clear error and nothing is left behind.
 * A volume (zvol) has no files: its clone is made without a mountpoint, its device
 * `/dev/zvol/<clone>` awaited (udev makes it; a bounded wait), the device's whole contents hashed
 * (streamed; its volsize bounded by maxBytes), and the clone destroyed as well: the manifest then
 * has one entry, the volume itself (path '', type 'volume').
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { lstat, readdir, readlink, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunZfs } from './state.js';

export interface Entry {
  /** relative to the dataset's root, `/`-separated */
  path: string;
  type: 'file' | 'dir' | 'link' | 'other' | 'volume';
  size?: number;
  sha256?: string;
  /** a symlink's target */
  target?: string;
}
export interface Manifest {
  snapshot: string;
  files: number;
  bytes: number;
  entries: Entry[];
}
export interface Limits {
  maxFiles: number;
  maxBytes: number;
}
export const DEFAULT_LIMITS: Limits = { maxFiles: 100_000, maxBytes: 64 * 1024 ** 3 };
export const MAX_LIMITS: Limits = { maxFiles: 1_000_000, maxBytes: 16 * 1024 ** 4 };

/** The clone's name: below `base` (the guard's prefix, or the pool here), in the snapshot's pool. */
export const cloneName = (base: string) => `${base}/calypso-drill-${randomBytes(4).toString('hex')}`;

export const manifestArgv = {
  clone: (snapshot: string, clone: string, mountpoint: string) => [
    'zfs',
    'clone',
    '-o',
    'readonly=on',
    '-o',
    `mountpoint=${mountpoint}`,
    snapshot,
    clone,
  ],
  /** a volume's clone: no mountpoint, its device without partition scanning */
  cloneVolume: (snapshot: string, clone: string) => [
    'zfs',
    'clone',
    '-o',
    'readonly=on',
    '-o',
    'volmode=dev',
    snapshot,
    clone,
  ],
  /** the snapshot's volsize: bytes for a volume's snapshot, `-` for a filesystem's */
  volsize: (snapshot: string) => ['zfs', 'get', '-Hp', '-o', 'value', 'volsize', '--', snapshot],
  where: (clone: string) => ['zfs', 'get', '-H', '-o', 'value', 'mounted,mountpoint', '--', clone],
  mount: (clone: string) => ['zfs', 'mount', clone],
  destroy: (clone: string) => ['zfs', 'destroy', '-f', clone],
  /** at a remote, through its guard */
  guard: (snapshot: string, l: Limits) => [
    'calypso',
    'drill-manifest',
    '--',
    snapshot,
    String(l.maxFiles),
    String(l.maxBytes),
  ],
};

const sha256 = (file: string) =>
  new Promise<string>((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      // 'close', not 'end': the clone is destroyed next, and an open file keeps it busy
      .on('close', () => resolve(h.digest('hex')));
  });

/** Walk `root` (sorted, depth first); past a limit it throws a plain-words error. */
export async function walk(root: string, limits: Limits, what: string): Promise<Omit<Manifest, 'snapshot'>> {
  const entries: Entry[] = [];
  let bytes = 0;
  let files = 0;
  const visit = async (rel: string): Promise<void> => {
    const names = (await readdir(path.join(root, rel))).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const full = path.join(root, r);
      const st = await lstat(full);
      if (++files > limits.maxFiles)
        throw new Error(`${what} has more than ${limits.maxFiles} files: raise maxFiles`);
      if (st.isDirectory()) {
        entries.push({ path: r, type: 'dir' });
        await visit(r);
      } else if (st.isSymbolicLink()) entries.push({ path: r, type: 'link', target: await readlink(full) });
      else if (st.isFile()) {
        bytes += st.size;
        if (bytes > limits.maxBytes)
          throw new Error(`${what} holds more than ${limits.maxBytes} bytes: raise maxBytes`);
        entries.push({ path: r, type: 'file', size: st.size, sha256: await sha256(full) });
      } else entries.push({ path: r, type: 'other' });
    }
  };
  await visit('');
  return { files, bytes, entries };
}

/** a volume clone's device node (udev's link) */
export const zvolDevice = (clone: string) => `/dev/zvol/${clone}`;
/** how long a volume clone's device may take to appear (udev; ~1 s in the lab under TCG) */
export const DEVICE_WAIT_MS = 30_000;

/** Wait for `dev` to appear, at most `ms`; a plain-words error past it. */
export async function waitDevice(dev: string, ms = DEVICE_WAIT_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!existsSync(dev)) {
    if (Date.now() > end)
      throw new Error(
        `the volume clone's device ${dev} did not appear within ${Math.round(ms / 1000)} s (udev makes it: is udevd running?)`,
      );
    await sleep(100);
  }
}

const VANISHED = new Set(['ENOENT', 'ENXIO', 'ENODEV']);

/**
 * Hash a volume clone's device, waiting for it first. The device can go right after it appeared: OpenZFS
 * makes the clone's minor, then applies `volmode=dev` by removing it and making it again (a taskq, after
 * `zfs clone` has returned), so an open in between finds no device (seen in the lab, 2026-12-07: ENOENT on
 * the link udev had just made). A vanished device is waited for again and hashed again, within the same
 * bound; any other error is the answer.
 */
export async function hashDevice(
  dev: string,
  ms = DEVICE_WAIT_MS,
  hash: (file: string) => Promise<string> = sha256,
): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    await waitDevice(dev, Math.max(0, end - Date.now()));
    try {
      return await hash(dev);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (!VANISHED.has(code)) throw err;
      if (Date.now() > end)
        throw new Error(
          `the volume clone's device ${dev} kept vanishing for ${Math.round(ms / 1000)} s (${code}): OpenZFS re-made it and udev did not settle`,
        );
      await sleep(200);
    }
  }
}

/** The one entry of a volume: its whole device hashed, `size` bytes (its volsize). */
async function volumeManifest(dev: string, size: number): Promise<Omit<Manifest, 'snapshot'>> {
  const entry: Entry = { path: '', type: 'volume', size, sha256: await hashDevice(dev) };
  return { files: 1, bytes: size, entries: [entry] };
}

/**
 * Clone `snapshot` as `clone` mounted read-only at `mountpoint` (below the pool's altroot, if any), walk
 * it, destroy the clone (also on failure). A volume's snapshot: its clone's device hashed instead.
 */
export async function makeManifest(
  run: RunZfs,
  snapshot: string,
  clone: string,
  mountpoint: string,
  limits: Limits,
): Promise<Manifest> {
  const must = async (argv: string[]) => {
    const r = await run(argv, [0, 1, 2]);
    if (r.code !== 0) throw new Error(`${argv.slice(0, 2).join(' ')} ${argv.at(-1)}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  const volsize = (await must(manifestArgv.volsize(snapshot))).trim();
  const volume = /^\d+$/.test(volsize) ? Number(volsize) : undefined;
  if (volume !== undefined && volume > limits.maxBytes)
    throw new Error(`${snapshot} holds more than ${limits.maxBytes} bytes: raise maxBytes`);
  await must(
    volume === undefined
      ? manifestArgv.clone(snapshot, clone, mountpoint)
      : manifestArgv.cloneVolume(snapshot, clone),
  );
  let where: string | undefined;
  let out: Manifest | undefined;
  let error: unknown;
  try {
    if (volume !== undefined) {
      out = { snapshot, ...(await volumeManifest(zvolDevice(clone), volume)) };
    } else {
      let mounted: string | undefined;
      [mounted, where] = (await must(manifestArgv.where(clone))).trim().split('\n');
      if (mounted !== 'yes') {
        await must(manifestArgv.mount(clone));
        [mounted, where] = (await must(manifestArgv.where(clone))).trim().split('\n');
      }
      if (!where?.startsWith('/')) throw new Error(`the clone of ${snapshot} has no mountpoint (${where})`);
      out = { snapshot, ...(await walk(where, limits, snapshot)) };
    }
  } catch (err) {
    error = err;
  }
  // the clone goes also when the walk failed
  let r = await run(manifestArgv.destroy(clone), [0, 1, 2]);
  // a mount just walked can stay busy for a moment (zfs-fuse), a device just read too (udev's probe)
  for (let i = 0; i < 10 && r.code !== 0 && /busy/.test(r.stderr); i++) {
    await sleep(300);
    r = await run(manifestArgv.destroy(clone), [0, 1, 2]);
  }
  if (r.code !== 0) {
    const left = `the drill's clone ${clone} stays (destroy it with zfs destroy): ${r.stderr.trim()}`;
    error = new Error(error instanceof Error ? `${error.message}; ${left}` : left);
  }
  // the empty directory the mount left (ZFS made it)
  if (where?.startsWith('/')) await rmdir(where).catch(() => {});
  if (error || !out) throw error;
  return out;
}

export interface Difference {
  path: string;
  result: 'missing' | 'extra' | 'different';
  detail?: string;
}

const describe = (e: Entry) =>
  e.type === 'file' || e.type === 'volume'
    ? `${e.size} bytes, sha256 ${e.sha256?.slice(0, 12)}…`
    : e.type === 'link'
      ? `symlink to ${e.target}`
      : e.type;

/** The source's manifest against the replica's: missing there, extra there, or different. */
export function compareManifests(source: Entry[], replica: Entry[]): Difference[] {
  const theirs = new Map(replica.map((e) => [e.path, e]));
  const out: Difference[] = [];
  for (const e of source) {
    const r = theirs.get(e.path);
    theirs.delete(e.path);
    if (!r) out.push({ path: e.path, result: 'missing' });
    else if (r.type !== e.type || r.size !== e.size || r.sha256 !== e.sha256 || r.target !== e.target)
      out.push({
        path: e.path,
        result: 'different',
        detail: `source ${describe(e)}, replica ${describe(r)}`,
      });
  }
  for (const r of theirs.values()) out.push({ path: r.path, result: 'extra' });
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
