/**
 * The Cockpit plugin end to end, in real Cockpit (cockpit-ws --local-session) and Debian's
 * chromium, against a real agent process under a prefix, with pools on zfs-fuse file vdevs.
 * Every test saves a screenshot under artifacts/cockpit/.
 */
// test-runner: alone (a browser rendering 1,024 disk rows, timed by playwright; the page timeouts assume one browser)
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { createAgent } from '../../agent/create-agent.js';
import { createHardwareService } from '../../agent/hardware/service.js';
import { createRunner } from '../../agent/runner.js';
import { syntheticTree } from '../../probes/synthetic.js';
import type { AgentClient } from '../../rpc/client.js';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';
import { destroyPoolsChecked, poolName, useZfsFuse, vdevFiles } from '../zfs/helpers.js';
import {
  type CockpitSession,
  cockpitSession,
  type PluginRoot,
  pluginContext,
  runAll,
  screenshot,
  startCockpit,
} from './harness.js';

const NOBODY = 65534;
const runner = createRunner();

describe('Cockpit plugin in real Cockpit', { timeout: 300_000 }, () => {
  let fuse: Awaited<ReturnType<typeof useZfsFuse>> | undefined;
  let agent: AgentProcess;
  let client: AgentClient;
  let s: CockpitSession;
  let context: BrowserContext;
  let files: string[];
  const pool = poolName('ui');

  before(async () => {
    fuse = await useZfsFuse();
    agent = await startAgentProcess({
      config: {
        // the auditor test's browser session runs as nobody: it must reach the socket, and is an auditor
        agent: { socket: { mode: '0666' } },
        roles: { auditor: { uids: [NOBODY] } },
        terminal: { shell: '/bin/sh' },
      },
    });
    for (const d of [agent.prefix, path.dirname(agent.socket)]) chmodSync(d, 0o755);
    client = await agent.client();
    files = vdevFiles(path.join(agent.prefix, 'vdevs'), ['a.img', 'b.img'], 128 * 1024 * 1024);
    s = await cockpitSession();
    context = await s.newContext(agent.socket);
  });

  after(() =>
    runAll([
      () => s?.stop(),
      () => client?.close(),
      // the agent before the pool: while it runs it may hold the pool (a scrub, a mount), and a
      // destroy that failed under it used to be ignored, leaving the pool in zfs-fuse after the run
      () => agent?.stop(),
      () => destroyPoolsChecked([pool]),
      () => agent?.cleanup(),
      () => fuse?.release(),
    ]),
  );

  async function open(
    route: string,
    ctx = context,
    server: { url: string } = s.cockpit,
  ): Promise<{ page: Page; frame: PluginRoot }> {
    const { page, root } = await s.open(route, { context: ctx, server });
    return { page, frame: root };
  }

  it('appears in Cockpit’s menu and opens', async () => {
    const page = await context.newPage(); // closed with the context by s.stop()
    await page.goto(`${s.url}/`);
    const link = page.locator('nav a', { hasText: 'Calypso storage' });
    await link.first().waitFor({ timeout: 20_000 });
    await link.first().click();
    await page.waitForURL(/\/calypso/);
    const frame = page.frameLocator('iframe[name="cockpit1:localhost/calypso"]');
    await frame.locator('cal-app h1', { hasText: 'Calypso storage' }).waitFor();
    await frame.locator('cal-app .who[data-role="admin"]').waitFor();
    await screenshot(page, '01-menu');
  });

  it('Overview says "No pools" when there are none, not "Healthy · 0 pools"', async () => {
    const pools = (await client.call<{ items: { name: string }[] }>('pool.list')).items;
    const { frame } = await open('overview');
    const card = frame.locator('cal-overview section[aria-labelledby="h-pools"]');
    if (pools.length === 0) {
      await card.locator('.badge', { hasText: 'No pools' }).waitFor();
      assert.doesNotMatch((await card.textContent()) ?? '', /Healthy|0 pools/);
    } else {
      // pools of another run on this zfs-fuse: then the count is what shows
      await card.locator('p', { hasText: `${pools.length} pool` }).waitFor();
    }
  });

  it('Disks lists this machine’s disks', async () => {
    const disks = (await client.call<{ items: { name: string; type: string }[] }>('disk.list')).items;
    // lsblk, independently of the agent's probe: every whole disk of this machine
    const lsblk = await runner.run(['lsblk', '-d', '-n', '-o', 'NAME,TYPE']);
    const machine = lsblk.stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[1] === 'disk')
      .map((f) => f[0]!);
    assert.ok(machine.length > 0, 'this machine has disks');
    const { page, frame } = await open('disks');
    await frame.locator('cal-disks tr[data-disk]').first().waitFor();
    const shown = await frame
      .locator('cal-disks tr[data-disk]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-disk')));
    assert.deepEqual([...shown].sort(), disks.map((d) => d.name).sort());
    for (const name of machine) assert.ok(shown.includes(name), `${name} (lsblk) is on the page`);
    await screenshot(page, '02-disks');
  });

  it('keeps Disks smooth with 1,024 disks: only the rows in view exist, search filters', async () => {
    // a second agent, reading a synthetic 1,024-disk SAS JBOD instead of this machine
    const tree = syntheticTree({ disks: 1024 });
    const big = await createAgent({
      prefix: path.join(agent.prefix, 'synthetic-agent'),
      sysroot: tree.root,
      config: 'log: {level: silent, file: false}\nagent: {websocket: {enabled: false}}',
      services: [createHardwareService({ startMonitor: false })],
      log: pino({ level: 'silent' }),
      runner: createRunner({ path: '/nonexistent' }),
    });
    const ctx = await pluginContext(s.browser, (await big.listen()).socket);
    try {
      const { page, frame } = await open('disks', ctx);
      await frame.locator('cal-disks [data-count="1024"]').waitFor();
      const rows = frame.locator('cal-disks tr[data-disk]');
      const inDom = await rows.count();
      assert.ok(inDom > 10 && inDom < 100, `${inDom} rows in the DOM`);
      // every row is 37 px: the scroll range covers all 1,024 without rendering them
      const scroller = frame.locator('cal-disks .scroller');
      const height = await scroller.evaluate((el) => el.scrollHeight);
      assert.ok(Math.abs(height - 1025 * 37) < 60, `scroll height ${height}`);
      await scroller.evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await frame.locator(`cal-disks tr[data-disk="${tree.names.at(-1)}"]`).waitFor();
      await screenshot(page, '02b-disks-1024-scrolled');
      await frame.locator('cal-disks input[type="search"]').fill(tree.names[700]!);
      await frame.locator('cal-disks [data-count="1"]').waitFor();
      assert.equal(await rows.count(), 1);
    } finally {
      await ctx.close();
      await big.stop();
      tree.remove();
    }
  });

  it('creates a pool in the wizard: it appears in Pools and in zpool list', async () => {
    const { page, frame } = await open('pools');
    await frame.locator('cal-pools button[data-action="create"]').click();
    const wz = frame.locator('cal-pool-wizard');
    await wz.locator('#name').fill(pool);
    await wz.locator('#layout').selectOption('mirror');
    await wz.locator('button', { hasText: 'Next' }).click();
    await wz.locator('#files').fill(files.join('\n'));
    await wz.locator('#altroot').fill(path.join(agent.prefix, 'mnt'));
    await wz.locator('button', { hasText: 'Review commands' }).click();
    const plan = wz.locator('[data-plan]');
    await plan.waitFor();
    const text = (await plan.textContent()) ?? '';
    assert.match(text, new RegExp(`^zpool create .*${pool} mirror ${files[0]} ${files[1]}`));
    await screenshot(page, '03-wizard-review');
    await wz.locator('button[data-action="create"]').click();
    const card = frame.locator(`cal-pools section[data-pool="${pool}"]`);
    await card.waitFor({ timeout: 60_000 });
    assert.equal(await card.locator('[data-health]').textContent(), 'ONLINE');
    const zl = await runner.run(['zpool', 'list', '-H', '-o', 'name']);
    assert.ok(zl.stdout.split('\n').includes(pool), 'zpool list shows the pool');
    await screenshot(page, '04-pool-created');
  });

  it('runs a scrub: the progress bar moves to done', async () => {
    const { page, frame } = await open('pools');
    const card = frame.locator(`cal-pools section[data-pool="${pool}"]`);
    await card.locator('button', { hasText: /^Scrub$/ }).click();
    const bar = card.locator('cal-progress.scrub');
    await bar.waitFor();
    await frame
      .locator(`cal-pools section[data-pool="${pool}"] cal-progress.scrub[state="success"]`)
      .waitFor({
        timeout: 120_000,
      });
    assert.equal(await bar.locator('[role="progressbar"]').getAttribute('aria-valuenow'), '100');
    await screenshot(page, '05-scrub-done');
    const jobs = await client.call<{ items: { method: string; state: string }[] }>('job.list', {
      method: 'pool.scrub',
    });
    assert.equal(jobs.items[0]?.state, 'success');
  });

  it('refuses an auditor’s destroy with a readable message', async () => {
    const asNobody = await startCockpit({ pluginDir: s.buildDir, uid: NOBODY, gid: NOBODY });
    try {
      const ctx = await pluginContext(s.browser, agent.socket);
      const { page, frame } = await open('pools', ctx, asNobody);
      await frame.locator('cal-app .who[data-role="auditor"]').waitFor();
      const card = frame.locator(`cal-pools section[data-pool="${pool}"]`);
      await card.locator('button', { hasText: 'Destroy' }).click();
      const dialog = frame.locator('cal-confirm dialog');
      await dialog.locator('input').fill(pool);
      await dialog.locator('button.danger').click();
      const alert = card.locator('cal-error [role="alert"]');
      await alert.waitFor();
      const message = (await alert.textContent()) ?? '';
      assert.match(message, /Not allowed/);
      assert.match(message, /needs the admin role/);
      assert.match(message, /auditor/);
      await screenshot(page, '06-auditor-refused');
      await ctx.close();
    } finally {
      await asNobody.stop();
    }
    const zl = await runner.run(['zpool', 'list', '-H', '-o', 'name']);
    assert.ok(zl.stdout.split('\n').includes(pool), 'the pool is still there');
    const denied = await client.call<{ items: { user: string; method: string }[] }>('audit.query', {
      method: 'pool.destroy',
      outcome: 'denied',
    });
    assert.equal(denied.items[0]?.user, 'nobody');
  });

  it('shows Overview, Datasets, Jobs, Audit (chain verified) and the placeholders', async () => {
    let r = await open('overview');
    await r.frame.locator(`cal-overview cal-capacity-chart li[data-pool="${pool}"] [role="meter"]`).waitFor();
    // Pool I/O: data written into the pool while the page samples shows in its row and the chart
    const ioRow = r.frame.locator(`cal-overview cal-io-chart tr[data-pool="${pool}"]`);
    await ioRow.waitFor({ timeout: 20_000 });
    const { mountpoint } = await client.call<{ mountpoint: string }>('dataset.get', { name: pool });
    const block = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);
    let written = 0;
    const deadline = Date.now() + 30_000;
    let seen = 0;
    while (Date.now() < deadline && seen <= 1024 * 1024) {
      await writeFile(path.join(mountpoint, `io-${written++ % 4}.bin`), block);
      await new Promise((res) => setTimeout(res, 300));
      seen = Number(await ioRow.getAttribute('data-write-bytes'));
    }
    assert.ok(seen > 1024 * 1024, `the pool's row shows the writes (${seen} B/s)`);
    await r.frame.locator('cal-overview cal-io-chart canvas').first().waitFor();
    assert.ok(
      Number(await r.frame.locator('cal-overview cal-io-chart .plot').getAttribute('data-samples')) >= 2,
    );
    await screenshot(r.page, '08-overview');

    r = await open(`datasets/${pool}`);
    await r.frame.locator('cal-datasets #h-ds', { hasText: pool }).waitFor();
    await r.frame.locator('cal-datasets #snapname').fill('ui1');
    await r.frame.locator('cal-datasets button', { hasText: 'Take snapshot' }).click();
    await r.frame.locator('cal-datasets td', { hasText: 'ui1' }).waitFor();
    await screenshot(r.page, '09-datasets');

    r = await open('jobs');
    await r.frame.locator('cal-jobs tr[data-job]', { hasText: 'pool.scrub' }).first().waitFor();
    await screenshot(r.page, '10-jobs');

    r = await open('audit');
    await r.frame.locator('cal-audit td', { hasText: 'pool.create' }).first().waitFor();
    await r.frame.locator('cal-audit button', { hasText: 'Verify chain' }).click();
    await r.frame.locator('cal-audit [data-verify="ok"]').waitFor();
    await screenshot(r.page, '11-audit');

    r = await open('iscsi');
    // the iSCSI page (test/cockpit/iscsi-e2e.test.ts covers it): the backend or why there is none
    await r.frame.locator('cal-iscsi [data-reason]').waitFor();
    await screenshot(r.page, '12-iscsi');
  });

  it('follows Cockpit’s dark theme', async () => {
    const dark = await pluginContext(s.browser, agent.socket, { colorScheme: 'dark' });
    try {
      const { page, frame } = await open('pools', dark);
      await frame.locator(`cal-pools section[data-pool="${pool}"]`).waitFor();
      assert.equal(await page.evaluate('document.documentElement.classList.contains("pf-theme-dark")'), true);
      const bg = (await page.evaluate('getComputedStyle(document.body).backgroundColor')) as string;
      assert.equal(bg, 'rgb(21, 21, 21)');
      await screenshot(page, '13-dark');
      // the shell's own switch: localStorage shell:style + the cockpit-style event
      await page.evaluate(
        `localStorage.setItem('shell:style', 'light'); window.dispatchEvent(new CustomEvent('cockpit-style', { detail: { style: 'light' } }))`,
      );
      assert.equal(
        await page.evaluate('document.documentElement.classList.contains("pf-theme-dark")'),
        false,
      );
    } finally {
      await dark.close();
    }
  });

  it('runs echo in the terminal page and shows its output', async () => {
    const { page, frame } = await open('terminal');
    const rows = frame.locator('cal-terminal .xterm-rows');
    await rows.waitFor();
    await frame.locator('cal-terminal [data-status="open"]').waitFor({ state: 'attached' });
    await waitText(rows, /[#$] *$/m);
    await frame.locator('cal-terminal .xterm-helper-textarea').focus();
    await page.keyboard.type('echo calypso-$((6*7))');
    await page.keyboard.press('Enter');
    await waitText(rows, /^calypso-42\s*$/m);
    await screenshot(page, '07-terminal');
  });
});

/** Wait until the terminal's screen (one div per row) matches. */
async function waitText(
  rows: import('playwright-core').Locator,
  re: RegExp,
  timeoutMs = 20_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    last = (await rows.locator(':scope > div').allTextContents()).map((l) => l.trimEnd()).join('\n');
    if (re.test(last)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${re}; terminal shows:\n${last}`);
}
