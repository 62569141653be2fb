/**
 * The Data protection page's Immutable targets with a real Ceph RADOS Gateway (the object rig's
 * mon + memstore OSD under a temporary prefix, radosgw started by the agent's object service):
 * an immutable target made with object.target.immutable.create (compliance, 2 days) and one
 * with governance retention in years appear with their mode and retention; a plain bucket does
 * not. Real Cockpit and chromium, the package's own URL. Screenshot:
 * artifacts/cockpit/protection-immutable.png.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ObjectConfig } from '../../agent/object/config.js';
import { createObjectService } from '../../agent/object/service.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';
import { processesUnder, startCephLab } from '../object/ceph-lab.js';
import {
  buildPlugin,
  type CockpitServer,
  launchChromium,
  openPluginPage,
  type PluginRoot,
  pluginContext,
  screenshot,
  startCockpit,
} from './harness.js';

describe('Data protection page: immutable targets on a real RADOS Gateway', { timeout: 300_000 }, () => {
  const undo: (() => Promise<void>)[] = [];
  let agent: TestAgent;
  let cockpit: CockpitServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let root: PluginRoot;

  before(async () => {
    try {
      const labDir = tempDir('calypso-ceph-');
      undo.push(async () => {
        const left = processesUnder(labDir.dir);
        labDir.cleanup();
        if (left.length) throw new Error(`ceph processes survived: ${left.join(', ')}`);
      });
      const lab = await startCephLab(labDir.dir, { rgw: false });
      undo.push(() => lab.stop());
      const config: Partial<ObjectConfig> = {
        backend: 'rgw',
        address: '127.0.0.1',
        port: lab.rgwPort,
        tls: 'off',
        ceph: {
          conf: lab.conf,
          adminName: 'client.admin',
          adminKeyring: lab.adminKeyring,
          gatewayName: lab.rgwName,
          gatewayKeyring: lab.rgwKeyring,
        },
      };
      agent = await startTestAgent({ listen: true, services: [createObjectService({ config })] });
      undo.push(() => agent.stop());
      await agent.call('object.service.start');
      await agent.call('object.target.immutable.create', {
        bucket: 'vault-comp',
        user: 'comp-writer',
        mode: 'compliance',
        days: 2,
      });
      await agent.call('object.target.immutable.create', {
        bucket: 'vault-gov',
        user: 'gov-writer',
        mode: 'governance',
        years: 1,
      });
      await agent.call('object.user.create', { id: 'plain-owner', displayName: 'Plain owner' });
      await agent.call('object.bucket.create', { name: 'plain-bucket', owner: 'plain-owner' });

      const buildDir = mkdtempSync(path.join(os.tmpdir(), 'calypso-plugin-'));
      undo.push(async () => rmSync(buildDir, { recursive: true, force: true }));
      chmodSync(buildDir, 0o755);
      await buildPlugin(buildDir);
      cockpit = await startCockpit({ pluginDir: buildDir });
      undo.push(() => cockpit.stop());
      browser = await launchChromium();
      undo.push(() => browser.close());
      context = await pluginContext(browser, agent.socket!);
      ({ page, root } = await openPluginPage(context, cockpit.url, 'protection'));
      undo.push(() => page.close());
    } catch (err) {
      for (const u of undo.splice(0).reverse()) await u().catch(() => {});
      throw err;
    }
  });

  after(async () => {
    const errors: unknown[] = [];
    for (const u of undo.splice(0).reverse()) await u().catch((e) => errors.push(e));
    if (errors.length) throw errors[0];
  });

  it('lists the buckets with Object Lock, their mode and retention, and not the plain bucket', async () => {
    const section = (sel: string) =>
      root.locator(`cal-protection section[aria-labelledby="dp-immutable"] ${sel}`);
    await section('table[data-list="immutable"]').waitFor({ timeout: 30_000 });
    const rows = await section('tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim())),
    );
    assert.deepEqual(
      rows.sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      [
        ['vault-comp', 'compliance', '2 days'],
        ['vault-gov', 'governance', '1 year'],
      ],
    );
    const buckets = await agent.call<{ items: { name: string }[] }>('object.bucket.list');
    assert.ok(
      buckets.items.some((b) => b.name === 'plain-bucket'),
      'the plain bucket exists, and is left out',
    );
    // the sections of subsystems this agent does not run say so
    await root.locator('cal-protection-replication [data-unavailable]').first().waitFor();
    await section('table').scrollIntoViewIfNeeded();
    await screenshot(page, 'protection-immutable');
  });
});
