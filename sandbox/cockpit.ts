/**
 * Real Cockpit for the demo (`npm run demo -- --ui`) and the plugin's end-to-end tests: the
 * plugin built into a directory, `cockpit-ws --no-tls --local-session=cockpit-bridge` serving it
 * on a free loopback port (the bridge finds packages through XDG_DATA_DIRS).
 *
 * --local-session starts the bridge as the user cockpit-ws runs as, with no login. Running
 * cockpit-ws as root gives a root session (the agent sees uid 0: admin); running it as another
 * uid (`nobody`) gives that user's session, which the agent maps to a role by uid.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRunner } from '../agent/runner.js';
import { freePort, repoRoot } from './paths.js';
import { processesReferring } from './procs.js';

export const COCKPIT_WS = '/usr/lib/cockpit/cockpit-ws';

/**
 * Build the plugin (cockpit/build.mjs) into `outdir`; returns esbuild's metafile. `socket`: the
 * agent socket it talks to unless localStorage says otherwise (default the appliance's).
 */
export async function buildPlugin(
  outdir: string,
  socket?: string,
): Promise<{ outdir: string; metafile: unknown }> {
  const mod = (await import(pathToFileURL(path.join(repoRoot(), 'cockpit', 'build.mjs')).href)) as {
    buildPlugin(o: { outdir: string; socket?: string }): Promise<{ outdir: string; metafile: unknown }>;
  };
  try {
    return await mod.buildPlugin({ outdir, socket });
  } finally {
    // esbuild's service process ends with the build, also when it failed (a `before` that throws
    // must not leave a child process behind); the next build starts a new one
    await (await import('esbuild')).stop();
  }
}

/** Why Cockpit cannot be started here, or undefined when it can. */
export function cockpitMissing(): string | undefined {
  if (!existsSync(COCKPIT_WS))
    return `${COCKPIT_WS} is not installed (apt-get install cockpit-ws cockpit-bridge)`;
  return undefined;
}

export interface CockpitServer {
  url: string;
  /** the data dir whose cockpit/calypso is the plugin */
  dataDir: string;
  /** stops cockpit-ws, waits for its bridges, removes the data dir; the processes still left */
  stop(): Promise<{ pid: number; name: string }[]>;
}

export interface CockpitOptions {
  /** built plugin directory (buildPlugin's outdir) */
  pluginDir: string;
  uid?: number;
  gid?: number;
  /** where the data dir goes (default the system's temporary directory) */
  parent?: string;
  env?: Record<string, string>;
}

/** Start cockpit-ws with the plugin on its data path; resolves once it answers HTTP. */
export async function startCockpit(o: CockpitOptions): Promise<CockpitServer> {
  const parent = o.parent ?? os.tmpdir();
  mkdirSync(parent, { recursive: true });
  const dataDir = mkdtempSync(path.join(parent, 'calypso-cockpit-'));
  // readable by the session's user when it is not root (mkdtemp makes 0700)
  chmodSync(dataDir, 0o755);
  mkdirSync(path.join(dataDir, 'cockpit'), { mode: 0o755 });
  symlinkSync(o.pluginDir, path.join(dataDir, 'cockpit', 'calypso'));
  const home = path.join(dataDir, 'home');
  mkdirSync(home, { mode: 0o755 });
  if (o.uid !== undefined) chmodSync(home, 0o777);
  const port = await freePort();
  const stop = new AbortController();
  const { child, done } = createRunner().spawn(
    [
      COCKPIT_WS,
      '--no-tls',
      '--local-session=cockpit-bridge',
      '--port',
      String(port),
      '--address',
      '127.0.0.1',
    ],
    {
      timeoutMs: 0,
      signal: stop.signal,
      uid: o.uid,
      gid: o.gid,
      env: { ...o.env, XDG_DATA_DIRS: `${dataDir}:/usr/share`, HOME: home, XDG_RUNTIME_DIR: home },
    },
  );
  const ended = done.catch(() => undefined);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`cockpit-ws exited with ${child.exitCode}`);
    }
    try {
      const r = await fetch(`${url}/`);
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      stop.abort();
      await ended;
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error('cockpit-ws did not answer in time');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dataDir,
    stop: async () => {
      stop.abort();
      await ended;
      // cockpit-ws and the cockpit-bridge sessions it started (they carry XDG_DATA_DIRS=dataDir)
      // are gone: a bridge outliving it would keep serving the plugin's directory
      let left = processesReferring(dataDir);
      for (let i = 0; i < 50 && left.length; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = processesReferring(dataDir);
      }
      rmSync(dataDir, { recursive: true, force: true });
      return left;
    },
  };
}
