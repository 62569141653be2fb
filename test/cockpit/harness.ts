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
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import {
  buildPlugin,
  type CockpitOptions,
  startCockpit as startSandboxCockpit,
} from '../../sandbox/cockpit.js';
import { freePort } from '../../sandbox/paths.js';
import { type AgentProcess, type AgentProcessOptions, startAgentProcess } from '../helpers/agent.js';
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
 * fraction of the time of the whole shell on a busy machine; `inCockpitShell` opens it inside
 * the Cockpit shell.
 */
export async function openPluginPage(
  context: BrowserContext,
  url: string,
  route: string,
  { inCockpitShell = false } = {},
): Promise<{ page: Page; root: PluginRoot }> {
  const page = await context.newPage();
  page.on('pageerror', (e) => process.stderr.write(`# page error: ${e.message}\n`));
  await page.goto(
    inCockpitShell ? `${url}/calypso#/${route}` : `${url}/cockpit/@localhost/calypso/index.html#/${route}`,
  );
  const root: PluginRoot = inCockpitShell ? page.frameLocator(PLUGIN_FRAME) : page;
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

/** What one e2e file runs: a plugin build, cockpit-ws, chromium and (optionally) a real agent. */
export interface CockpitSession {
  url: string;
  /** the built plugin (a temporary directory, removed by stop) */
  buildDir: string;
  cockpit: CockpitServer;
  browser: Browser;
  /** the agent process, when the session started one */
  agent?: AgentProcess;
  /** a context on the session's agent socket (when it started an agent) */
  context?: BrowserContext;
  /** a new browser context on `socket`, closed by stop() */
  newContext(socket: string, o?: Parameters<typeof pluginContext>[2]): Promise<BrowserContext>;
  /** open a plugin page (in the session's context unless given one); the page is closed by stop() */
  open(
    route: string,
    o?: { context?: BrowserContext; inCockpitShell?: boolean; server?: { url: string } },
  ): Promise<{ page: Page; root: PluginRoot }>;
  /** run `fn` in stop(), after the browser and cockpit stopped, before the session's agent (last deferred, first run) */
  defer(fn: () => unknown): void;
  /** stops everything in reverse order; every step runs even when one throws (then it throws them) */
  stop(): Promise<void>;
}

export interface CockpitSessionOptions {
  /** start a real agent process with these options (its context is `session.context`) */
  agent?: AgentProcessOptions;
  /** options for cockpit-ws besides the plugin directory (uid, gid, env) */
  cockpit?: Omit<CockpitOptions, 'pluginDir'>;
  /** runs on the build directory before the plugin is built into it */
  beforeBuild?: (dir: string) => unknown;
}

/** Run every step, in order, even when some throw; throw them all together at the end. */
export async function runAll(steps: (() => unknown)[]): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length) throw new AggregateError(errors, `${errors.length} steps of the stop failed`);
}

/**
 * Start (agent,) plugin build, cockpit-ws and chromium, in that order. When a step fails, what
 * was started is stopped before the error is thrown, so a failing `before` leaves nothing.
 */
export async function cockpitSession(o: CockpitSessionOptions = {}): Promise<CockpitSession> {
  const stops: (() => unknown)[] = [];
  const pages: Page[] = [];
  const contexts: BrowserContext[] = [];
  const deferred: (() => unknown)[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await runAll([
      ...pages.map((p) => () => p.close()),
      ...contexts.map((c) => () => c.close()),
      ...stops.reverse(),
    ]);
  };
  try {
    let agent: AgentProcess | undefined;
    if (o.agent) {
      const a = await startAgentProcess(o.agent);
      agent = a;
      stops.push(async () => {
        try {
          await a.stop();
        } finally {
          a.cleanup();
        }
      });
    }
    const buildDir = mkdtempSync(path.join(os.tmpdir(), 'calypso-plugin-'));
    stops.push(
      () => rmSync(buildDir, { recursive: true, force: true }),
      () => runAll(deferred.reverse()),
    );
    chmodSync(buildDir, 0o755);
    await o.beforeBuild?.(buildDir);
    await buildPlugin(buildDir);
    const cockpit = await startCockpit({ ...o.cockpit, pluginDir: buildDir });
    stops.push(() => cockpit.stop());
    const browser = await launchChromium();
    stops.push(() => browser.close());
    const newContext = async (socket: string, co?: Parameters<typeof pluginContext>[2]) => {
      const c = await pluginContext(browser, socket, co);
      contexts.push(c);
      return c;
    };
    const context = agent ? await newContext(agent.socket) : undefined;
    return {
      url: cockpit.url,
      buildDir,
      cockpit,
      browser,
      agent,
      context,
      newContext,
      open: async (route, oo = {}) => {
        const ctx = oo.context ?? context;
        if (!ctx) throw new Error('open: no context (the session has no agent; pass one)');
        const r = await openPluginPage(ctx, (oo.server ?? cockpit).url, route, {
          inCockpitShell: oo.inCockpitShell,
        });
        pages.push(r.page);
        return r;
      },
      defer: (fn) => {
        deferred.push(fn);
      },
      stop,
    };
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
}
