/**
 * Real Cockpit for the plugin's end-to-end tests: the plugin built into a temporary data
 * directory, `cockpit-ws --no-tls --local-session=cockpit-bridge` serving it (the bridge finds
 * packages through XDG_DATA_DIRS), and Debian's chromium driven by playwright-core.
 *
 * --local-session starts the bridge as the user cockpit-ws runs as, with no login. Running
 * cockpit-ws as root gives a root session (the agent sees uid 0: admin); running it as another
 * uid (`nobody`) gives that user's session, which the agent maps to a role by uid — that is how
 * the auditor test gets an auditor in the browser.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { createRunner } from '../../agent/runner.js';
import { repoRoot } from '../helpers/paths.js';
import { processesReferring } from '../leftovers.js';

export const CHROMIUM = '/usr/bin/chromium';
export const COCKPIT_WS = '/usr/lib/cockpit/cockpit-ws';
export const PLUGIN_FRAME = 'iframe[name="cockpit1:localhost/calypso"]';

/** Build the plugin (cockpit/build.mjs) into `outdir`; returns esbuild's metafile. */
export async function buildPlugin(outdir: string): Promise<{ outdir: string; metafile: unknown }> {
  const mod = (await import(pathToFileURL(path.join(repoRoot(), 'cockpit', 'build.mjs')).href)) as {
    buildPlugin(o: { outdir: string }): Promise<{ outdir: string; metafile: unknown }>;
  };
  try {
    return await mod.buildPlugin({ outdir });
  } finally {
    // esbuild's service process ends with the build, also when it failed (a `before` that throws
    // must not leave a child process behind); the next build starts a new one
    await (await import('esbuild')).stop();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface CockpitServer {
  url: string;
  /** the data dir whose cockpit/calypso is the plugin */
  dataDir: string;
  stop(): Promise<void>;
}

export interface CockpitOptions {
  /** built plugin directory (buildPlugin's outdir) */
  pluginDir: string;
  uid?: number;
  gid?: number;
}

/** Start cockpit-ws with the plugin on its data path; resolves once it answers HTTP. */
export async function startCockpit(o: CockpitOptions): Promise<CockpitServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'calypso-cockpit-'));
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
      env: { XDG_DATA_DIRS: `${dataDir}:/usr/share`, HOME: home, XDG_RUNTIME_DIR: home },
    },
  );
  const ended = done.catch(() => undefined);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`cockpit-ws exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${url}/`);
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      stop.abort();
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
      // are gone: a bridge outliving the test would keep serving the plugin's directory
      let left = processesReferring(dataDir);
      for (let i = 0; i < 50 && left.length; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = processesReferring(dataDir);
      }
      rmSync(dataDir, { recursive: true, force: true });
      if (left.length)
        throw new Error(`cockpit processes left: ${left.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`);
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** A browser context whose pages talk to the agent at `socket` (the plugin reads localStorage). */
export async function pluginContext(
  browser: Browser,
  socket: string,
  { colorScheme = 'light', bypassCSP = false }: { colorScheme?: 'light' | 'dark'; bypassCSP?: boolean } = {},
) {
  const context = await browser.newContext({
    viewport: { width: 1400, height: 900 },
    colorScheme,
    bypassCSP,
  });
  // a script string: this file is compiled without the DOM library
  await context.addInitScript(`window.localStorage.setItem('calypso:socket', ${JSON.stringify(socket)});`);
  return context;
}

/** Where the plugin's elements are: the page itself, or the shell's iframe. */
export type PluginRoot = { locator(selector: string, options?: { hasText?: string | RegExp }): Locator };

/**
 * Open a plugin page. By default the package's own URL (`/cockpit/@localhost/calypso/index.html`,
 * what the shell puts in its iframe: same cockpit-ws, bridge and channel), which loads in a
 * fraction of the time of the whole shell on a busy machine; the `shell` option opens it inside
 * the Cockpit shell.
 */
export async function openPluginPage(
  context: BrowserContext,
  url: string,
  route: string,
  { shell = false } = {},
): Promise<{ page: Page; root: PluginRoot }> {
  const page = await context.newPage();
  page.on('pageerror', (e) => process.stderr.write(`# page error: ${e.message}\n`));
  await page.goto(
    shell ? `${url}/calypso#/${route}` : `${url}/cockpit/@localhost/calypso/index.html#/${route}`,
  );
  const root: PluginRoot = shell ? page.frameLocator(PLUGIN_FRAME) : page;
  await root.locator('cal-app h1').waitFor({ timeout: 20_000 });
  return { page, root };
}

export function artifactsDir(): string {
  const dir = path.join(repoRoot(), 'artifacts', 'cockpit');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const file = path.join(artifactsDir(), `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
