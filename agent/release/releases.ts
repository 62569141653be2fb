/**
 * Releases on disk and the `current` link.
 *
 * Crash safety rests on three rules, each a single rename(2), which is atomic on one filesystem:
 *  1. A directory gets a release's name (releases/X.Y.Z) only by renaming a staging directory
 *     whose every file was checked against the manifest. So a named release is always complete.
 *  2. `current` changes only by renaming a freshly made link over it (switchCurrent). So it is
 *     never missing and never points at anything but a named, complete release.
 *  3. A release is deleted only after being renamed to a `.trash-*` name, and never while
 *     `current` or an unfinished upgrade's journal names it.
 * Therefore, whenever the process dies, `current` points at a complete release; leftovers are
 * only dot-named staging/trash directories and `current.tmp-*` links, removed by cleanLeftovers.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { cp, lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { conflict, invalid, notFound } from '../../rpc/errors.js';
import { syncDirSync, writeFileAtomicSync } from '../fs/atomic-write.js';
import type { Layout } from '../layout.js';
import type { Runner } from '../runner.js';
import {
  MANIFEST_FILE,
  type Manifest,
  parseManifest,
  SIGNATURE_FILE,
  VERSION_RE,
  verifyManifestSignature,
  verifyTree,
} from './manifest.js';
import { releaseDir, releasePaths } from './paths.js';

export interface ReleaseInfo {
  version: string;
  path: string;
  manifest?: Manifest;
  installedAt?: number;
}

export function currentVersion(layout: Layout): string | undefined {
  try {
    const v = path.basename(readlinkSync(layout.current));
    return VERSION_RE.test(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export function readManifest(dir: string): Manifest | undefined {
  try {
    return parseManifest(readFileSync(path.join(dir, MANIFEST_FILE), 'utf8'));
  } catch {
    return undefined;
  }
}

export async function listReleases(layout: Layout): Promise<ReleaseInfo[]> {
  let names: string[] = [];
  try {
    names = await readdir(layout.releases);
  } catch {
    return [];
  }
  const installed = readInstalled(layout);
  const out: ReleaseInfo[] = [];
  for (const v of names) {
    if (!VERSION_RE.test(v)) continue;
    const dir = releaseDir(layout, v);
    if (!(await stat(dir)).isDirectory()) continue;
    out.push({ version: v, path: dir, manifest: readManifest(dir), installedAt: installed[v] });
  }
  return out;
}

export function readInstalled(layout: Layout): Record<string, number> {
  try {
    return JSON.parse(readFileSync(releasePaths(layout).installed, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

async function noteInstalled(layout: Layout, version: string, at: number): Promise<void> {
  const p = releasePaths(layout);
  await mkdir(p.dir, { recursive: true, mode: 0o700 });
  const map = readInstalled(layout);
  map[version] = at;
  writeFileAtomicSync(p.installed, `${JSON.stringify(map, null, 2)}\n`, { mode: 0o600 });
}

/** Point `current` at releases/<version>: a new link, then rename over the old one. */
export async function switchCurrent(layout: Layout, version: string): Promise<void> {
  const dir = releaseDir(layout, version);
  if (!existsSync(path.join(dir, MANIFEST_FILE))) throw notFound(`release ${version} is not installed`);
  const tmp = `${layout.current}.tmp-${randomBytes(4).toString('hex')}`;
  await symlink(path.join('releases', version), tmp);
  await rename(tmp, layout.current);
  syncDirSync(path.dirname(layout.current));
}

