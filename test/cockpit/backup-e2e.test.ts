/**
 * The Backup page end to end: real Cockpit (cockpit-ws --local-session) and Debian's chromium,
 * a real agent process under a prefix, and the real Bacula director / storage / file daemons
 * started on free loopback ports from the files that agent rendered. The page lists the
 * clients, schedules and volumes; "Run now" backs up a small generated directory with a live
 * progress bar that reaches done and lands in the history; the restore wizard restores one
 * chosen file whose content matches. Screenshots go to artifacts/cockpit/.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Locator } from 'playwright-core';
import { baculaPaths } from '../../agent/backup/paths.js';
import { createLayout } from '../../agent/layout.js';
import { createRunner } from '../../agent/runner.js';
import type { AgentClient } from '../../rpc/client.js';
import { type DaemonKind, type RunningDaemon, startDaemon } from '../backup/daemons.js';
import { freePorts } from '../backup/lab.js';
import type { AgentProcess } from '../helpers/agent.js';
import { type CockpitSession, cockpitSession, runAll, screenshot } from './harness.js';

const MiB = 1024 * 1024;

/** The text of a custom element's shadow root (textContent of the host does not include it). */
const shadowText = (l: Locator) =>
  l.evaluate((e) => (e as unknown as { shadowRoot: { textContent: string } }).shadowRoot.textContent);

