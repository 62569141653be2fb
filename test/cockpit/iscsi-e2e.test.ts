/**
 * The iSCSI page in real Cockpit (cockpit-ws, headless Chromium).
 *
 * 1. Against a real agent process on this machine, where SCST is not loaded: the page says the
 *    target service is not available and why (each backend's own reason); a new target's plan
 *    is the agent's dry run (scstadmin argv and the scst.conf diff, the CHAP secret redacted)
 *    and Create then shows the agent's `unavailable` in plain words, with nothing configured.
 * 2. Against an agent on the SCST backend over the recorded sysfs tree (test/fixtures/scst-sysfs:
 *    three running targets, two sessions), scstadmin and zfs answered by the suite's fake runner
 *    (SCST cannot run here and zfs-fuse has no zvols): the drift banner lists what runs
 *    unconfigured, sessions are listed, a target is created after its plan, the zvol LUN dialog
 *    shows the `zfs create` argv and the scst.conf diff before Create and the real run then does
 *    exactly that, CHAP shows its user and never the secret, Re-apply is one click, and Adopt
 *    takes the running targets over after its plan.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { scstBackendFactory } from '../../agent/iscsi/backend-scst.js';
import { iscsiSubsystem } from '../../agent/iscsi/service.js';
import { waitUntil } from '../../agent/util/time.js';
import { zfsSubsystem } from '../../agent/zfs/service.js';
import { type AgentProcess, startAgentProcess, startTestAgent, type TestAgent } from '../helpers/agent.js';
import { type FakeRunner, fakeRunner } from '../helpers/fake-runner.js';
import { SYSROOT } from '../iscsi/scst-state.js';
import { type CockpitSession, cockpitSession, screenshot } from './harness.js';

const IQN = 'iqn.2026-12.org.calypso:e2e-store';
const SECRET = 'E2e-chap-secr3t';

let s: CockpitSession | undefined;

before(async () => {
  s = await cockpitSession();
});

after(() => s?.stop());

describe('iSCSI page in real Cockpit, no backend on this machine', { timeout: 240_000 }, () => {
  let agent: AgentProcess;
  let context: BrowserContext;

  before(async () => {
    agent = await startAgentProcess();
    context = await s!.newContext(agent.socket);
  });

  after(async () => {
    await context?.close();
    await agent?.stop();
    agent?.cleanup();
  });

  it('says why no target can run, plans a target (dry run) and shows the refusal of the real create', async () => {
    const { page, root } = await s!.open('iscsi', { context });
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
    assert.match((await plan.textContent()) ?? '', /ISCSI_T1_CHAP_SECRET set \(value not shown\)/);
    assert.ok(!((await plan.textContent()) ?? '').includes(SECRET), 'the plan does not show the CHAP secret');
    await screenshot(page, 'iscsi-02-target-plan');

    assert.equal(await create.isDisabled(), false);
    await create.click();
    const err = pageEl.locator('cal-error [role="alert"]');
    await err.waitFor({ timeout: 30_000 });
    assert.match((await err.textContent()) ?? '', /no iSCSI target can run here/);
    // nothing was configured
    const c = await agent.client();
    try {
      assert.deepEqual((await c.call<{ items: unknown[] }>('iscsi.target.list')).items, []);
    } finally {
      c.close();
    }
    await screenshot(page, 'iscsi-03-create-unavailable');
  });
});

describe('iSCSI page on SCST over the recorded sysfs tree (fake scstadmin and zfs)', {
  timeout: 240_000,
}, () => {
  let t: TestAgent;
  let runner: FakeRunner;
  let context: BrowserContext;
  const STORE = 'iqn.2026-01.com.example:store';
  /** the commands of an apply (the page's loads run only reads: scstadmin -version, zpool list) */
  const changes = () =>
    runner.calls.filter(
      (a) =>
        (a[0] === 'scstadmin' && a.some((x) => x === '-config' || x === '-check_config')) ||
        (a[0] === 'zfs' && ['create', 'destroy', 'set'].includes(a[1] ?? '')),
    );

  before(async () => {
    runner = fakeRunner(() => '');
    t = await startTestAgent({
      sysroot: SYSROOT,
      runner,
      services: [iscsiSubsystem([scstBackendFactory]), zfsSubsystem],
      listen: true,
    });
    context = await s!.newContext(t.socket!);
  });

  after(async () => {
    await context?.close();
    await t?.stop();
  });

  it('drift and sessions; a target, a zvol LUN, a group and CHAP; Re-apply; Adopt after its plan', async () => {
    const { page, root } = await s!.open('iscsi', { context });
    const pageEl = root.locator('cal-iscsi');
    await pageEl.locator('[data-available="true"]').waitFor({ timeout: 30_000 });
    const banner = pageEl.locator('[data-drift]');
    await banner.waitFor();
    const drift = (await banner.textContent()) ?? '';
    assert.match(drift, /scst runs something else than configured/);
    assert.match(drift, /iqn\.2026-01\.com\.example:store\s*the target runs but is not configured/);
    await pageEl.locator('[data-list="sessions"] tr[data-session="iqn.2026-01.com.example:host1"]').waitFor();
    await screenshot(page, 'iscsi-11-drift-sessions');

    // a target, after its plan
    await pageEl.locator('button', { hasText: 'New target' }).click();
    const form = pageEl.locator('section[aria-labelledby="is-new"]');
    await form.locator('#nt-iqn').fill(IQN);
    await form.locator('#nt-address').fill('127.0.0.1');
    await form.locator('button', { hasText: 'Show plan' }).click();
    await form.locator('[data-plan="target"]').waitFor();
    assert.deepEqual(changes(), [], 'the plan ran nothing');
    await form.locator('button.primary', { hasText: 'Create' }).click();
    const card = pageEl.locator(`cal-iscsi-target section[data-target="${IQN}"]`);
    await card.waitFor();
    assert.deepEqual(
      changes().map((a) => a.slice(0, 2)),
      [
        ['scstadmin', '-check_config'],
        ['scstadmin', '-noprompt'],
      ],
    );

    // a LUN on a new zvol, in one dialog: the plan first, then exactly that
    await card.locator('button', { hasText: 'Add LUN on a zvol' }).click();
    const dlg = pageEl.locator('cal-iscsi-lun-dialog dialog');
    await dlg.waitFor();
    runner.clear();
    await dlg.locator('#lun-dataset').fill('tank/e2e-vm0');
    await dlg.locator('#lun-size').fill('64M');
    await dlg.locator('#lun-volblocksize').selectOption('16K');
    await dlg.locator('#lun-blocksize').selectOption('4096');
    const lunCreate = dlg.locator('button.primary', { hasText: 'Create' });
    assert.equal(await lunCreate.isDisabled(), true, 'Create waits for the plan');
    await dlg.locator('button', { hasText: 'Show plan' }).click();
    const plan = dlg.locator('[data-plan]');
    await plan.waitFor();
    const cmds = ((await plan.locator('pre[aria-label="Commands"]').textContent()) ?? '').split('\n');
    assert.equal(cmds[0], 'zfs create -s -b 16K -V 67108864 -- tank/e2e-vm0');
    assert.match(cmds.slice(1).join('\n'), /^scstadmin -noprompt -force -config \S+scst\.conf$/m);
    assert.match((await plan.locator('details pre').textContent()) ?? '', /\/dev\/zvol\/tank\/e2e-vm0/);
    assert.deepEqual(changes(), [], 'the plan ran nothing');
    await screenshot(page, 'iscsi-12-zvol-lun-plan');
    // an edit drops the plan: Create is again disabled until the plan matches the fields
    await dlg.locator('#lun-size').fill('65M');
    assert.equal(await lunCreate.isDisabled(), true);
    await dlg.locator('#lun-size').fill('64M');
    await dlg.locator('button', { hasText: 'Show plan' }).click();
    await plan.waitFor();
    await lunCreate.click();
    await card.locator('tr[data-lun="0"]', { hasText: 'zvol tank/e2e-vm0' }).waitFor();
    assert.equal(await dlg.isVisible(), false, 'the dialog closed');
    assert.deepEqual(
      changes().map((a) => a.join(' ')),
      cmds,
      'the real run ran what the plan listed, in order',
    );
    assert.match((await card.locator('tr[data-lun="0"]').textContent()) ?? '', /4096/);

    // an initiator group, and CHAP: the user is shown, the secret never
    await card.locator('#grp-name').fill('hosts');
    await card.locator('#grp-inits').fill('iqn.2026-12.org.example:esx1');
    await card.locator('button', { hasText: 'Add group' }).click();
    await card.locator('tr[data-group="hosts"]', { hasText: 'iqn.2026-12.org.example:esx1' }).waitFor();
    await card.locator('[data-chap] button', { hasText: 'Set' }).click();
    await card.locator('#chap-user').fill('esx');
    await card.locator('#chap-secret').fill(SECRET);
    await card.locator('button', { hasText: 'Save CHAP' }).click();
    await card.locator('[data-chap]', { hasText: 'esx' }).waitFor();
    await card.locator('#chap-secret').waitFor({ state: 'detached' });
    assert.ok(!((await card.textContent()) ?? '').includes(SECRET));
    const listed = (await t.call<{ items: { iqn: string; chap?: { user: string } }[] }>('iscsi.target.list'))
      .items;
    assert.equal(listed.find((x) => x.iqn === IQN)?.chap?.user, 'esx');
    assert.ok(!JSON.stringify(listed).includes(SECRET));
    // alias and portals; the LUN's cache mode
    await card.locator('.toolbar button', { hasText: 'Edit' }).click();
    await card.locator('#ed-alias').fill('e2e');
    await card.locator('#ed-portals').fill('127.0.0.1:3262');
    await card.locator('button', { hasText: 'Save' }).click();
    await card.locator('h3', { hasText: /^\s*e2e\s+iqn/ }).waitFor();
    await card.locator('dd', { hasText: '127.0.0.1:3262' }).waitFor();
    await card.locator('tr[data-lun="0"] select').selectOption('write-back');
    await waitUntil(async () => {
      const x = (
        await t.call<{ items: { iqn: string; luns: { cache: string }[] }[] }>('iscsi.target.list')
      ).items.find((y) => y.iqn === IQN);
      return x?.luns[0]?.cache === 'write-back';
    });
    await screenshot(page, 'iscsi-13-target');

    // Re-apply: one click
    runner.clear();
    await banner.locator('button', { hasText: 'Re-apply' }).click();
    const done = pageEl.locator('[data-done]');
    await done.waitFor();
    assert.match((await done.textContent()) ?? '', /Re-applied: \d+ commands? ran/);
    assert.ok(
      changes().some((a) => a.includes('-config')),
      JSON.stringify(runner.calls),
    );
    await done.locator('button', { hasText: 'Dismiss' }).click();

    // Adopt running: its plan, then the running targets become the configuration
    await banner.locator('button', { hasText: 'Adopt running' }).click();
    const adoptPlan = banner.locator('[data-plan="adopt"]');
    await adoptPlan.waitFor();
    assert.match((await adoptPlan.textContent()) ?? '', /scstadmin/);
    await screenshot(page, 'iscsi-14-adopt-plan');
    await adoptPlan.locator('button.primary', { hasText: 'Adopt' }).click();
    await pageEl.locator('[data-done]', { hasText: 'Adopted' }).waitFor();
    const store = pageEl.locator(`cal-iscsi-target section[data-target="${STORE}"]`);
    await store.waitFor();
    assert.equal(await card.count(), 0, 'adopt dropped the target that does not run');
    await screenshot(page, 'iscsi-15-adopted');

    // deleting a target with a connected initiator: the name typed back, then force
    await store.locator('[data-sessions="1"]', { hasText: 'iqn.2026-01.com.example:host1' }).waitFor();
    runner.clear();
    await store.locator('.toolbar button.danger', { hasText: 'Delete' }).click();
    const confirm = root.locator('cal-confirm dialog');
    await confirm.waitFor();
    assert.match((await confirm.textContent()) ?? '', /Connected now: iqn\.2026-01\.com\.example:host1/);
    const yes = confirm.locator('button.danger', { hasText: 'Delete' });
    assert.equal(await yes.isDisabled(), true, 'the IQN must be typed first');
    await confirm.locator('input').fill(STORE);
    await yes.click();
    await store.waitFor({ state: 'detached' });
    assert.ok(changes().some((a) => a.includes('-config')));
    const left = (await t.call<{ items: { iqn: string }[] }>('iscsi.target.list')).items;
    assert.ok(!left.some((x) => x.iqn === STORE));
  });
});
