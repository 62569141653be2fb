/**
 * Cockpit plugin and terminal benchmarks (issue: Cockpit plugin), each beside its baseline:
 * - the plugin bundle, gzipped, without xterm.js (goal ≤ 250 KB) and the xterm.js chunk that
 *   only the Terminal page loads;
 * - time to first render of Disks with 1,024 synthetic disks in headless chromium through real
 *   cockpit-ws (goal ≤ 1 s): a cold page load, and a switch from Overview to Disks, both until
 *   the rows are on screen; baseline: disk.list over the Unix socket from Node;
 * - terminal throughput through JSON-RPC events (with acknowledgements) against the same
 *   command read straight from node-pty.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as pty from 'node-pty';
import pino from 'pino';
import { createAgent } from '../agent/create-agent.js';
import { createHardwareService } from '../agent/hardware/service.js';
import { createRunner } from '../agent/runner.js';
import { terminalService } from '../agent/terminal/service.js';
import { syntheticTree } from '../probes/synthetic.js';
import { AgentClient } from '../rpc/client.js';
import { buildPlugin, launchChromium, pluginContext, startCockpit } from '../test/cockpit/harness.js';

const DISKS = 1024;
/** A runner that finds no tools: the agents here need none, and capability probes would compete for the CPU. */
const noTools = createRunner({ path: '/nonexistent' });
const ms = (x: number) => `${x.toFixed(0)} ms`;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Metafile {
  outputs: Record<string, { inputs: Record<string, unknown> }>;
}

async function bundleSizes(outdir: string, metafile: Metafile) {
  let app = 0;
  let xterm = 0;
  let uplot = 0;
  for (const [out, info] of Object.entries(metafile.outputs)) {
    if (!/\.(js|css)$/.test(out)) continue;
    // output paths are relative to the build's working directory: the files are in outdir
    const gz = gzipSync(readFileSync(path.join(outdir, path.basename(out)))).length;
    const inputs = Object.keys(info.inputs);
    if (inputs.some((i) => i.includes('node_modules/@xterm/'))) xterm += gz;
    else {
      app += gz;
      if (inputs.some((i) => i.includes('node_modules/uplot/'))) uplot += gz;
    }
  }
  app += gzipSync(readFileSync(path.join(outdir, 'calypso.css'))).length;
  app += gzipSync(readFileSync(path.join(outdir, 'index.html'))).length;
  return { app, xterm, uplot };
}

/** In-page: the Disks table shows all disks and rows. */
const ROWS_READY = `(() => {
  const disks = document.querySelector('cal-app')?.shadowRoot?.querySelector('cal-disks')?.shadowRoot;
  if (!disks) return false;
  const count = disks.querySelector('[data-count]');
  return count && count.getAttribute('data-count') === '${DISKS}' && disks.querySelector('tr[data-disk]') !== null;
})()`;