describe('Backup page in real Cockpit with the real Bacula daemons', { timeout: 240_000 }, () => {
  let s: CockpitSession | undefined;
  let agent: AgentProcess;
  let client: AgentClient;
  let data: string;
  let backupId = 0;
  const daemons: RunningDaemon[] = [];

  before(async () => {
    s = await cockpitSession({ agent: {} });
    const session = s;
    agent = s.agent!;
    client = await agent.client();
    session.defer(() => client.close());
    const [dir, fd, sd] = (await freePorts(3)) as [number, number, number];
    await client.call('backup.settings.set', { dirPort: dir, fdPort: fd, sdPort: sd });
    // ~24 MiB, throttled to 4 MiB/s by the file daemon: long enough for live progress events
    data = path.join(agent.prefix, 'data');
    await mkdir(path.join(data, 'docs', 'notes'), { recursive: true });
    await writeFile(
      path.join(data, 'docs', 'report 1.txt'),
      `quarterly report ${randomBytes(8).toString('hex')}\n`,
    );
    await writeFile(path.join(data, 'docs', 'notes', 'todo.txt'), 'not chosen\n');
    for (let i = 0; i < 6; i++) await writeFile(path.join(data, `blob-${i}.bin`), randomBytes(4 * MiB));
    await client.call('backup.storage.set', { name: 'vault', type: 'disk', devices: 2 });
    await client.call('backup.pool.set', { name: 'daily', storage: 'vault' });
    await client.call('backup.fileset.set', { name: 'ui-data', include: [data] });
    await client.call('backup.schedule.set', {
      name: 'nightly',
      runs: [{ level: 'Full', when: 'daily at 02:00' }],
    });
    await client.call('backup.job.set', {
      name: 'ui-backup',
      client: 'calypso-fd',
      fileset: 'ui-data',
      pool: 'daily',
      schedule: 'nightly',
      maxBandwidth: 4 * MiB,
    });
    // a Full at 2 MiB/s (~12 s) for the cancel test: an Incremental of unchanged data would be instant
    await client.call('backup.job.set', {
      name: 'ui-full',
      level: 'Full',
      client: 'calypso-fd',
      fileset: 'ui-data',
      pool: 'daily',
      maxBandwidth: 2 * MiB,
    });
    const paths = baculaPaths(createLayout(agent.prefix));
    const ports = { dir, fd, sd };
    session.defer(() => runAll(daemons.reverse().map((d) => () => d.stop())));
    for (const k of ['sd', 'fd', 'dir'] as DaemonKind[])
      daemons.push(await startDaemon(createRunner(), paths, k, { host: '127.0.0.1', port: ports[k] }));
  });

  after(() => s?.stop());

  const open = (route: string) => s!.open(route);

  it('lists the clients and schedules of the lab', async () => {
    const { page, root } = await open('backup');
    await root.locator('cal-backup table[data-list="clients"] tr[data-name^="calypso-fd"]').waitFor();
    const clients = await client.call<{ items: { name: string }[] }>('backup.client.list');
    const shown = await root
      .locator('cal-backup table[data-list="clients"] tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')));
    assert.equal(shown.length, clients.items.length);
    await root
      .locator('cal-backup table[data-list="schedules"] tr[data-name="nightly"]', { hasText: '02:00' })
      .waitFor();
    // the director's next run of the scheduled job (daily at 02:00: always within its 24 hours)
    const next = root.locator('cal-backup li[data-upcoming="ui-backup"]', { hasText: '02:00' });
    await next.waitFor({ timeout: 20_000 });
    assert.match((await next.textContent()) ?? '', /Full/);
    assert.equal(
      await root.locator('cal-backup li[data-upcoming="ui-full"]').count(),
      0,
      'no schedule, no run',
    );
    // the three daemons of the lab are up; the director with Bacula's version
    await root
      .locator('cal-backup li[data-daemon="calypso-dir"][data-up="true"]', { hasText: /9\.6\./ })
      .waitFor();
    for (const d of ['vault', 'calypso-fd'])
      await root.locator(`cal-backup li[data-daemon="${d}"][data-up="true"]`).waitFor();
    await screenshot(page, 'backup-01-lists');
  });

  it('runs a backup with a live progress bar that reaches done; it appears in history and volumes', async () => {
    const { page, root } = await open('backup');
    await root.locator('cal-backup select#bk-job').selectOption('ui-backup');
    // keyboard: focus the button and press Enter
    await root.locator('cal-backup button[data-action="run"]').focus();
    await page.keyboard.press('Enter');
    const bar = root.locator('cal-backup cal-progress.backup-run');
    const seen = new Set<string>();
    const deadline = Date.now() + 120_000;
    for (;;) {
      const st = await bar.getAttribute('state').catch(() => null);
      const text = await bar
        .locator('[role="progressbar"]')
        .getAttribute('aria-valuetext')
        .catch(() => null);
      if (text) seen.add(text);
      if (st && st !== 'running' && st !== 'waiting') break;
      assert.ok(Date.now() < deadline, `backup did not finish: ${[...seen].join(' | ')}`);
      await page.waitForTimeout(150);
    }
    const all = [...seen].join(' | ');
    assert.equal(await bar.getAttribute('state'), 'success', all);
    assert.equal(await bar.locator('[role="progressbar"]').getAttribute('aria-valuenow'), '100');
    assert.ok(
      [...seen].some((s) => /backing up: \d+ files, .*\/s/.test(s)),
      `live files/bytes/rate seen: ${all}`,
    );
    const h = await client.call<{ items: { jobId: number; status: string; files: number }[] }>(
      'backup.history',
      {
        name: 'ui-backup',
      },
    );
    const job = h.items[0];
    assert.ok(job && job.status === 'success' && job.files >= 8, JSON.stringify(h.items));
    backupId = job.jobId;
    const row = root.locator(`cal-backup table[data-list="history"] tr[data-job="${backupId}"]`);
    await row.waitFor();
    assert.equal(await row.getAttribute('data-status'), 'success');
    const vols = await client.call<{ items: { name: string }[] }>('backup.volume.list');
    assert.ok(vols.items.length > 0, 'the backup labelled a volume');
    for (const v of vols.items)
      await root.locator(`cal-backup table[data-list="volumes"] tr[data-name="${v.name}"]`).waitFor();
    await screenshot(page, 'backup-02-run');
  });

  it('restores one chosen file through the wizard', async () => {
    assert.ok(backupId > 0, 'the backup test ran');
    const { page, root } = await open('backup');
    await root.locator(`cal-backup tr[data-job="${backupId}"] button`, { hasText: 'Restore' }).click();
    const wiz = root.locator('cal-backup-restore');
    await wiz.locator('table[data-list="files"]').waitFor();
    // walk down from / to the generated directory, one level per click
    const target = `${data}/docs/`;
    let cwd = '/';
    while (cwd !== target) {
      const next = target.slice(0, target.indexOf('/', cwd.length) + 1);
      await wiz.locator(`button[data-open="${next}"]`).click();
      await wiz.locator('[data-cwd]', { hasText: next }).waitFor();
      cwd = next;
    }
    const file = `${target}report 1.txt`;
    await wiz.locator(`tr[data-path="${file}"] input[type="checkbox"]`).check();
    await wiz.locator('[data-chosen]', { hasText: '1 chosen' }).waitFor();
    await screenshot(page, 'backup-03-wizard-files');
    await wiz.locator('button', { hasText: 'Next' }).click();
    const where = path.join(agent.prefix, 'restored');
    await wiz.locator('input#rs-where').fill(where);
    await wiz.locator('button[data-action="restore"]').click();
    const bar = wiz.locator('cal-progress.restore-run');
    await bar.waitFor();
    const deadline = Date.now() + 120_000;
    for (;;) {
      const st = await bar.getAttribute('state');
      if (st && st !== 'running' && st !== 'waiting') break;
      assert.ok(Date.now() < deadline, 'restore did not finish');
      await page.waitForTimeout(250);
    }
    assert.equal(await bar.getAttribute('state'), 'success', (await bar.textContent()) ?? '');
    const restored = path.join(where, file);
    assert.equal(await readFile(restored, 'utf8'), await readFile(file, 'utf8'));
    assert.ok(!existsSync(path.join(where, target, 'notes', 'todo.txt')), 'only the chosen file is restored');
    assert.ok(!existsSync(path.join(where, data, 'blob-0.bin')), 'only the chosen file is restored');
    await screenshot(page, 'backup-04-restored');
  });

  it('cancels a running backup from the page; it ends aborted', async () => {
    const { page, root } = await open('backup');
    await root.locator('cal-backup select#bk-job').selectOption('ui-full');
    await root.locator('cal-backup button[data-action="run"]').click();
    const bar = root.locator('cal-backup cal-progress.backup-run');
    await root
      .locator('cal-backup cal-progress.backup-run .desc', { hasText: /backing up: \d+ files/ })
      .waitFor({ timeout: 60_000 });
    await root.locator('cal-backup button[data-action="cancel"]').focus();
    await page.keyboard.press('Enter');
    await root.locator('cal-backup cal-progress.backup-run[state="aborted"]').waitFor({ timeout: 60_000 });
    assert.equal(await bar.getAttribute('state'), 'aborted');
    const h = await client.call<{ items: { jobId: number; status: string }[] }>('backup.history', {
      name: 'ui-full',
    });
    const job = h.items[0];
    assert.equal(job?.status, 'aborted', JSON.stringify(h.items));
    await root.locator(`cal-backup tr[data-job="${job.jobId}"][data-status="aborted"]`).waitFor();
    await screenshot(page, 'backup-05-cancelled');
  });

  it('says in plain words that the director is down; the history stays readable', async () => {
    await daemons.pop()?.stop(); // the director (started last)
    const { page, root } = await open('backup');
    await root.locator(`cal-backup tr[data-job="${backupId}"]`).waitFor();
    // at once, on load: the daemons' card says why (bconsole is not left retrying for 15 s)
    const down = root.locator('cal-backup cal-error[data-daemons-error]', { hasText: /not available/i });
    await down.waitFor({ timeout: 10_000 });
    assert.match(await shadowText(down), /director.*connection refused/i);
    await root.locator('cal-backup select#bk-job').selectOption('ui-backup');
    await root.locator('cal-backup button[data-action="run"]').click();
    const err = root.locator('cal-backup cal-error:not([data-daemons-error])', { hasText: /not available/i });
    await err.waitFor({ timeout: 30_000 });
    assert.match(await shadowText(err), /director.*(refused|not reachable|not running)/i);
    await screenshot(page, 'backup-06-director-down');
  });
});
