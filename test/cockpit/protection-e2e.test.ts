/**
 * The Data protection page end to end, in the real Cockpit shell (cockpit-ws --local-session,
 * Debian's chromium): a sending agent (ZFS on zfs-fuse, remotes, Bacula with its real director,
 * storage and file daemons on free loopback ports) and a receiving agent whose authorized_keys is
 * a real sshd's on a free loopback port (test/remote/sshd.ts). Through the page: pair a remote
 * with the host key fingerprint read and confirmed (checked against ssh-keygen -lf of sshd's own
 * key), test it, create a replication task, run it and see its result and bytes (those of the
 * agent's record, and the snapshot really on the target), delete it and unpair; run a restore
 * drill that passes, then one that fails after bytes of the disk volume were overwritten, with the
 * damaged file named in the report and the calendar. Screenshots: artifacts/cockpit/protection-*.png.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { alertsSubsystem } from '../../agent/alerts/service.js';
import { baculaPaths } from '../../agent/backup/paths.js';
import { createBackupService } from '../../agent/backup/service.js';
import { remoteSubsystem } from '../../agent/remote/service.js';
import { sleep } from '../../agent/util/time.js';
import { createZfsService } from '../../agent/zfs/service.js';
import { type BaculaDaemons, baculaDaemons, freePorts } from '../../sandbox/bacula.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { run } from '../remote/lab.js';
import { type Sshd, startSshd } from '../remote/sshd.js';
import { destroyPoolsChecked, FAST, poolName, useZfsFuse, vdevFiles } from '../zfs/helpers.js';
import {
  buildPlugin,
  type CockpitServer,
  freePort,
  launchChromium,
  openPluginPage,
  type PluginRoot,
  pluginContext,
  screenshot,
  startCockpit,
} from './harness.js';

const KiB = 1024;

describe('Data protection page in the real Cockpit shell', { timeout: 480_000 }, () => {
  const undo: (() => Promise<void>)[] = [];
  let sender: TestAgent;
  let receiver: TestAgent;
  let sshd: Sshd;
  let bacula: BaculaDaemons;
  let cockpit: CockpitServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let root: PluginRoot;
  let pool: string;
  let prefix: string;
  let src: string;
  let data: string;
  const blobs: Buffer[] = [];
  const zfs = (args: string[]) => run(['zfs', ...args]);
  const guids = async (ds: string) =>
    (await zfs(['list', '-H', '-t', 'snapshot', '-o', 'name,guid', '-d', '1', '--', ds])).stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/^[^@]*/, ''));
  const blob = (i: number) => path.join(data, `blob-${i}.bin`);
  const hostKeyDir = () => path.join(sender.prefix, 'sshd');

  before(async () => {
    try {
      const fuse = await useZfsFuse();
      undo.push(() => fuse.release());
      sender = await startTestAgent({
        listen: true,
        services: [
          createZfsService(FAST),
          remoteSubsystem,
          createBackupService({ pollMs: 300 }),
          alertsSubsystem,
        ],
      });
      undo.push(() => sender.stop());
      sshd = await startSshd(hostKeyDir());
      undo.push(() => sshd.stop());
      receiver = await startTestAgent({
        services: [remoteSubsystem],
        config: { remote: { authorizedKeys: sshd.authorizedKeys } },
      });
      undo.push(() => receiver.stop());

      // ZFS: one pool on a file vdev; the source with a snapshot, the receiving prefix beside it
      // (the vdev outside the agents' prefixes: the pool is destroyed after they have stopped)
      pool = poolName('dp');
      const vdevs = mkdtempSync(path.join(os.tmpdir(), 'calypso-dp-vdev-'));
      const [file] = vdevFiles(vdevs, ['pool.img'], 256 * 1024 * 1024);
      undo.splice(1, 0, async () => {
        try {
          await destroyPoolsChecked([pool]);
        } catch (err) {
          // zfs-fuse calls this pool busy after the incremental receive, with every agent, sshd
          // and Bacula stopped (cause not found yet): its datasets are unmounted, then it goes
          process.stderr.write(`# ${String(err)}: unmounting ${pool}'s datasets first\n`);
          const names = (await zfs(['list', '-H', '-o', 'name', '-r', '--', pool])).stdout.trim().split('\n');
          for (const ds of names.reverse()) await zfs(['unmount', '-f', '--', ds]);
          // under load zfs-fuse can take longer than destroyPoolsChecked's retries to let go (CI runs 17
          // and 19: another lane's agents read every pool, `zpool list`/`status`/`iostat`, and zfs-fuse
          // answers a destroy meanwhile "busy"): try again for up to a minute, each try after 2 s
          for (let i = 0; ; i++) {
            await sleep(2_000);
            try {
              await destroyPoolsChecked([pool]);
              break;
            } catch (e) {
              if (i >= 6) throw e;
            }
          }
        }
        rmSync(vdevs, { recursive: true, force: true });
      });
      await sender.call('pool.create', {
        name: pool,
        topology: { data: [{ type: 'stripe', disks: [file] }] },
        altroot: path.join(vdevs, 'mnt'),
      });
      src = `${pool}/src`;
      prefix = `${pool}/backup`;
      for (const ds of [src, prefix]) await sender.call('dataset.create', { name: ds });
      const mnt = (await zfs(['list', '-H', '-o', 'mountpoint', '--', src])).stdout.trim();
      await writeFile(path.join(mnt, 'payload.bin'), randomBytes(600 * KiB));
      await sender.call('snapshot.create', { dataset: src, name: 's1' });

      // Bacula: the sender's rendered configuration, its daemons, one Full of a small tree
      const [dir, fd, sd] = (await freePorts(3)) as [number, number, number];
      await sender.call('backup.settings.set', { dirPort: dir, fdPort: fd, sdPort: sd });
      bacula = baculaDaemons({
        paths: baculaPaths(sender.deps.layout),
        ports: { dir, fd, sd },
        runner: sender.deps.runner,
      });
      undo.push(() => bacula.stop());
      data = path.join(sender.prefix, 'data');
      await mkdir(path.join(data, 'small'), { recursive: true });
      for (let i = 0; i < 3; i++) {
        blobs.push(randomBytes(256 * KiB));
        await writeFile(blob(i), blobs[i]!);
      }
      for (let i = 0; i < 5; i++) await writeFile(path.join(data, 'small', `f ${i}.txt`), `file ${i}\n`);
      await sender.call('backup.storage.set', { name: 'dpvault', type: 'disk', devices: 1 });
      await sender.call('backup.pool.set', { name: 'dppool', storage: 'dpvault' });
      await sender.call('backup.fileset.set', { name: 'dptree', include: [data] });
      await sender.call('backup.job.set', {
        name: 'dpjob',
        client: 'calypso-fd',
        fileset: 'dptree',
        pool: 'dppool',
      });
      await bacula.startAll();
      const { job } = await sender.call<{ job: string }>('backup.run', { job: 'dpjob', level: 'Full' });
      const rec = await sender.waitJob(job);
      assert.equal(rec.state, 'success', JSON.stringify(rec.error));
      await sender.call('backup.drill.create', { name: 'weekly', job: 'dpjob', schedule: '0 3 * * 0' });

      // Cockpit and chromium, the page opened inside the shell
      const buildDir = mkdtempSync(path.join(os.tmpdir(), 'calypso-plugin-'));
      undo.push(async () => rmSync(buildDir, { recursive: true, force: true }));
      chmodSync(buildDir, 0o755);
      await buildPlugin(buildDir);
      cockpit = await startCockpit({ pluginDir: buildDir });
      undo.push(() => cockpit.stop());
      browser = await launchChromium();
      undo.push(() => browser.close());
      context = await pluginContext(browser, sender.socket!);
      ({ page, root } = await openPluginPage(context, cockpit.url, 'protection', { inCockpitShell: true }));
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

  const repl = (sel: string) => root.locator(`cal-protection-replication ${sel}`);
  const drills = (sel: string) => root.locator(`cal-protection-drills ${sel}`);

  it('shows every section; the empty ones say what to do, object storage that it is not run here', async () => {
    await root.locator('cal-app nav a[aria-current="page"]', { hasText: 'Data protection' }).waitFor();
    await repl('[data-empty]').first().waitFor();
    assert.match((await repl('[data-empty]').first().textContent()) ?? '', /No remotes/);
    const immutable = root.locator(
      'cal-protection section[aria-labelledby="dp-immutable"] [data-unavailable]',
    );
    await immutable.waitFor();
    assert.match((await immutable.textContent()) ?? '', /Object storage is not available here/);
    await root.locator('cal-protection section[aria-labelledby="dp-copies"] [data-empty]').waitFor();
    await drills('tr[data-drill="weekly"][data-result="never"]').waitFor();
    await drills('tr[data-calendar="backup.drill:weekly"]').waitFor();
    assert.equal(await repl('button[data-action="new-task"]').isDisabled(), true, 'no task without a remote');
    await screenshot(page, 'protection-empty');
  });

  it('pairs a remote after showing its host key fingerprint, and tests it', async () => {
    const expected = execFileSync(
      'ssh-keygen',
      ['-lf', path.join(hostKeyDir(), 'ssh_host_ed25519_key.pub')],
      {
        encoding: 'utf8',
      },
    ).split(' ')[1]!;
    assert.match(expected, /^SHA256:/);
    await repl('.toolbar button[data-action="pair"]').click();
    const dlg = (sel: string) => repl(`cal-pair-dialog ${sel}`);
    await dlg('#pair-name').fill('dr');
    await dlg('#pair-host').fill('127.0.0.1');
    await dlg('#pair-port').fill(String(sshd.port));
    await dlg('#pair-prefix').fill(prefix);
    assert.equal(
      await dlg('button[data-action="pair"]').isDisabled(),
      true,
      'no pairing before the key is read',
    );
    // nothing listening there: the agent's words, and still no pairing
    await dlg('#pair-port').fill(String(await freePort()));
    await dlg('button[data-action="read-key"]').click();
    await dlg('cal-error [role="alert"]').waitFor();
    assert.match((await dlg('cal-error [role="alert"]').textContent()) ?? '', /no ed25519 host key answered/);
    assert.equal(await dlg('[data-fingerprint]').count(), 0);
    await dlg('#pair-port').fill(String(sshd.port));
    await dlg('button[data-action="read-key"]').click();
    await dlg('[data-fingerprint]').waitFor();
    assert.equal(((await dlg('[data-fingerprint]').textContent()) ?? '').trim(), expected);
    assert.equal(
      await dlg('button[data-action="pair"]').isDisabled(),
      true,
      'no pairing before it is confirmed',
    );
    await dlg('#pair-confirm').check();
    await screenshot(page, 'protection-pair');
    await dlg('button[data-action="pair"]').click();
    await dlg('[data-public-key]').waitFor();
    const publicKey = ((await dlg('[data-public-key]').textContent()) ?? '').trim();
    const rec = await sender.call<{ hostKeyFingerprint: string; publicKey: string }>('remote.get', {
      name: 'dr',
    });
    assert.equal(rec.hostKeyFingerprint, expected, 'the key confirmed is the key pinned');
    assert.equal(publicKey, rec.publicKey);
    // the other appliance's side: its administrator authorizes the key shown
    await receiver.call('remote.authorize', { name: 'sender1', publicKey, prefix });
    await dlg('button.primary').click();
    await repl('tr[data-name="dr"]').waitFor();
    await repl('tr[data-name="dr"] button[data-action="test"]').click();
    await repl('tr[data-name="dr"] td[data-test-result="ok"]').waitFor({ timeout: 30_000 });
  });

  it('creates a replication task, runs it, and shows its result and bytes', async () => {
    await repl('button[data-action="new-task"]').click();
    const dlg = (sel: string) => repl(`cal-task-dialog ${sel}`);
    await dlg('#task-id').fill('t1');
    await dlg('#task-source').fill(src);
    assert.equal(
      await dlg('#task-target').inputValue(),
      `${prefix}/src`,
      'the target offered under the prefix',
    );
    await dlg('button[data-action="create-task"]').click();
    const row = repl('tr[data-task="t1"]');
    await repl('tr[data-task="t1"][data-result="never"]').waitFor();
    await row.locator('button[data-action="run"]').click();
    await repl('tr[data-task="t1"][data-result="ok"]').waitFor({ timeout: 120_000 });
    await repl('tr[data-task="t1"] cal-progress[state="success"]').waitFor();
    const t = await sender.call<{ lastRun?: { ok: boolean; bytes?: number; mode?: string } }>(
      'replication.task.get',
      { id: 't1' },
    );
    assert.equal(t.lastRun?.ok, true);
    assert.equal(t.lastRun?.mode, 'full');
    assert.ok((t.lastRun?.bytes ?? 0) > 500 * KiB, `bytes ${t.lastRun?.bytes}`);
    assert.equal(await row.locator('td[data-bytes]').getAttribute('data-bytes'), String(t.lastRun?.bytes));
    assert.match((await row.textContent()) ?? '', /success/);
    assert.deepEqual(await guids(`${prefix}/src`), await guids(src), 'the snapshot is on the target');

    // a run started elsewhere (calypsoctl, say) shows up without a reload: its job's lock names the task
    const mnt = (await zfs(['list', '-H', '-o', 'mountpoint', '--', src])).stdout.trim();
    await writeFile(path.join(mnt, 'more.bin'), randomBytes(200 * KiB));
    await sender.call('snapshot.create', { dataset: src, name: 's2' });
    const { job } = await sender.call<{ job: string }>('replication.task.run', { id: 't1' });
    assert.equal((await sender.waitJob(job)).state, 'success');
    await root.locator('cal-protection-replication tr[data-task="t1"]', { hasText: 'incremental' }).waitFor();
    const t2 = await sender.call<{ lastRun?: { bytes?: number; mode?: string } }>('replication.task.get', {
      id: 't1',
    });
    assert.equal(t2.lastRun?.mode, 'incremental');
    assert.equal(await row.locator('td[data-bytes]').getAttribute('data-bytes'), String(t2.lastRun?.bytes));
    assert.deepEqual(await guids(`${prefix}/src`), await guids(src));
    await screenshot(page, 'protection-replicated');
  });

  it('checks the replica from the page: the drill compares the last common snapshot at both ends and passes', async () => {
    const rd = (sel: string) => root.locator(`cal-protection-replica-drills ${sel}`);
    await rd('tr[data-replica-drill="t1"][data-result="never"]').waitFor();
    await rd('tr[data-replica-drill="t1"] button[data-action="run-replica-drill"]').click();
    await rd('tr[data-replica-drill="t1"][data-result="passed"]').waitFor({ timeout: 120_000 });
    await rd('tr[data-replica-drill="t1"] cal-progress[state="success"]').waitFor();
    await rd('tr[data-replica-drill="t1"] button[data-action="replica-report"]').click();
    await rd('[data-replica-report="t1"][data-result="passed"]').waitFor();
    const r = await sender.call<{ result: string; checked: number; datasets: { source: string }[] }>(
      'replication.drill.report.get',
      { task: 't1' },
    );
    assert.equal(r.result, 'passed');
    assert.ok(r.checked > 0, `entries compared: ${r.checked}`);
    const shown = await rd('[data-replica-dataset]').evaluateAll((els) =>
      els.map((e) => e.getAttribute('data-replica-dataset')),
    );
    assert.deepEqual(
      shown,
      r.datasets.map((d) => d.source),
    );
    assert.equal(await rd('[data-failed-file]').count(), 0);
    await rd('[data-replica-report="t1"]').scrollIntoViewIfNeeded();
    await screenshot(page, 'protection-replica-drill');
  });

  it('a drill run from the page passes; after damage to the volume the next one fails, naming the file', async () => {
    await drills('tr[data-drill="weekly"] button[data-action="run-drill"]').click();
    await drills('tr[data-drill="weekly"][data-result="passed"]').waitFor({ timeout: 120_000 });
    await drills('tr[data-drill="weekly"] button[data-action="report"]').click();
    await drills('[data-report="weekly"][data-result="passed"]').waitFor();
    assert.equal(await drills('[data-failed-file]').count(), 0);

    // overwrite 4 KiB of blob-1's bytes in the disk volume (as test/backup/drill.test.ts does)
    const dir = path.join(baculaPaths(sender.deps.layout).volumesRoot, 'dpvault');
    const marker = blobs[1]!.subarray(100_000, 100_064);
    let hit: { file: string; at: number } | undefined;
    for (const v of (await readdir(dir)).filter((n) => n.startsWith('dppool'))) {
      const at = (await readFile(path.join(dir, v))).indexOf(marker);
      if (at >= 0) hit = { file: path.join(dir, v), at };
    }
    assert.ok(hit, 'blob-1 found in the volume');
    const size = (await stat(hit.file)).size;
    const fh = await open(hit.file, 'r+');
    await fh.write(randomBytes(4096), 0, 4096, hit.at);
    await fh.close();
    assert.equal((await stat(hit.file)).size, size);

    await drills('tr[data-drill="weekly"] button[data-action="run-drill"]').click();
    await drills('tr[data-drill="weekly"][data-result="failed"]').waitFor({ timeout: 120_000 });
    await drills('[data-report="weekly"][data-result="failed"]').waitFor();
    const named = await drills('[data-failed-file]').evaluateAll((els) =>
      els.map((e) => e.getAttribute('data-failed-file')),
    );
    assert.ok(named.includes(blob(1)), JSON.stringify(named));
    assert.ok(!named.includes(blob(0)) || !named.includes(blob(2)), 'not every file is blamed');
    await drills('tr[data-calendar="backup.drill:weekly"][data-result="failed"]').waitFor();
    // the shell's page does not scroll, its iframe does: bring the drills into the picture
    await drills('[data-report="weekly"]').scrollIntoViewIfNeeded();
    await screenshot(page, 'protection-drill-failed');
  });

  it('deletes the task and unpairs the remote after confirmation', async () => {
    await repl('tr[data-task="t1"] button[data-action="delete"]').click();
    await root.locator('cal-confirm button.danger').click();
    await repl('tr[data-task="t1"]').waitFor({ state: 'detached' });
    await repl('tr[data-name="dr"] button[data-action="unpair"]').click();
    await root.locator('cal-confirm button.danger').click();
    await repl('tr[data-name="dr"]').waitFor({ state: 'detached' });
    const left = await sender.call<{ total: number }>('remote.list');
    assert.equal(left.total, 0);
  });
});
