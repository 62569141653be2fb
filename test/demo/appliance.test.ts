/**
 * `npm run demo -- --ui` as root on this machine: a working appliance in its sandbox. In the real
 * Cockpit shell (chromium, no localStorage set: the plugin the demo built talks to the demo's
 * socket) the pool, the dataset with its snapshots, the iSCSI target with its LUN, the tape
 * library with its cartridges, the alert, the finished Bacula backup and the bucket show, each
 * screenshotted to artifacts/cockpit/demo-*. A SIGTERM to npm then stops it all: no process
 * refers to the demo's prefix (no ceph or bacula daemon among them), no pool is left.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { processesReferring } from '../../sandbox/procs.js';
import { COCKPIT_WS, launchChromium, PLUGIN_FRAME, screenshot } from '../cockpit/harness.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const root = repoRoot();
const isRoot = process.getuid?.() === 0;
const tools = [
  '/usr/sbin/zfs-fuse',
  '/usr/sbin/tgtd',
  '/usr/sbin/mtx',
  '/usr/sbin/bacula-dir',
  '/usr/bin/ceph-mon',
  '/usr/bin/radosgw',
  COCKPIT_WS,
  '/usr/bin/chromium',
];
const absent = tools.filter((t) => !existsSync(t));
const skip = !isRoot ? 'the sandbox needs root' : absent.length ? `missing ${absent.join(', ')}` : false;

async function until<T>(what: () => string, fn: () => T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('npm run demo -- --ui: the appliance in its sandbox, in Cockpit', { skip, timeout: 420_000 }, () => {
  const tmp = tempDir('calypso-demo-ui-');
  let npm: ChildProcess | undefined;
  let browser: Browser | undefined;
  let out = '';
  const prefix = path.join(tmp.dir, 'demo');
  after(async () => {
    await browser?.close();
    // (a SIGTERM'd npm has signalCode set and exitCode null: no 20 s wait after a passing run)
    if (npm && npm.exitCode === null && npm.signalCode === null) {
      npm.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 20_000));
    }
    for (const p of processesReferring(prefix)) process.kill(p.pid, 'SIGKILL');
    tmp.cleanup();
  });

  it('shows the pool, datasets and snapshots, the iSCSI LUN, the tapes, the alert, the backup, the bucket; stops leaving nothing', async () => {
    const started = Date.now();
    chmodSync(tmp.dir, 0o755);
    npm = spawn('npm', ['run', 'demo', '--', '--ui'], {
      cwd: root,
      env: { ...process.env, CALYPSO_DEMO_PREFIX: prefix, CALYPSO_DEMO_NO_BUILD: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    npm.stdout?.on('data', (d) => (out += d));
    npm.stderr?.on('data', (d) => (out += d));
    await until(
      () => `the demo's ready line in:\n${out}`,
      () => (/^demo: ready/m.test(out) ? true : /did not start/.test(out) ? assert.fail(out) : undefined),
      240_000,
    );
    const pool = /^ {2}pool (demo[0-9a-f]{6}) /m.exec(out)?.[1];
    const url = /web UI: +(http:\/\/127\.0\.0\.1:\d+)\/calypso/.exec(out)?.[1];
    assert.ok(pool, `the pool's name in:\n${out}`);
    assert.ok(url, `the UI's URL in:\n${out}`);
    assert.doesNotMatch(out, /not shown:/, 'every part started on this machine');
    // the printed commands run as printed
    for (const line of [...out.matchAll(/\$ (.+)$/gm)].map((m) => m[1]!)) {
      const r = spawnSync('sh', ['-c', line], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, `${line}\n${r.stderr}`);
    }
    process.stderr.write(`# demo ready after ${Math.round((Date.now() - started) / 1000)} s\n`);

    browser = await launchChromium();
    // no localStorage: the package the demo built talks to the demo's socket by itself
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const frame = page.frameLocator(PLUGIN_FRAME);
    const visit = async (route: string, text: string | RegExp, shot: string, also?: string) => {
      await page.goto(`${url}/calypso#/${route}`);
      await frame.locator('cal-app h1').waitFor({ timeout: 30_000 });
      await frame.locator('cal-app', { hasText: text }).waitFor({ timeout: 30_000 });
      // `also`: where the text alone would match a hidden element (a job's name in a select)
      await (also ? frame.locator(also, { hasText: text }) : frame.getByText(text))
        .first()
        .waitFor({ timeout: 30_000 });
      await screenshot(page, `demo-${shot}`);
    };
    await visit('overview', pool!, 'overview');
    await visit('pools', pool!, 'pools');
    await visit(`datasets/${encodeURIComponent(`${pool}/shares/projects`)}`, 'tuesday', 'datasets');
    await visit('iscsi', 'iqn.2026-12.org.calypso.demo:lun-target', 'iscsi');
    await visit('tape', 'CAL003L5', 'tape');
    await visit('alerts', new RegExp(`pool ${pool} is \\d+ % full`), 'alerts');
    // the Bacula job's finished run, in the history; the bucket with its owner
    await visit(
      'backup',
      'demo-files',
      'backup',
      'cal-backup table[data-list="history"] tr[data-status="success"]',
    );
    await visit('object', 'demo-media', 'object', 'cal-object tr[data-bucket="demo-media"]');
    await context.close();

    // stop: a SIGTERM to npm, as Ctrl-C would; the pool, every daemon and the agent go
    const exited = new Promise<void>((r) => npm!.once('exit', () => r()));
    npm.kill('SIGTERM');
    await exited;
    await until(
      () =>
        `nothing left of the demo: ${processesReferring(prefix)
          .map((p) => `${p.name} ${p.pid}`)
          .join(', ')}\n${out}`,
      () => (processesReferring(prefix).length === 0 ? true : undefined),
      90_000,
    );
    assert.match(out, /demo: stopped; nothing of it is left running/);
    // the demo's daemons were all found through the prefix: none of Ceph or Bacula anywhere under it
    const daemons = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout ?? '';
    const ours = daemons.split('\n').filter((l) => l.includes(prefix) && /ceph|radosgw|bacula/.test(l));
    assert.deepEqual(ours, [], 'no ceph or bacula process of the demo');
    const pools = spawnSync('zpool', ['list', '-H', '-o', 'name'], { encoding: 'utf8' }).stdout ?? '';
    assert.ok(!pools.split('\n').includes(pool!), `pool ${pool} is gone`);
    assert.ok(!existsSync(path.join(prefix, 'sandbox')), 'the sandbox files are removed');
    process.stderr.write(`# demo test took ${Math.round((Date.now() - started) / 1000)} s\n`);
  });
});
