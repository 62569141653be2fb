/**
 * bconsole output parsers on outputs recorded from Bacula 9.6.7 (Debian 12) on this project's
 * test machine: test/fixtures/bacula/9.6.7/.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  parseCancel,
  parseEstimate,
  parseJobIds,
  parseKeyValueBlocks,
  parseLabel,
  parseLlist,
  parsePurge,
  parseRestoreOutput,
  parseRunningJobs,
  parseRunOutput,
  parseStatusHeader,
  parseTable,
  splitCommands,
  stripSession,
} from '../../agent/backup/parse-bconsole.js';
import { decodeLStat, entryType, fromBase64 } from '../../agent/backup/parse-lstat.js';
import { repoRoot } from '../helpers/paths.js';

const dir = path.join(repoRoot(), 'test', 'fixtures', 'bacula', '9.6.7');
/** A recorded session: noise stripped, the output of its last command (after `.api 2` if any). */
function fixture(name: string): string {
  const raw = readFileSync(path.join(dir, name), 'utf8');
  const s = stripSession(raw);
  const cmds = s.body
    .split('\n')
    .filter((l) => /^(\.|[a-z]+ )|^(reload|version|quit)$/.test(l) && !/=/.test(l.split(' ')[0] ?? ''));
  const parts = splitCommands(s.body, cmds);
  return parts.filter((_, i) => cmds[i] !== 'quit' && cmds[i] !== '.api 2').at(-1) ?? '';
}

describe('bconsole session parsing', () => {
  it('strips the greeting and notices, and sees connection and authorization', () => {
    const s = stripSession(readFileSync(path.join(dir, 'run-ok.txt'), 'utf8'));
    assert.equal(s.connected, true);
    assert.equal(s.authFailed, false);
    assert.doesNotMatch(s.body, /Connecting to Director|1000 OK|You have messages/);
    const denied = stripSession(
      'Connecting to Director 127.0.0.1:9101\nDirector authorization problem.\nMost likely the passwords do not agree.\n',
    );
    assert.equal(denied.connected, false);
    assert.equal(denied.authFailed, true);
  });

  it('splits a session into per-command outputs by the echoed commands', () => {
    const body = '.api 2\n.status dir header\nheader:\nname=x\nversion=9.6.7 (10 December 2020)\nquit';
    assert.deepEqual(splitCommands(body, ['.api 2', '.status dir header', 'quit']), [
      '',
      'header:\nname=x\nversion=9.6.7 (10 December 2020)',
      '',
    ]);
  });
});

describe('.api 2 status parsers', () => {
  it('reads the director, storage and client headers', () => {
    const d = parseStatusHeader(fixture('api2-status-dir-header.txt'));
    assert.equal(d?.name, 'calypso-dir');
    assert.equal(d?.version, '9.6.7');
    assert.equal(d?.jobsRunning, 0);
    assert.ok(d?.pid && d.pid > 0);
    assert.match(d?.started ?? '', /^\d{4}-\d\d-\d\dT/);
    assert.equal(parseStatusHeader(fixture('api2-status-sd-header.txt'))?.name, 'calypso-sd');
    assert.equal(parseStatusHeader(fixture('api2-status-fd-header.txt'))?.name, 'calypso-fd');
  });

  it('reads running jobs from the file daemon (files, bytes, rate, current file)', () => {
    const [j] = parseRunningJobs(fixture('api2-status-fd-running.txt'));
    assert.equal(j?.jobId, 6);
    assert.equal(j?.files, 1);
    assert.equal(j?.bytes, 16449536);
    assert.equal(j?.rate, 16449536);
    assert.equal(j?.status, 'R');
    assert.match(j?.file ?? '', /big2$/);
  });

  it('reads running jobs from the director and the storage daemon', () => {
    const dirJobs = parseRunningJobs(fixture('api2-status-dir-running.txt'));
    assert.equal(dirJobs.length, 1);
    assert.equal(dirJobs[0]?.jobId, 6);
    const sd = parseRunningJobs(fixture('api2-status-sd-running.txt'));
    assert.equal(sd[0]?.jobId, 6);
    assert.equal(parseRunningJobs(fixture('api2-status-dir-running-none.txt')).length, 0);
  });

  it('reads terminated jobs as key=value blocks', () => {
    const blocks = parseKeyValueBlocks(fixture('api2-status-dir-terminated.txt'));
    assert.equal(blocks.length, 5);
    assert.deepEqual(
      blocks.map((b) => b.status),
      ['T', 'T', 'A', 'T', 'T'],
    );
  });
});

