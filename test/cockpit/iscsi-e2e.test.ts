/**
 * The iSCSI page in real Cockpit (cockpit-ws, headless Chromium) against a real agent process
 * on this machine, where SCST is not loaded: the page says the target service is not available
 * and why (each backend's own reason); a new target's plan is the agent's dry run (scstadmin
 * argv and the scst.conf diff, the CHAP secret redacted) and Create then shows the agent's
 * `unavailable` in plain words, with nothing configured.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';
import {
  buildPlugin,
  type CockpitServer,
  launchChromium,
  openPluginPage,
  pluginContext,
  screenshot,
  startCockpit,
} from './harness.js';

const IQN = 'iqn.2026-12.org.calypso:e2e-store';
const SECRET = 'E2e-chap-secr3t';

describe('iSCSI page in real Cockpit, no backend on this machine', { timeout: 240_000 }, () => {
  let agent: AgentProcess;
  let buildDir: string;
  let cockpit: CockpitServer;
  let browser: Browser;
  let context: BrowserContext;
  const opened: Page[] = [];

  before(async () => {
    agent = await startAgentProcess();
    buildDir = mkdtempSync(path.join(os.tmpdir(), 'calypso-plugin-'));
    chmodSync(buildDir, 0o755);
    await buildPlugin(buildDir);
    cockpit = await startCockpit({ pluginDir: buildDir });
    browser = await launchChromium();
    context = await pluginContext(browser, agent.socket);
  });

  after(async () => {
    for (const p of opened) await p.close().catch(() => {});
    await browser?.close();
    await cockpit?.stop();
    await agent?.stop();
    agent?.cleanup();
    if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  });

  it('says why no target can run, plans a target (dry run) and shows the refusal of the real create', async () => {
    const { page, root } = await openPluginPage(context, cockpit.url, 'iscsi');
    opened.push(page);
    const pageEl = root.locator('cal-iscsi');
    await pageEl.locator('[data-available="false"]').waitFor({ timeout: 30_000 });
    const reason = (await pageEl.locator('[data-reason]').textContent()) ?? '';
    assert.match(reason, /scst: SCST is not loaded \(no \/sys\/kernel\/scst_tgt\)/);
    assert.match((await pageEl.locator('li[data-backend="scst"]').textContent()) ?? '', /SCST is not loaded/);
    await pageEl.locator('p.empty', { hasText: 'No iSCSI targets yet.' }).waitFor();
    // no backend: no drift to compare, no sessions table
    assert.equal(await pageEl.locator('[data-drift]').count(), 0);
    assert.equal(await pageEl.locator('[data-list="sessions"]').count(), 0);
    await screenshot(page, 'iscsi-01-unavailable');

    await pageEl.locator('button', { hasText: 'New target' }).click();
    await pageEl.locator('#nt-iqn').fill(IQN);
    await pageEl.locator('#nt-alias').fill('e2estore');
    await pageEl.locator('#nt-address').fill('127.0.0.1');
    await pageEl.locator('#nt-chap-user').fill('esx');
    await pageEl.locator('#nt-chap-secret').fill(SECRET);
    const form = pageEl.locator('section[aria-labelledby="is-new"]');
    const create = form.locator('button.primary', { hasText: 'Create' });
    assert.equal(await create.isDisabled(), true, 'Create waits for the plan');
    await form.locator('button', { hasText: 'Show plan' }).click();
    const plan = pageEl.locator('[data-plan="target"]');
    await plan.waitFor();
    const cmds = (await plan.locator('pre[aria-label="Commands"]').textContent()) ?? '';
    assert.match(cmds, /^scstadmin -check_config \S+\/scst\.conf$/m);
    assert.match(cmds, /^scstadmin -noprompt -force -config \S+\/scst\.conf$/m);
    const diff = (await plan.locator('details pre').first().textContent()) ?? '';
    assert.match(diff, new RegExp(`TARGET ${IQN.replaceAll('.', '\\.')}`));
    assert.ok(!(await page.content()).includes(SECRET), 'the plan does not show the CHAP secret');
    assert.ok(!diff.includes(SECRET));
    await screenshot(page, 'iscsi-02-target-plan');

    assert.equal(await create.isDisabled(), false);
    await create.click();
    const err = pageEl.locator('cal-error [role="alert"]');
    await err.waitFor({ timeout: 30_000 });
    assert.match((await err.textContent()) ?? '', /no iSCSI target can run here/);
    // nothing was configured
    const c = await agent.client();
    try {
      assert.deepEqual(await c.call('iscsi.target.list'), []);
    } finally {
      c.close();
    }
    await screenshot(page, 'iscsi-03-create-unavailable');
  });
});
