/**
 * The upgrader killed with SIGKILL at each step in turn (good upgrades, and upgrades to a release
 * that fails its health check, both with a state backup so that every step is taken): afterwards
 * `current` always points at a complete release (every file checked against its manifest), the
 * resume run has brought the upgrade to a recorded outcome, and the release that is current
 * starts and serves.
 *
 * Cost: each of the 16 upgrades unpacks and verifies a whole release, which is what made this
 * file the slowest of the suite (337 s of 791). Three things make it cheaper without skipping a
 * step or a check: the test releases carry only the node_modules packages their programs load
 * (leanNodeModules: ~1,800 files instead of ~7,800; they still start, serve and verify against
 * their manifests), the appliances live on tmpfs when the machine has one (fastTempDir), and the
 * two chains (good releases, failing releases), which share nothing but the read-only tarballs,
 * run at once on two appliances.
 */
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readJournal, type UpgradeStep } from '../../agent/release/journal.js';
import { verifyTree } from '../../agent/release/manifest.js';
import { releasePaths } from '../../agent/release/paths.js';
import { readManifest } from '../../agent/release/releases.js';
import {
  type Appliance,
  type BuildResult,
  buildTestRelease,
  crashingLauncher,
  fastTempDir,
  leanNodeModules,
  startAppliance,
} from './helpers.js';

const tmp = fastTempDir('calypso-crash-');
const builds: Record<string, BuildResult> = {};

before(async () => {
  builds['1.0.0'] = await buildTestRelease(tmp.dir, '1.0.0', leanNodeModules);
  builds['1.1.0'] = await buildTestRelease(tmp.dir, '1.1.0', leanNodeModules);
  builds['1.2.0'] = await buildTestRelease(tmp.dir, '1.2.0', async (d) => {
    await leanNodeModules(d);
    crashingLauncher(d);
  });
});

after(() => tmp.cleanup());

/** An appliance on release 1.0.0 whose upgrader kills itself at the step named in its crash file. */
function applianceFor(name: string) {
  const crashFile = path.join(tmp.dir, `crash-at-${name}`);
  const box: { app?: Appliance; crashFile: string } = { crashFile };
  before(async () => {
    box.app = await startAppliance(builds['1.0.0']!.file, {
      env: { CALYPSO_UPGRADER_CRASH_FILE: crashFile },
      tmpfs: true,
    });
  });
  after(async () => {
    const app = box.app;
    if (!app) return;
    await app.stop(); // checks that the agent it ran is gone too
    assert.notEqual(app.supervisor.exitCode ?? app.supervisor.signalCode, null, 'the supervisor exited');
  });
  return box;
}

const GOOD: UpgradeStep[] = [
  'started',
  'job-done',
  'stopped',
  'backed-up',
  'switched',
  'restarted',
  'healthy',
  'pruned',
];
const BAD: UpgradeStep[] = [
  'switched',
  'restarted',
  'unhealthy',
  'rolling-back',
  'rb-stopped',
  'rb-restored',
  'rb-switched',
  'rb-restarted',
];
const beforeSwitch = (s: UpgradeStep) => GOOD.indexOf(s) < GOOD.indexOf('switched');

async function killedAt(box: { app?: Appliance; crashFile: string }, step: UpgradeStep, to: string) {
  const app = box.app!;
  const crashFile = box.crashFile;
  const from = path.basename(readlinkSync(app.layout.current));
  writeFileSync(crashFile, step);
  const job = await app.runJob('release.install', {
    file: builds[to]!.file,
    backupState: true,
    healthTimeoutSec: 20,
  });
  assert.equal(job.state, 'success', JSON.stringify(job.error));
  const id = (job.result as { upgrade: string }).upgrade;
  const rec = await app.waitUpgrade(id, 60_000);
  const log = readFileSync(releasePaths(app.layout).upgradeLog, 'utf8');
  assert.ok(
    log.includes(`"upgrade":"${id}","msg":"resume: from step ${step}"`),
    `the upgrader was killed at ${step}`,
  );
  assert.equal(readJournal(app.layout), undefined, 'the resume run finished the upgrade');

  // current points at a complete release: every file matches its manifest.
  const cur = path.basename(readlinkSync(app.layout.current));
  const dir = path.join(app.layout.releases, cur);
  const m = readManifest(dir);
  assert.ok(m, `releases/${cur} has a manifest`);
  assert.deepEqual(await verifyTree(dir, m), [], `releases/${cur} is complete`);
  // ...and it starts: restart the agent and the version that answers is current's.
  await app.restartAgent(cur);
  return { from, cur, rec };
}

describe('upgrader killed with SIGKILL at each step', { concurrency: 2 }, () => {
  describe('good releases', { concurrency: 1 }, () => {
    const box = applianceFor('good');
    for (const step of GOOD) {
      it(`good release, killed at ${step}`, async () => {
        const from = path.basename(readlinkSync(box.app!.layout.current));
        const to = from === '1.0.0' ? '1.1.0' : '1.0.0';
        const r = await killedAt(box, step, to);
        if (beforeSwitch(step)) {
          assert.equal(r.rec.outcome, 'interrupted');
          assert.equal(r.cur, from, 'nothing was switched');
        } else {
          assert.equal(r.rec.outcome, 'success');
          assert.equal(r.cur, to);
        }
      });
    }
  });
  describe('failing releases', { concurrency: 1 }, () => {
    const box = applianceFor('bad');
    for (const step of BAD) {
      it(`failing release, killed at ${step}`, async () => {
        const r = await killedAt(box, step, '1.2.0');
        assert.equal(r.rec.outcome, 'rolled-back');
        assert.equal(r.cur, r.from, 'back on the release it came from');
      });
    }
  });
});
