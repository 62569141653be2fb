/**
 * The Identities and Shares pages in real Cockpit (cockpit-ws --local-session, headless
 * chromium) against a real agent and a real smbd on the files it renders (test/shares/smb-lab.ts:
 * users and groups in nss_wrapper files under a temporary directory, smbd on a free loopback
 * port). On Identities a group and a user (with an SMB password that is never shown back) are
 * made; on Shares a share is made after the dialog showed who may do what (the access matrix)
 * and the plan; the agent has it, smbclient as that user writes a file once the directory is the
 * group's, the dialog's matrix then says write, the user's live session and open file show on
 * the page, and Delete asks first. Screenshots: artifacts/cockpit/identities-*.png, shares-*.png.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { createRunner } from '../../agent/runner.js';
import { sharesSubsystem } from '../../agent/shares/service.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { freePort, nssFiles, type SmbAccounts, type Smbd, startSmbd } from '../shares/smb-lab.js';
import { type CockpitSession, cockpitSession, runAll, screenshot } from './harness.js';

const PASSWORD = 'Alice-e2e-pw-1234';
const USER = 'alice';
const GROUP = 'staff';
const OTHER = 'projects';
const SHARE = 'team';

interface ShareView {
  name: string;
  path: string;
  protocols: string[];
  validUsers: string[];
  exists: boolean;
}

describe('Identities and Shares pages in real Cockpit with a real smbd', { timeout: 240_000 }, () => {
  let acc: SmbAccounts | undefined;
  let t: TestAgent | undefined;
  let smbd: Smbd | undefined;
  let s: CockpitSession | undefined;
  let context: BrowserContext;

  before(async () => {
    acc = nssFiles();
    const port = await freePort();
    t = await startTestAgent({
      services: [sharesSubsystem],
      listen: true,
      config: {
        shares: {
          smbPort: port,
          smbInterfaces: ['127.0.0.1'],
          accounts: {
            backend: 'nss-wrapper',
            passwd: acc.passwd,
            group: acc.group,
            uidMin: 61000,
            uidMax: 61999,
          },
        },
      },
    });
    // the prefix is mkdtemp's 0700: share users could not pass it
    chmodSync(t.prefix, 0o755);
    await t.call('shares.apply');
    const conf = (await t.call<{ smbConf: string }>('shares.status')).smbConf;
    smbd = await startSmbd(conf, port, acc);
    s = await cockpitSession();
    context = await s.newContext(t.socket!);
  });

  after(() => runAll([() => s?.stop(), () => smbd?.stop(), () => t?.stop(), () => acc?.cleanup()]));

  it('Identities: a group, then a user in it with an SMB password that is never shown back', async () => {
    // through the whole Cockpit shell (its menu and the package's iframe)
    const { page, root } = await s!.open('identities', { context, inCockpitShell: true });
    const el = root.locator('cal-identities');
    await el.locator('[data-empty]', { hasText: 'No share users yet' }).waitFor({ timeout: 30_000 });
    await el.locator('#id-group-name').fill(GROUP);
    await el.locator('button[data-action="create-group"]').click();
    await el.locator(`tr[data-group="${GROUP}"]`).waitFor();

    await el.locator('#id-user-name').fill(USER);
    await el.locator('#id-user-pw').fill(PASSWORD);
    await el.locator('#id-user-pw2').fill(PASSWORD);
    await el.locator(`[data-user-groups] input[value="${GROUP}"]`).check();
    await screenshot(page, 'identities-01-new-user');
    await el.locator('button[data-action="create-user"]').click();
    const row = el.locator(`tr[data-user="${USER}"]`);
    await row.waitFor({ timeout: 30_000 });
    assert.match((await row.textContent()) ?? '', /staff/);
    assert.match((await row.textContent()) ?? '', /\bset\b/);
    await el.locator(`tr[data-group="${GROUP}"] [data-members]`, { hasText: USER }).waitFor();
    // the password fields are empty again and the password is nowhere on the page
    assert.equal(await el.locator('#id-user-pw').inputValue(), '');
    assert.equal(await el.locator('#id-user-pw2').inputValue(), '');
    const shown = await el.evaluate(
      (e) => (e as unknown as { shadowRoot: { innerHTML: string } }).shadowRoot.innerHTML,
    );
    assert.ok(!shown.includes(PASSWORD), 'the password is not in the page');
    const users = await t!.call<{ items: { name: string; groups: string[]; smb: boolean }[] }>(
      'shares.user.list',
    );
    const alice = users.items.find((u) => u.name === USER);
    assert.ok(alice?.smb, 'Samba has her password');
    assert.ok(alice.groups.includes(GROUP));

    // a mistyped repeat is refused on the page, nothing sent
    await row.locator('button[data-action="password"]').click();
    await el.locator('#id-pw').fill('Another-pw-5678');
    await el.locator('#id-pw2').fill('Another-pw-5679');
    await el.locator('form[data-form="password"] button[type="submit"]').click();
    await el.locator('[data-problem]', { hasText: 'the two passwords differ' }).waitFor();
    await screenshot(page, 'identities-02-created');

    // her groups changed on the page: a second group made, she joins it and stays in staff
    await el.locator('form[data-form="password"] button', { hasText: 'Cancel' }).click();
    await el.locator('#id-group-name').fill(OTHER);
    await el.locator('button[data-action="create-group"]').click();
    await el.locator(`tr[data-group="${OTHER}"]`).waitFor();
    await row.locator('button[data-action="groups"]').click();
    const form = el.locator('form[data-form="groups"]');
    await form.waitFor();
    assert.equal(await form.locator(`input[value="${GROUP}"]`).isChecked(), true, 'staff ticked already');
    assert.equal(await form.locator(`input[value="${USER}"]`).count(), 0, 'her own group is not offered');
    await form.locator(`input[value="${OTHER}"]`).check();
    await screenshot(page, 'identities-03-groups');
    await form.locator('button[data-action="save-groups"]').click();
    await form.waitFor({ state: 'detached', timeout: 30_000 });
    await el
      .locator(`tr[data-group="${OTHER}"] [data-members]`, { hasText: USER })
      .waitFor({ timeout: 30_000 });
    const after = (await t!.call<{ items: { name: string; groups: string[] }[] }>('shares.user.list')).items;
    assert.deepEqual(after.find((u) => u.name === USER)?.groups.sort(), [USER, OTHER, GROUP].sort());
    assert.match(readFileSync(acc!.group, 'utf8'), new RegExp(`^${OTHER}:x:\\d+:${USER}$`, 'm'));
  });

  it('Shares: the access matrix and plan before Apply; the agent has the share; smbclient writes as the user', async () => {
    const { page, root } = await s!.open('shares', { context, inCockpitShell: true });
    const el = root.locator('cal-shares');
    await el.locator('[data-empty]', { hasText: 'No shares yet' }).waitFor({ timeout: 30_000 });
    await el.locator('[data-status][data-samba="true"]').waitFor();
    assert.equal(await el.locator('[data-for="smb"] [data-unavailable]').count(), 0, 'Samba is here');
    await el.locator('button[data-action="create-share"]').click();
    const dlg = el.locator('cal-share-dialog dialog');
    await dlg.locator('#sh-name').fill(SHARE);
    await dlg.locator(`[data-picker="validUsers"] input[value="${USER}"]`).check();
    const apply = dlg.locator('button[data-action="apply"]');
    assert.equal(await apply.isDisabled(), true, 'Apply waits for the review');
    await dlg.locator('button', { hasText: 'Review access' }).click();
    const matrix = dlg.locator('table[data-matrix]');
    await matrix.waitFor({ timeout: 30_000 });
    // the directory shares.create makes is root's, mode 0775: she may read, not write, and says why
    const cell = matrix.locator(`tr[data-principal="${USER}"] td[data-protocol="smb"]`);
    assert.equal(await cell.getAttribute('data-access'), 'read');
    assert.match((await cell.textContent()) ?? '', /mode 0775, alice as other/);
    assert.equal(
      await matrix.locator('tr[data-principal="guest"] td[data-protocol="smb"]').getAttribute('data-access'),
      'none',
    );
    const cmds = (await dlg.locator('pre[aria-label="Commands"]').textContent()) ?? '';
    assert.match(cmds, /^mkdir -p -m 0775 -- \S+\/team$/m);
    // the new smb.conf is checked beside the live one before it replaces it (docs/design.md)
    assert.match(cmds, /^testparm -s \S+\/\.smb\.conf\.calypso-new$/m);
    await screenshot(page, 'shares-01-review');
    assert.equal(
      (await t!.call<{ items: unknown[] }>('shares.list')).items.length,
      0,
      'nothing made by the review',
    );

    await apply.click();
    const row = el.locator(`tr[data-share="${SHARE}"]`);
    await row.waitFor({ timeout: 30_000 });
    assert.match((await row.textContent()) ?? '', /SMB/);
    const share = await t!.call<ShareView>('shares.get', { name: SHARE });
    assert.deepEqual(share.protocols, ['smb']);
    assert.deepEqual(share.validUsers, [USER]);
    assert.equal(share.exists, true);
    await screenshot(page, 'shares-02-list');

    // what an administrator does next: the directory becomes the group's
    const staff = Number(new RegExp(`^${GROUP}:x:(\\d+):`, 'm').exec(readFileSync(acc!.group, 'utf8'))![1]);
    chownSync(share.path, 0, staff);
    chmodSync(share.path, 0o2775);
    await row.locator('button[data-action="edit"]').click();
    await dlg.locator('button', { hasText: 'Review access' }).click();
    const now = matrix.locator(`tr[data-principal="${USER}"] td[data-protocol="smb"]`);
    await now.waitFor();
    assert.equal(await now.getAttribute('data-access'), 'write');
    await screenshot(page, 'shares-03-edit-review');
    // the read list: a name the agent would refuse is said on the page first; with her in it she only reads
    await dlg.locator('#sh-readList').fill(`${USER}, bob"`);
    await dlg.locator('[data-problems]', { hasText: '"bob"" in the read list is not a user' }).waitFor();
    await dlg.locator('#sh-readList').fill(USER);
    await dlg.locator('button', { hasText: 'Review access' }).click();
    const listed = matrix.locator(`tr[data-principal="${USER}"] td[data-protocol="smb"][data-access="read"]`);
    await listed.waitFor({ timeout: 30_000 });
    assert.match((await listed.textContent()) ?? '', new RegExp(`${USER} is in the read list`));
    await screenshot(page, 'shares-03b-read-list');
    await dlg.locator('button', { hasText: 'Cancel' }).click();

    const src = path.join(acc!.dir, 'hello.txt');
    writeFileSync(src, 'hello from the e2e test\n');
    const put = await smbd!.client(SHARE, { name: USER, password: PASSWORD }, `put ${src} hello.txt`);
    assert.ok(put.ok, put.out);
    assert.equal(readFileSync(path.join(share.path, 'hello.txt'), 'utf8'), 'hello from the e2e test\n');
  });

  it('Shares: her live session and open file are listed; Delete asks first', async () => {
    const { page, root } = await s!.open('shares', { context });
    const el = root.locator('cal-shares');
    await el.locator(`tr[data-share="${SHARE}"]`).waitFor({ timeout: 30_000 });
    const session = smbd!.guestSession(SHARE, { name: USER, password: PASSWORD });
    try {
      session.send('open hello.txt');
      // the agent sees it first (smbstatus --json), then the page, which looks again every 5 s
      let seen: { sessions: { user: string }[] } = { sessions: [] };
      for (let i = 0; i < 100 && !seen.sessions.some((x) => x.user === USER); i++) {
        await new Promise((r) => setTimeout(r, 100));
        seen = await t!.call('shares.sessions');
      }
      assert.ok(
        seen.sessions.some((x) => x.user === USER),
        `${JSON.stringify(seen)} ${session.out()}`,
      );
      // the page looks again every 5 s: her session, on the share
      await el
        .locator(`table[data-list="sessions"] tr[data-user="${USER}"]`, { hasText: SHARE })
        .waitFor({ timeout: 30_000 });
      await el.locator(`tr[data-share="${SHARE}"] td[data-usage]`, { hasText: '1 / 1' }).waitFor({
        timeout: 30_000,
      });
      await screenshot(page, 'shares-04-session');
    } finally {
      await session.close();
    }

    await el.locator(`tr[data-share="${SHARE}"] button[data-action="delete"]`).click();
    const confirm = el.locator('cal-confirm dialog');
    await confirm.waitFor();
    assert.match((await confirm.textContent()) ?? '', /Its directory .* and its files stay/);
    await screenshot(page, 'shares-05-delete-confirm');
    await confirm.locator('button.danger').click();
    await el.locator(`tr[data-share="${SHARE}"]`).waitFor({ state: 'detached', timeout: 30_000 });
    assert.equal((await t!.call<{ items: unknown[] }>('shares.list')).items.length, 0);
    const dir = path.join(t!.prefix, 'srv/calypso/shares', SHARE);
    assert.ok(existsSync(path.join(dir, 'hello.txt')), 'the files stay');
  });

  it('Shares without Samba or the NFS server: said once with the reason and what to install; New share disabled; so is an AD join without winbind', async () => {
    // an agent whose runner finds no program at all: neither smbd nor exportfs
    const bare = await startTestAgent({
      services: [sharesSubsystem],
      runner: createRunner({ path: '/nonexistent' }),
      listen: true,
    });
    try {
      const ctx = await s!.newContext(bare.socket!);
      const { page, root } = await s!.open('shares', { context: ctx });
      const el = root.locator('cal-shares');
      const smb = el.locator('[data-for="smb"] [data-unavailable]');
      await smb.waitFor({ timeout: 30_000 });
      assert.equal(await el.locator('[data-for="smb"] [data-unavailable]').count(), 1, 'said once');
      const reason = ((await smb.locator('.reason').textContent()) ?? '').trim();
      assert.match(reason, /apt-get install samba/);
      assert.match((await smb.textContent()) ?? '', /Install Samba/);
      assert.match(
        (await el.locator('[data-for="nfs"] [data-unavailable]').textContent()) ?? '',
        /apt-get install nfs-kernel-server/,
      );
      const create = el.locator('button[data-action="create-share"]');
      assert.equal(await create.isDisabled(), true);
      assert.equal(await create.getAttribute('title'), reason, 'the reason is its title');
      assert.equal(await el.locator('table[data-list="sessions"]').count(), 0, 'no sessions without Samba');
      assert.equal(await el.locator('[data-drift]').count(), 0, 'no drift where nothing can apply');
      await screenshot(page, 'shares-00-unavailable');

      // the same agent has no winbind, net or kinit: Identities says a join cannot run here, and why, once;
      // Preview and Join are disabled with that reason as their title
      const st = await bare.call<{ tools: { available: boolean; reason?: string } }>(
        'shares.directory.ad.status',
      );
      assert.equal(st.tools.available, false);
      assert.match(st.tools.reason ?? '', /not installed.*apt-get install winbind krb5-user/);
      const id = await s!.open('identities', { context: ctx });
      // no share user can be made without Samba (its SMB password goes to pdbedit): said once, Create user disabled
      const users = id.root.locator('cal-identities [data-for="users"] [data-unavailable]');
      await users.waitFor({ timeout: 30_000 });
      assert.equal(
        await id.root.locator('cal-identities [data-for="users"] [data-unavailable]').count(),
        1,
        'said once',
      );
      assert.match((await users.textContent()) ?? '', /Creating share users is not available here/);
      const usersWhy = ((await users.locator('.reason').textContent()) ?? '').trim();
      assert.match(usersWhy, /apt-get install samba/);
      const createUser = id.root.locator('cal-identities button[data-action="create-user"]');
      assert.equal(await createUser.isDisabled(), true, 'Create user is disabled');
      assert.equal(await createUser.getAttribute('title'), usersWhy);
      const ad = id.root.locator('cal-identities cal-identities-ad');
      const banner = ad.locator('[data-unavailable]');
      await banner.waitFor({ timeout: 30_000 });
      assert.equal(await ad.locator('[data-unavailable]').count(), 1, 'said once');
      assert.match((await banner.textContent()) ?? '', /Joining a domain is not available here/);
      assert.equal(((await banner.locator('.reason').textContent()) ?? '').trim(), st.tools.reason);
      for (const action of ['ad-preview', 'ad-join']) {
        const b = ad.locator(`button[data-action="${action}"]`);
        assert.equal(await b.isDisabled(), true, `${action} is disabled`);
        assert.equal(await b.getAttribute('title'), st.tools.reason, `${action}: the reason is its title`);
      }
      await screenshot(id.page, 'identities-ad-unavailable');
    } finally {
      await bare.stop();
    }
  });
});
