/**
 * The backup subsystem raises its own alert about a Bacula run's end (agent/backup/alerts.ts)
 * through the alert port, with the key, level and words the alerts had when the alerts
 * subsystem raised them: a failed run raises `backup.job.failed:<job>`; a run that completed
 * clears it and the job's missed-schedule alert; a cancelled run changes nothing. The real alert
 * engine over its own LMDB in a temporary directory.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { open, type RootDatabase } from 'lmdb';
import pino from 'pino';
import { AlertEngine } from '../../agent/alert-engine.js';
import { jobEndAlert } from '../../agent/backup/alerts.js';
import { EventBus } from '../../agent/events.js';
import { tempDir } from '../helpers/paths.js';

let tmp: { dir: string; cleanup: () => void };
let env: RootDatabase;
let alerts: AlertEngine;
before(() => {
  tmp = tempDir('calypso-backup-alerts-');
  env = open({ path: path.join(tmp.dir, 'lmdb') });
  alerts = new AlertEngine({
    db: env.openDB({ name: 'alerts' }),
    events: new EventBus(),
    log: pino({ level: 'silent' }),
    now: Date.now,
  });
});
after(async () => {
  await env.close();
  tmp.cleanup();
});

it('a failed run raises backup.job.failed; a good one clears it and the missed alert', async () => {
  await alerts.raise({
    key: 'backup.job.missed:nightly',
    level: 'warning',
    source: 'backup',
    title: 'missed',
  });
  await jobEndAlert(alerts, { jobId: 42, name: 'nightly', status: 'error' });
  const a = alerts.get('backup.job.failed:nightly')!;
  assert.equal(a.state, 'active');
  assert.equal(a.level, 'critical');
  assert.equal(a.source, 'backup');
  assert.equal(a.title, 'backup job nightly ended error');
  assert.equal(
    a.detail,
    'Bacula job 42 did not complete: read its log (backup.history.log) and run it again (backup.run).',
  );
  assert.deepEqual(a.data, { jobId: 42, job: 'nightly', status: 'error' });
  // a cancelled run says nothing either way
  await jobEndAlert(alerts, { jobId: 43, name: 'nightly', status: 'aborted' });
  assert.equal(alerts.get('backup.job.failed:nightly')!.count, 1);
  assert.equal(alerts.get('backup.job.failed:nightly')!.state, 'active');
  await jobEndAlert(alerts, { jobId: 44, name: 'nightly', status: 'warning' });
  assert.equal(alerts.get('backup.job.failed:nightly')!.state, 'cleared');
  assert.equal(alerts.get('backup.job.missed:nightly')!.state, 'cleared');
});
