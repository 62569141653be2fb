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
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import {
  buildPlugin,
  type CockpitOptions,
  startCockpit as startSandboxCockpit,
} from '../../sandbox/cockpit.js';
import { freePort } from '../../sandbox/paths.js';
import { repoRoot } from '../helpers/paths.js';

export const CHROMIUM = '/usr/bin/chromium';
export { COCKPIT_WS } from '../../sandbox/cockpit.js';
export const PLUGIN_FRAME = 'iframe[name="cockpit1:localhost/calypso"]';

export { buildPlugin, type CockpitOptions, freePort };

export interface CockpitServer {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** sandbox/cockpit.ts's cockpit-ws, whose stop() throws when a cockpit process is left. */
export async function startCockpit(o: CockpitOptions): Promise<CockpitServer> {
  const s = await startSandboxCockpit(o);
  return {
    url: s.url,
    dataDir: s.dataDir,
    stop: async () => {
      const left = await s.stop();
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