/** One request on a fresh connection, the answer line as received: the floor any client adds to. */
function rawCall(socket: string, method: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socket);
    const parts: Buffer[] = [];
    s.once('error', reject);
    s.on('data', (b: Buffer) => {
      parts.push(b);
      if (b.includes(10)) {
        s.end();
        resolve(Buffer.concat(parts).toString('utf8').trim());
      }
    });
    s.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: {} })}\n`);
  });
}

const RENDERED_AT = `performance.getEntriesByName('calypso:disks-rendered').at(-1).startTime`;

async function terminalThroughput(): Promise<{ rpc: number; raw: number; chars: number }> {
  const N = 2_000_000; // "1\r\n" … "2000000\r\n": ~16.9 million characters
  // baseline: the same command read straight from a pseudo-terminal
  const raw = await new Promise<number>((resolve) => {
    let chars = 0;
    const t = performance.now();
    const p = pty.spawn('/usr/bin/seq', ['1', String(N)], { cols: 80, rows: 24 });
    p.onData((d) => {
      chars += d.length;
    });
    p.onExit(() => resolve(chars / 1e6 / ((performance.now() - t) / 1000)));
  });
  const prefix = await mkdtemp(path.join(os.tmpdir(), 'calypso-bench-term-'));
  const agent = await createAgent({
    prefix,
    config:
      'log: {level: silent, file: false}\nagent: {websocket: {enabled: false}}\nterminal: {shell: /bin/sh}',
    services: [terminalService],
    log: pino({ level: 'silent' }),
    runner: noTools,
  });
  try {
    const where = await agent.listen();
    const c = await AgentClient.connectUnix(where.socket);
    let chars = 0;
    let acked = 0;
    let tail = '';
    let id = '';
    let done: () => void = () => {};
    const finished = new Promise<void>((r) => {
      done = r;
    });
    c.on('event', (ev: { topic: string; data: { id: string; data: string } }) => {
      if (ev.topic !== 'terminal.output' || ev.data.id !== id) return;
      chars += ev.data.data.length;
      tail = (tail + ev.data.data).slice(-64);
      if (chars - acked > 256 * 1024) {
        acked = chars;
        c.call('terminal.ack', { id, received: acked }).catch(() => {});
      }
      if (/END-7\r\n/.test(tail)) done();
    });
    id = (await c.call<{ id: string }>('terminal.open', { ack: true })).id;
    await new Promise((r) => setTimeout(r, 300)); // the prompt
    const start = chars;
    const t = performance.now();
    await c.call('terminal.input', { id, data: `seq 1 ${N}; echo END-$((3+4))\n` });
    await finished;
    const secs = (performance.now() - t) / 1000;
    c.close();
    return { rpc: (chars - start) / 1e6 / secs, raw, chars: chars - start };
  } finally {
    await agent.stop();
    await rm(prefix, { recursive: true, force: true });
  }
}

export async function benchCockpit(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const buildDir = await mkdtemp(path.join(os.tmpdir(), 'calypso-bench-plugin-'));
  const tree = syntheticTree({ disks: DISKS });
  const prefix = await mkdtemp(path.join(os.tmpdir(), 'calypso-bench-cockpit-'));
  let cleanup: (() => Promise<void>)[] = [];
  try {
    const { outdir, metafile } = await buildPlugin(buildDir);
    const sizes = await bundleSizes(outdir, metafile as Metafile);
    out['bundle gzipped, without xterm.js'] = `${kb(sizes.app)} (goal ≤ 250 KB)`;
    out['xterm.js chunk gzipped (Terminal page only)'] = kb(sizes.xterm);
    out['of the bundle: uPlot chunk gzipped (Overview I/O chart)'] = kb(sizes.uplot);

    const agent = await createAgent({
      prefix,
      sysroot: tree.root,
      config: 'log: {level: silent, file: false}\nagent: {websocket: {enabled: false}}',
      services: [createHardwareService({ startMonitor: false })],
      log: pino({ level: 'silent' }),
      runner: noTools,
    });
    cleanup.push(() => agent.stop());
    const where = await agent.listen();
    const listMs: number[] = [];
    let listBytes = 0;
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      const line = await rawCall(where.socket, 'disk.list');
      listMs.push(performance.now() - t);
      listBytes = line.length;
      const n = (JSON.parse(line) as { result: { total: number } }).result.total;
      if (n !== DISKS) throw new Error(`disk.list returned ${n} disks`);
    }

    const cockpit = await startCockpit({ pluginDir: outdir });
    cleanup.push(() => cockpit.stop());
    const browser = await launchChromium();
    cleanup.push(() => browser.close());
    // Playwright's string predicates run through eval, which Cockpit's CSP forbids in the page
    const context = await pluginContext(browser, where.socket, { bypassCSP: true });
    const base = `${cockpit.url}/cockpit/@localhost/calypso/index.html`;

    const cold: number[] = [];
    for (let i = 0; i < 4; i++) {
      const page = await context.newPage();
      await page.goto(`${base}#/disks`);
      await page.waitForFunction(ROWS_READY, undefined, { polling: 'raf', timeout: 60_000 });
      // the page's own User Timing mark: when the first rows were rendered, from navigation start
      const t = (await page.evaluate(RENDERED_AT)) as number;
      if (i > 0) cold.push(t); // the first load warms cockpit-ws's and the browser's caches
      await page.close();
    }
    const page = await context.newPage();
    await page.goto(`${base}#/overview`);
    await page.waitForFunction(
      `!!document.querySelector('cal-app')?.shadowRoot?.querySelector('cal-overview')`,
    );
    const hot: number[] = [];
    let inDom = 0;
    for (let i = 0; i < 5; i++) {
      const t = (await page.evaluate(
        `(() => { performance.clearMarks('calypso:disks-rendered'); const t = performance.now(); location.hash = '#/disks'; return t; })()`,
      )) as number;
      await page.waitForFunction(ROWS_READY, undefined, { polling: 'raf', timeout: 60_000 });
      hot.push(((await page.evaluate(RENDERED_AT)) as number) - t);
      inDom = (await page.evaluate(
        `document.querySelector('cal-app').shadowRoot.querySelector('cal-disks').shadowRoot.querySelectorAll('tr[data-disk]').length`,
      )) as number;
      await page.evaluate(`location.hash = '#/overview'`);
      await page.waitForFunction(
        `!document.querySelector('cal-app')?.shadowRoot?.querySelector('cal-disks')`,
      );
    }
    const list = median(listMs);
    out['disk.list of 1,024 disks, raw NDJSON on the Unix socket (median of 7, baseline)'] =
      `${ms(list)} (${kb(listBytes)})`;
    out['Disks first render, cold page load (median of 3)'] = `${ms(median(cold))} (goal ≤ 1 s)`;
    out['Disks first render, Overview → Disks (median of 5)'] = `${ms(median(hot))} (goal ≤ 1 s)`;
    out['  ratio to disk.list alone'] = (median(hot) / list).toFixed(1);
    out['  table rows in the DOM (virtualized)'] = `${inDom} of ${DISKS}`;

    const term = await terminalThroughput();
    out['terminal throughput, JSON-RPC events with acks'] =
      `${term.rpc.toFixed(1)} MB/s (${(term.chars / 1e6).toFixed(1)} MB)`;
    out['terminal throughput, node-pty alone (baseline)'] = `${term.raw.toFixed(1)} MB/s`;
    out['  ratio'] = (term.rpc / term.raw).toFixed(2);
    return out;
  } finally {
    for (const f of cleanup.reverse()) await f().catch(() => {});
    cleanup = [];
    tree.remove();
    await rm(prefix, { recursive: true, force: true });
    await rm(buildDir, { recursive: true, force: true });
  }
}
