/**
 * Upgrades end to end under a temp prefix: real release tarballs built by scripts/release.mjs,
 * the agent running from `current` under the supervisor, release.install / release.rollback
 * through the Unix socket.
 *
 * Cost (the slowest file of the suite's host side): every release.install unpacks and verifies a
 * whole release. The builds and the appliance live on tmpfs when the machine has one (fastTempDir:
 * unpacking ~8,000 files costs seconds of ext4 metadata each time), and the two releases whose
 * agent never runs (the crashing 1.2.0; the signed 1.3.0, installed with `activate: false`) carry
 * only the node_modules packages the release's programs load (leanNodeModules): they are still
 * complete releases that verify against their manifests. 1.0.0 and 1.1.0, which run, are whole.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readJournal } from '../../agent/release/journal.js';
import { releasePaths } from '../../agent/release/paths.js';
import {
  type Appliance,
  type BuildResult,
  buildTestRelease,
  crashingLauncher,
  fastTempDir,
  leanNodeModules,
  releaseBuilder,
  startAppliance,
  untar,
} from './helpers.js';

const tmp = fastTempDir('calypso-release-');
let A: BuildResult;
let B: BuildResult;
let BAD: BuildResult;
let app: Appliance;

before(async () => {
  A = await buildTestRelease(tmp.dir, '1.0.0');
  B = await buildTestRelease(tmp.dir, '1.1.0');
  BAD = await buildTestRelease(tmp.dir, '1.2.0', async (d) => {
    await leanNodeModules(d);
    crashingLauncher(d);
  });
  app = await startAppliance(A.file, { tmpfs: true });
});

after(async () => {
  await app?.stop();
  tmp.cleanup();
});

const current = () => readlinkSync(app.layout.current);
const releaseNames = () => readdirSync(app.layout.releases).sort();

async function installAndWait(file: string, extra: Record<string, unknown> = {}) {
  const job = await app.runJob('release.install', { file, ...extra });
  assert.equal(job.state, 'success', `release.install: ${JSON.stringify(job.error)}`);
  const result = job.result as { upgrade: string; version: string; from: string };
  const rec = await app.waitUpgrade(result.upgrade);
  return { result, rec };
}

describe('release upgrade under the supervisor', () => {
  it('switches to a good release, which then serves', async () => {
    assert.equal(await app.waitPing(), '1.0.0');
    const { result, rec } = await installAndWait(B.file);
    assert.deepEqual([result.from, result.version], ['1.0.0', '1.1.0']);
    assert.equal(rec.outcome, 'success');
    assert.equal(current(), 'releases/1.1.0');
    assert.equal(await app.waitPing('1.1.0'), '1.1.0');
    // the new release answers with its capability report: a list naming each probe
    const caps = await app.call<{ name: string; available: boolean }[]>('system.capabilities');
    assert.ok(Array.isArray(caps), 'system.capabilities answers a list');
    for (const name of ['zfs', 'tgt', 'bacula-dir'])
      assert.equal(typeof caps.find((c) => c.name === name)?.available, 'boolean', `capability ${name}`);
    const list = await app.call<{ current: string; previous: string; items: { version: string }[] }>(
      'release.list',
    );
    assert.equal(list.current, '1.1.0');
    assert.equal(list.previous, '1.0.0');
    assert.deepEqual(list.items.map((r) => r.version).sort(), ['1.0.0', '1.1.0']);
    assert.equal(readJournal(app.layout), undefined, 'no journal left');
  });

  it('rolls back a release whose health check fails, within 10 s', async () => {
    const { job } = await app.call<{ job: string }>('release.install', { file: BAD.file });
    let rec: { state: string; result?: unknown } | undefined;
    for (;;) {
      rec = await app.callRetry<{ state: string; result?: unknown }>('job.get', { id: job });
      if (!['waiting', 'running'].includes(rec.state)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(rec.state, 'success');
    const handedOver = Date.now();
    const up = await app.waitUpgrade((rec.result as { upgrade: string }).upgrade, 30_000);
    await app.waitPing('1.1.0');
    const elapsed = Date.now() - handedOver;
    assert.equal(up.outcome, 'rolled-back');
    assert.match(up.reason ?? '', /crash loop|not healthy/);
    assert.ok(
      up.steps.some((s) => s.step === 'switched'),
      'it did switch before rolling back',
    );
    const switchedAt = up.steps.find((s) => s.step === 'switched')!.at;
    assert.ok(
      up.finishedAt - switchedAt < 10_000,
      `rolled back ${up.finishedAt - switchedAt} ms after the switch`,
    );
    assert.ok(elapsed < 10_000, `serving the previous release again ${elapsed} ms after the hand-over`);
    assert.equal(current(), 'releases/1.1.0');
  });

  it('refuses a tampered tarball before anything changes', async () => {
    const dir = untar(B.file, path.join(tmp.dir, 'tamper'));
    const victim = path.join(dir, 'dist/agent/main.js');
    const text = readFileSync(victim, 'utf8');
    writeFileSync(victim, text.replace('calypso-agent', 'calypso-agenT')); // same size, other bytes
    const bad = path.join(tmp.dir, 'tamper', 'calypso-9.9.9.tar.gz');
    execFileSync('tar', ['-I', 'gzip -1', '-cf', bad, '-C', path.dirname(dir), path.basename(dir)]);
    const beforeReleases = releaseNames();
    const beforeCurrent = current();
    const beforeHistory = readFileSync(releasePaths(app.layout).history, 'utf8');
    const job = await app.runJob('release.install', { file: bad });
    assert.equal(job.state, 'failed');
    assert.match(
      job.error?.message ?? '',
      /does not match its manifest.*sha256 differs: dist\/agent\/main\.js/,
    );
    assert.equal(job.error?.data?.kind, 'invalid');
    assert.deepEqual(releaseNames(), beforeReleases, 'no release dir, no staging left');
    assert.equal(current(), beforeCurrent);
    assert.equal(readFileSync(releasePaths(app.layout).history, 'utf8'), beforeHistory);
    assert.equal(readJournal(app.layout), undefined);
    assert.equal(await app.waitPing(), '1.1.0');
  });

  it('requires a valid signature once a release key is configured', async () => {
    const b = await releaseBuilder();
    const pair = generateKeyPairSync('ed25519');
    const keyFile = path.join(tmp.dir, 'sign.key');
    writeFileSync(keyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const trusted = releasePaths(app.layout).trustedKey;
    writeFileSync(trusted, pair.publicKey.export({ type: 'spki', format: 'pem' }));
    try {
      const unsigned = await app.runJob('release.install', { file: A.file, activate: false });
      assert.equal(unsigned.state, 'failed');
      assert.match(unsigned.error?.message ?? '', /not signed/);
      const goodOut = path.join(tmp.dir, 'signed');
      const good = await b.buildRelease({
        version: '1.3.0',
        out: goodOut,
        node: 'system',
        fast: true,
        build: false,
        signKey: keyFile,
        mutate: leanNodeModules,
      });
      const ok = await app.runJob('release.install', { file: good.file, activate: false });
      assert.equal(ok.state, 'success', JSON.stringify(ok.error));
      assert.deepEqual(ok.result, { version: '1.3.0', activated: false });
      assert.ok(releaseNames().includes('1.3.0'));
      assert.equal(current(), 'releases/1.1.0', 'activate: false leaves current alone');
    } finally {
      rmSync(trusted, { force: true });
    }
  });

  it('rolls back to the previous release on request, and keeps only the last N releases', async () => {
    const job = await app.runJob('release.rollback', {});
    assert.equal(job.state, 'success', JSON.stringify(job.error));
    const r = job.result as { version: string; upgrade: string };
    assert.equal(r.version, '1.0.0');
    const rec = await app.waitUpgrade(r.upgrade);
    assert.equal(rec.outcome, 'success');
    assert.equal(rec.kind, 'rollback');
    assert.equal(await app.waitPing('1.0.0'), '1.0.0');
    assert.equal(current(), 'releases/1.0.0');
    // keep = 3: current (1.0.0), the one it came from (1.1.0) and the newest other; the oldest other goes.
    const names = releaseNames().filter((n) => !n.startsWith('.'));
    assert.ok(names.length <= 3, `releases kept: ${names}`);
    assert.ok(names.includes('1.0.0') && names.includes('1.1.0'));
  });

  it('backs up the state before switching when asked, and restores it when the new release fails', async () => {
    const token = await app.call<{ token: string; info: { id: string } }>('auth.token.create', {
      name: 'before-upgrade',
      role: 'auditor',
    });
    const { result, rec } = await installAndWait(BAD.file, { backupState: true });
    assert.equal(rec.outcome, 'rolled-back');
    const steps = rec.steps.map((s) => s.step);
    for (const s of ['stopped', 'backed-up', 'switched', 'rb-stopped', 'rb-restored', 'rb-switched']) {
      assert.ok(steps.includes(s as never), `step ${s} in ${steps}`);
    }
    assert.ok(existsSync(path.join(releasePaths(app.layout).backups, result.upgrade, 'backup.json')));
    await app.waitPing('1.0.0');
    const tokens = (await app.call<{ items: { id: string }[] }>('auth.token.list')).items;
    assert.ok(
      tokens.some((t) => t.id === token.info.id),
      'the state restored is the state before the upgrade',
    );
    // srv/calypso is data: never touched by an upgrade.
    assert.deepEqual(readdirSync(app.layout.srv).sort(), Object.keys(app.layout.data).sort());
  });

  it('refuses to install the version that is already current', async () => {
    const same = await app.runJob('release.install', { file: A.file });
    assert.equal(same.state, 'failed');
    assert.match(same.error?.message ?? '', /already current/);
    assert.equal(same.error?.data?.kind, 'conflict');
  });
});