/** Make a staging directory beside the releases (same filesystem, so the final rename is atomic). */
export async function makeStaging(layout: Layout): Promise<string> {
  await mkdir(layout.releases, { recursive: true, mode: 0o755 });
  const dir = path.join(layout.releases, `.staging-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { mode: 0o755 });
  return dir;
}

export interface VerifyOptions {
  /** PEM of the trusted ed25519 key; when set, a valid manifest.sig is required. */
  trustedKey?: string;
}

/** Check the staged tree: manifest parses, signature (when a key is configured), every file. */
export async function verifyStaged(dir: string, opts: VerifyOptions): Promise<Manifest> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path.join(dir, MANIFEST_FILE));
  } catch {
    throw invalid('release: the archive has no manifest.json');
  }
  if (opts.trustedKey) {
    let sig: string;
    try {
      sig = await readFile(path.join(dir, SIGNATURE_FILE), 'utf8');
    } catch {
      throw invalid('release: a release key is configured and the archive is not signed (no manifest.sig)');
    }
    if (!verifyManifestSignature(bytes, sig, opts.trustedKey)) {
      throw invalid('release: the manifest signature does not verify with the configured release key');
    }
  }
  const manifest = parseManifest(bytes.toString('utf8'));
  const problems = await verifyTree(dir, manifest);
  if (problems.length) {
    throw invalid(
      `release ${manifest.version}: the archive does not match its manifest (${problems.join('; ')})`,
      {
        problems,
      },
    );
  }
  return manifest;
}

/** argv that unpacks a release tarball (its single top directory stripped) into `dir`. */
export function untarArgv(file: string, dir: string): string[] {
  // --no-same-owner: files belong to root, not to whoever built the tarball.
  // GNU tar refuses member names with `..` and strips leading `/`; the manifest check then
  // rejects anything that is not exactly the release.
  return [
    'tar',
    '--extract',
    '--gzip',
    '--file',
    file,
    '--directory',
    dir,
    '--strip-components=1',
    '--no-same-owner',
  ];
}

/** Unpack and verify a tarball into a staging directory. On failure the staging is removed. */
export async function stageTarball(
  runner: Runner,
  layout: Layout,
  file: string,
  opts: VerifyOptions & { signal?: AbortSignal },
): Promise<{ staging: string; manifest: Manifest }> {
  if (!path.isAbsolute(file)) throw invalid('release: the archive path must be absolute');
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) throw notFound(`release: ${file} does not exist or is not a file`);
  const staging = await makeStaging(layout);
  try {
    await runner.run(untarArgv(file, staging), { timeoutMs: 300_000, signal: opts.signal });
    const manifest = await verifyStaged(staging, opts);
    return { staging, manifest };
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/** Copy an unpacked release directory into staging and verify it (install from an unpacked tarball). */
export async function stageDirectory(
  layout: Layout,
  src: string,
  opts: VerifyOptions,
): Promise<{ staging: string; manifest: Manifest }> {
  const staging = await makeStaging(layout);
  try {
    await cp(src, staging, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    const manifest = await verifyStaged(staging, opts);
    return { staging, manifest };
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Give a verified staging directory its release name. If that release is already installed with
 * the same manifest and is complete, the staging copy is dropped and the installed one reused.
 */
export async function commitStaged(
  layout: Layout,
  staging: string,
  manifest: Manifest,
  now = Date.now(),
): Promise<string> {
  const dest = releaseDir(layout, manifest.version);
  if (existsSync(dest)) {
    const same =
      (await readFile(path.join(dest, MANIFEST_FILE)).catch(() => Buffer.alloc(0))).equals(
        await readFile(path.join(staging, MANIFEST_FILE)),
      ) && (await verifyTree(dest, manifest, 1)).length === 0;
    if (!same) {
      if (currentVersion(layout) === manifest.version) {
        throw conflict(
          `release ${manifest.version} is current and differs from this archive; install it under a new version`,
        );
      }
      await trash(layout, dest);
    } else {
      await rm(staging, { recursive: true, force: true });
      await noteInstalled(layout, manifest.version, now);
      return dest;
    }
  }
  await rename(staging, dest);
  syncDirSync(layout.releases);
  await noteInstalled(layout, manifest.version, now);
  return dest;
}

async function trash(layout: Layout, dir: string): Promise<void> {
  const t = path.join(layout.releases, `.trash-${randomBytes(6).toString('hex')}`);
  await rename(dir, t);
  syncDirSync(layout.releases);
  await rm(t, { recursive: true, force: true });
}

export async function removeRelease(
  layout: Layout,
  version: string,
  protect: readonly string[] = [],
): Promise<void> {
  if (currentVersion(layout) === version || protect.includes(version)) {
    throw conflict(`release ${version} is in use and cannot be removed`);
  }
  await trash(layout, releaseDir(layout, version));
}

/**
 * Keep the `keep` most recently installed releases, plus `current` and anything in `protect`
 * (the other side of an unfinished upgrade). Returns the versions removed.
 */
export async function pruneReleases(
  layout: Layout,
  keep: number,
  protect: readonly string[] = [],
): Promise<string[]> {
  const all = await listReleases(layout);
  const cur = currentVersion(layout);
  const mtimes = new Map<string, number>();
  for (const r of all) mtimes.set(r.version, r.installedAt ?? (await lstat(r.path)).mtimeMs);
  const order = [...all].sort((a, b) => mtimes.get(b.version)! - mtimes.get(a.version)!);
  const kept = new Set<string>([...(cur ? [cur] : []), ...protect]);
  for (const r of order) {
    if (kept.size >= keep) break;
    kept.add(r.version);
  }
  const removed: string[] = [];
  for (const r of order) {
    if (kept.has(r.version)) continue;
    await trash(layout, r.path);
    removed.push(r.version);
  }
  return removed;
}

/** Remove what an interrupted install or prune left: staging and trash directories, temp links. */
export async function cleanLeftovers(layout: Layout): Promise<string[]> {
  const removed: string[] = [];
  for (const [dir, re] of [
    [layout.releases, /^\.(staging|trash)-[0-9a-f]+$/],
    [path.dirname(layout.current), new RegExp(`^${path.basename(layout.current)}\\.tmp-[0-9a-f]+$`)],
  ] as const) {
    let names: string[] = [];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      if (!re.test(n)) continue;
      await rm(path.join(dir, n), { recursive: true, force: true });
      removed.push(path.join(dir, n));
    }
  }
  return removed;
}

/** The link target as written (for reports). */
export async function currentTarget(layout: Layout): Promise<string | undefined> {
  return readlink(layout.current).catch(() => undefined);
}
