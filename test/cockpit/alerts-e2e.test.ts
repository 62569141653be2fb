/**
 * raised by the agent shows on the bell of every page at once (the bell follows alert.*
 * events), the Alerts page lists it with what to do, Acknowledge makes it acknowledged in
 * `alert.list` (by the Cockpit user) and the bell drops it; a webhook target added with the form
 * answers "Send test" with Delivered, and the receiver got the signed test message. The data
 * module's pure functions (bell count, the target form) are checked directly.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import type { BrowserContext } from 'playwright-core';
import { notifySubsystem } from '../../agent/alerts/notify.js';
import { alertsSubsystem } from '../../agent/alerts/service.js';
import { waitUntil } from '../../agent/util/time.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { repoRoot } from '../helpers/paths.js';
import { type CockpitSession, cockpitSession, screenshot } from './harness.js';

// the module's shape as this test uses it (the root tsconfig leaves browser code out)
type Count = { critical: number; warning: number; info: number; acknowledged: number };
type FormResult =
  | { target: { id: string; kind: string; webhook?: { url: string }; smtp?: { to: string[] } } }
  | { problems: string[] };
interface DataModule {
  bellCount(c: Count): number;
  bellLevel(c: Count): string;
  targetFromForm(f: Record<string, string>): FormResult;
}

let s: CockpitSession | undefined;
let t: TestAgent;
let context: BrowserContext;
let hook: Server;
let data: DataModule;
const received: { body: string; sig?: string }[] = [];

before(async () => {
  s = await cockpitSession({
    // the data module is bundled and imported before the plugin build empties the directory
    beforeBuild: async (dir) => {
      const out = path.join(dir, 'alerts-data.mjs');
      await esbuild.build({
        entryPoints: [path.join(repoRoot(), 'cockpit/src/data/alerts.ts')],
        bundle: true,
        format: 'esm',
        platform: 'node',
        outfile: out,
      });
      data = (await import(pathToFileURL(out).href)) as DataModule;
    },
  });
  const session = s;
  // the package holds what Cockpit serves, not the bundler's metafile
  assert.deepEqual(
    readdirSync(session.buildDir).filter(
      (f) => f.startsWith('.') || (f.endsWith('.json') && f !== 'manifest.json'),
    ),
    [],
  );
  // the test's webhook receiver is on loopback: calypso.yaml must allow it (issue #28 item 13)
  t = await startTestAgent({
    services: [alertsSubsystem, notifySubsystem],
    listen: true,
    config: { notify: { webhookAllow: ['127.0.0.1'] } },
  });
  session.defer(() => t.stop());
  context = await session.newContext(t.socket!);
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (b) => {
      body += b;
    });
    req.on('end', () => {
      received.push({ body, sig: req.headers['x-calypso-signature'] as string | undefined });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
});

after(async () => {
  try {
    await s?.stop();
  } finally {
    await new Promise((r) => hook?.close(r));
  }
});

describe('the data module', () => {
  it('counts active warnings and criticals for the bell, worst level first', () => {
    assert.equal(data.bellCount({ critical: 2, warning: 1, info: 5, acknowledged: 4 }), 3);
    assert.equal(data.bellLevel({ critical: 0, warning: 1, info: 0, acknowledged: 0 }), 'warning');
    assert.equal(data.bellLevel({ critical: 1, warning: 1, info: 0, acknowledged: 0 }), 'critical');
    assert.equal(data.bellLevel({ critical: 0, warning: 0, info: 3, acknowledged: 1 }), 'none');
  });

  it('turns the target form into params, or says what is missing', () => {
    const ok = data.targetFromForm({
      kind: 'webhook',
      id: 'ops',
      url: 'https://h.example/x',
      secret: 's3cret',
    });
    assert.ok('target' in ok);
    assert.deepEqual(ok.target, {
      id: 'ops',
      kind: 'webhook',
      webhook: { url: 'https://h.example/x' },
      minLevel: 'warning',
      digestMinutes: 60,
    });
    const bad = data.targetFromForm({
      kind: 'smtp',
      id: 'Bad Id',
      to: '',
      from: '',
      host: '',
      port: '99999',
    });
    assert.ok('problems' in bad);
    assert.equal(bad.problems.length, 5);
    const badDigest = data.targetFromForm({
      kind: 'webhook',
      id: 'd',
      url: 'https://h.example/x',
      secret: 's',
      digestMinutes: '-1',
    });
    assert.ok('problems' in badDigest && /digest/.test(badDigest.problems.join()));
    const mail = data.targetFromForm({
      kind: 'smtp',
      id: 'mail',
      to: 'a@example.org, b@example.org',
      from: 'c@example.org',
      host: 'smtp.example.org',
      port: '465',
      security: 'tls',
    });
    assert.ok('target' in mail);
    assert.deepEqual(mail.target.smtp?.to, ['a@example.org', 'b@example.org']);
  });
});

describe('Alerts in real Cockpit', { timeout: 240_000 }, () => {
  it('the bell counts a raised alert at once; Acknowledge on the Alerts page takes it off', async () => {
    const { page, root } = await s!.open('overview', { context });
    const bell = root.locator('cal-alert-bell a');
    await bell.waitFor({ timeout: 30_000 });
    await root.locator('cal-alert-bell a[data-count="0"]').waitFor();
    // an icon, not an emoji a browser without an emoji font shows as a box
    assert.equal(await root.locator('cal-alert-bell a svg.bell').count(), 1);
    assert.doesNotMatch((await bell.textContent()) ?? '', /\u{1F514}/u);
    await t.deps.alerts.raise({
      key: 'zfs.pool.health:tank',
      level: 'critical',
      source: 'zfs',
      title: 'pool tank is DEGRADED',
      detail: 'Bring the device back online (pool.online) or replace it (pool.replace).',
    });
    await root
      .locator('cal-alert-bell a[data-count="1"][data-level="critical"]')
      .waitFor({ timeout: 15_000 });
    await screenshot(page, 'alerts-01-bell');

    await bell.click();
    const pageEl = root.locator('cal-alerts');
    const row = pageEl.locator('tr[data-key="zfs.pool.health:tank"]');
    await row.waitFor({ timeout: 15_000 });
    assert.match((await row.textContent()) ?? '', /pool\.online/);
    assert.equal(await row.getAttribute('data-state'), 'active');
    await screenshot(page, 'alerts-02-page');
    await row.locator('button[data-action="ack"]').click();
    await pageEl
      .locator('tr[data-key="zfs.pool.health:tank"][data-state="acknowledged"]')
      .waitFor({ timeout: 15_000 });
    const list = await t.call<{ items: { key: string; state: string; ackedBy?: string }[] }>(
      'alert.list',
      {},
    );
    const a = list.items.find((x) => x.key === 'zfs.pool.health:tank');
    assert.equal(a?.state, 'acknowledged');
    assert.ok(a?.ackedBy, 'acknowledged by the Cockpit user');
    await root.locator('cal-alert-bell a[data-count="0"]').waitFor({ timeout: 15_000 });
  });

  it('adds a webhook target with the form and Send test delivers a signed message', async () => {
    const { page, root } = await s!.open('alerts', { context });
    const pageEl = root.locator('cal-alerts');
    await pageEl.locator('summary', { hasText: 'Add a notification target' }).click();
    const form = pageEl.locator('form[data-form="target"]');
    await form.locator('input[name="id"]').fill('ops-hook');
    await form
      .locator('input[name="url"]')
      .fill(`http://127.0.0.1:${(hook.address() as AddressInfo).port}/calypso`);
    await form.locator('input[name="secret"]').fill('Hook-secret-e2e');
    await form.locator('input[name="digestMinutes"]').fill('15');
    await form.locator('button[type="submit"]').click();
    const row = pageEl.locator('tr[data-target="ops-hook"]');
    await row.waitFor({ timeout: 15_000 });
    await row.locator('td', { hasText: 'every 15 min' }).waitFor();
    await row.locator('button[data-action="test"]').click();
    await row.locator('[data-test-result]', { hasText: 'Delivered' }).waitFor({ timeout: 15_000 });
    await screenshot(page, 'alerts-03-targets');
    const got = await waitUntil(() => received.find((r) => r.body.includes('"event":"test"')), {
      what: 'the test',
    });
    assert.match(got.sig ?? '', /^sha256=[0-9a-f]{64}$/);
    assert.doesNotMatch((await pageEl.textContent()) ?? '', /Hook-secret-e2e/);
  });
});
