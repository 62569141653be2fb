/**
 * A Bacula job that misses its schedule raises `backup.job.missed:<job>` (issue 17).
 *
 * With the real director: it announces the job's next run (`.status dir scheduled`) and the
 * agent watches it; the director is then stopped — the commonest way a backup is missed — and
 * the agent's clock is moved past the run's time plus the grace (the director's own clock is
 * not: it would otherwise run the job, which is the other outcome). The alert names the job and
 * the time; a job without a schedule raises nothing; the alert clears when the job runs again
 * (`backup.run` through the restarted director). The catalog side — a run that happened, a
 * later run — is checked on the pure functions with catalog time text.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { alertsSubsystem } from '../../agent/alerts/service.js';
import { localText } from '../../agent/backup/catalog-sql.js';
import { splitCommands, stripSession } from '../../agent/backup/parse-bconsole.js';
import { lastScheduledSql, parseScheduled, ranFor } from '../../agent/backup/schedule-watch.js';
import type { JobRecord } from '../../agent/jobs.js';
import { waitUntil } from '../../agent/util/time.js';
import { repoRoot } from '../helpers/paths.js';
import { type Lab, startLab } from './lab.js';

describe('missed schedules: the pure parts', () => {
  it('reads the runs the director announces (recorded from bacula-dir 9.6.7)', () => {
    const raw = readFileSync(
      path.join(repoRoot(), 'test/fixtures/bacula/9.6.7/api2-status-dir-scheduled.txt'),
      'utf8',
    );
    const body = splitCommands(stripSession(raw).body, ['.api 2', '.status dir scheduled'])[1] ?? '';
    assert.deepEqual(parseScheduled(body), [
      { job: 'tree-backup', level: 'Incremental', at: 1796361300_000 },
      { job: 'tree-backup', level: 'Incremental', at: 1796425500_000 },
    ]);
    assert.deepEqual(parseScheduled(`${body}\n${body}`).length, 2, 'one run per job and time');
    assert.deepEqual(parseScheduled('name=x\nschedtime_epoch=soon\n'), []);
  });

  it('a run happened when the catalog has the job scheduled at or after its time', () => {
    const at = Date.parse('2026-12-04T23:05:00Z');
    const text = (ms: number) => localText(Math.floor(ms / 1000));
    assert.equal(ranFor(undefined, at), false, 'never ran');
    assert.equal(ranFor(text(at), at), true, 'the scheduled run itself');
    assert.equal(ranFor(text(at - 30_000), at), true, 'within the minute of slack');
    assert.equal(ranFor(text(at + 3600_000), at), true, 'a later run (manual or the next one)');
    assert.equal(ranFor(text(at - 86_400_000), at), false, 'only the day before');
    assert.equal(
      lastScheduledSql(["it's"]),
      "SELECT Name AS name, max(SchedTime) AS last FROM Job WHERE Name IN ('it''s') GROUP BY Name;",
    );
  });
});

describe('missed schedules with the real director', { timeout: 180_000 }, () => {
  let lab: Lab;
  let offset = 0;
  const clock = { now: () => Date.now() + offset };
  let at = 0;
  const call = <T>(m: string, p: Record<string, unknown> = {}) => lab.t.call<T>(m, p);

  before(async () => {
    lab = await startLab({ clock, scheduleCheckMs: 200, services: [alertsSubsystem] });
    const data = path.join(lab.t.prefix, 'data');
    await mkdir(data, { recursive: true });
    await writeFile(path.join(data, 'a.txt'), 'to be backed up\n');
    await call('backup.storage.set', { name: 'vault', type: 'disk', devices: 1 });
    await call('backup.pool.set', { name: 'daily', storage: 'vault' });
    await call('backup.fileset.set', { name: 'tree', include: [data] });
    // a daily run a few minutes from now (local time, as the director reads it): far enough that
    // the director does not reach it during the test
    const soon = new Date(Date.now() + 4 * 60_000);
    const hhmm = `${String(soon.getHours()).padStart(2, '0')}:${String(soon.getMinutes()).padStart(2, '0')}`;
    soon.setSeconds(0, 0);
    at = soon.getTime();
    await call('backup.schedule.set', { name: 'soon', runs: [{ level: 'Full', when: `at ${hhmm}` }] });
    await call('backup.job.set', {
      name: 'nightly',
      client: 'calypso-fd',
      fileset: 'tree',
      pool: 'daily',
      schedule: 'soon',
    });
    await call('backup.job.set', { name: 'by-hand', client: 'calypso-fd', fileset: 'tree', pool: 'daily' });
    await lab.startAll();
  });

  after(async () => {
    await lab?.stop();
  });

  it('watches the run the director announces, raises the alert when it is missed, clears it when the job runs', async () => {
    const upcoming = await waitUntil(
      async () => {
        const u = await call<{ runs: { job: string; at: string; level?: string }[]; readAt?: string }>(
          'backup.schedule.upcoming',
        );
        return u.runs.find((r) => r.job === 'nightly') ? u : undefined;
      },
      { timeoutMs: 20_000, what: 'the announced run' },
    );
    assert.deepEqual(upcoming.runs, [{ job: 'nightly', level: 'Full', at: new Date(at).toISOString() }]);
    assert.ok(upcoming.readAt);

    // the director goes down before the run; the agent's time passes the run and its grace
    await lab.stopDaemon('dir');
    const { thresholds } = await call<{ thresholds: { backupMissedMinutes: number } }>('alert.rules');
    assert.equal(thresholds.backupMissedMinutes, 60);
    offset = at + 30 * 60_000 - Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(lab.t.deps.alerts.get('backup.job.missed:nightly'), undefined, 'still within the grace');
    offset = at + 61 * 60_000 - Date.now();
    const alert = await waitUntil(
      () => {
        const a = lab.t.deps.alerts.get('backup.job.missed:nightly');
        return a?.state === 'active' ? a : undefined;
      },
      { timeoutMs: 20_000, what: 'the missed-schedule alert' },
    );
    assert.equal(alert.level, 'warning');
    assert.equal(alert.source, 'backup');
    assert.match(alert.title, /nightly missed its schedule/);
    assert.ok(alert.detail?.includes(new Date(at).toISOString()), alert.detail);
    assert.match(alert.detail ?? '', /director/);
    assert.deepEqual(
      (await call<{ runs: unknown[] }>('backup.schedule.upcoming')).runs,
      [],
      'the missed run is no longer watched: it is an alert now',
    );
    await new Promise((r) => setTimeout(r, 600)); // three more checks
    assert.equal(lab.t.deps.alerts.get('backup.job.missed:nightly')?.count, 1, 'raised once, not per check');
    assert.equal(lab.t.deps.alerts.get('backup.job.missed:by-hand'), undefined, 'no schedule, never missed');

    // the director comes back and the job runs: the alert clears
    await lab.start('dir');
    const { job } = await call<{ job: string }>('backup.run', { job: 'nightly' });
    const rec: JobRecord = await lab.t.waitJob(job);
    assert.equal(rec.state, 'success', JSON.stringify(rec.error));
    await waitUntil(() => lab.t.deps.alerts.get('backup.job.missed:nightly')?.state === 'cleared', {
      what: 'the clear',
    });
  });
});