describe('command outcome parsers', () => {
  it('run: queued JobId, unknown job', () => {
    assert.deepEqual(parseRunOutput(fixture('run-ok.txt')), { ok: true, value: 6 });
    assert.deepEqual(parseRunOutput(fixture('run-ok-level.txt')), { ok: true, value: 1 });
    const nf = parseRunOutput(fixture('run-unknown-job.txt'));
    assert.equal(nf.ok, false);
    assert.equal(!nf.ok && nf.reason, 'not_found');
  });

  it('cancel: marked, or not running', () => {
    assert.equal(parseCancel(fixture('cancel-ok.txt')).ok, true);
    const nr = parseCancel(fixture('cancel-unknown.txt'));
    assert.equal(!nr.ok && nr.reason, 'conflict');
  });

  it('label: done, or the volume exists', () => {
    assert.deepEqual(parseLabel(fixture('label-ok.txt')), {
      ok: true,
      value:
        '3000 OK label. VolBytes=214 VolABytes=0 VolType=1 Volume="manual-003" Device="disk1-dev" (/tmp/bproof/p/vol)',
    });
    const ex = parseLabel(fixture('label-exists.txt'));
    assert.equal(!ex.ok && ex.reason, 'conflict');
  });

  it('purge: marked purged, or not purgeable in its state', () => {
    assert.equal(parsePurge(fixture('purge-volume.txt')).ok, true);
    const st = parsePurge(fixture('purge-volume-purged.txt'));
    assert.equal(!st.ok && st.reason, 'conflict');
    assert.match(!st.ok ? st.message : '', /Purged/);
  });

  it('estimate: files and bytes', () => {
    assert.deepEqual(parseEstimate(fixture('estimate.txt')), { files: 6, bytes: 105000003 });
    assert.equal(parseEstimate('nothing'), undefined);
  });

  it('restore: queued with the file count, or no such job', () => {
    assert.deepEqual(parseRestoreOutput(fixture('restore-all-ok.txt')), {
      ok: true,
      value: { jobId: 2, files: 33 },
    });
    const sel = parseRestoreOutput(fixture('restore-file-table-ok.txt'));
    assert.deepEqual(sel, { ok: true, value: { jobId: 3, files: 2 } });
    const nj = parseRestoreOutput(fixture('restore-no-job.txt'));
    assert.equal(!nj.ok && nj.reason, 'not_found');
    assert.equal(!parseRestoreOutput(fixture('restore-missing-job.txt')).ok, true);
  });

  it('bvfs: the job chain of a restore', () => {
    assert.deepEqual(parseJobIds(fixture('api2-bvfs-get-jobids.txt')), [1, 2]);
    assert.deepEqual(parseJobIds('1,4,7\n'), [1, 4, 7]);
    assert.deepEqual(parseJobIds(''), []);
  });

  it('llist and list tables', () => {
    const [j] = parseLlist(fixture('llist-jobid.txt'));
    assert.equal(j?.JobId, '1');
    assert.equal(j?.JobStatus, 'T');
    assert.equal(j?.JobFiles, '33');
    assert.equal(j?.Comment, '');
    assert.equal(parseLlist(fixture('llist-jobid-canceled.txt'))[0]?.JobStatus, 'A');
    const rows = parseTable(fixture('list-jobs.txt'));
    assert.deepEqual(
      rows.map((r) => [r.JobId, r.Type, r.JobFiles, r.JobStatus]),
      [
        ['4', 'R', '6', 'T'],
        ['5', 'R', '2', 'T'],
      ],
    );
    const vols = parseTable(fixture('list-volumes.txt'));
    assert.ok(vols.every((v) => typeof v.VolumeName === 'string' && v.VolumeName.length > 0));
  });
});

describe('LStat decoding', () => {
  it('decodes Bacula base64 numbers', () => {
    assert.equal(fromBase64('A'), 0);
    assert.equal(fromBase64('IGk'), 0o100644);
    assert.equal(fromBase64('F9eEA'), 100_000_000);
    assert.equal(fromBase64('-B'), -1);
    assert.throws(() => fromBase64('*'), /bad digit/);
  });

  it('decodes a catalog LStat (regular file, directory, symlink)', () => {
    const f = decodeLStat('P4A IMQZ IGk B A A A F9eEA BAA vr4 BrBtAK BrBtAM BrBtAM A A C');
    assert.equal(entryType(f.mode), 'file');
    assert.equal(f.mode & 0o7777, 0o644);
    assert.equal(f.size, 100_000_000);
    assert.equal(f.linkFi, 0);
    assert.equal(
      entryType(decodeLStat('P4A IMNo EHt D A A A BAA BAA I BrBtAC BrBtAK BrBtAK A A C').mode),
      'dir',
    );
    assert.equal(
      entryType(decodeLStat('P4A IMN4 KH/ B A A A D BAA A BrBtAC BrBtAA BrBtAA A A C').mode),
      'link',
    );
    assert.throws(() => decodeLStat('A B C'), /fields/);
  });
});
