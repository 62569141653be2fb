/**
 * Replica drills on zfs-fuse through the two-agent lab (test/remote/lab.ts: sshd, the guard, two
 * agents): the last common snapshot cloned at both ends (here through the ZFS port, at the remote
 * through the guard's `calypso drill-manifest`), the manifests compared. A good replica passes; a
 * replica whose snapshot was remade on the receiver with one file changed fails naming that file,
 * with a critical alert and a kept report; the walk's bound stops with a clear error; no clone is
 * left at either end; the drill schedule puts it on the maintenance calendar.
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pairDr, type ReplLab, run, startReplLab } from './lab.js';

interface Report {
  id: string;
  result: string;
  checked: number;
  failed: number;
  datasets: { source: string; snapshot: string; files: number }[];
  differences: { dataset: string; path: string; result: string; detail?: string }[];
  message: string;
}

describe('replica drills on zfs-fuse', { timeout: 300_000 }, () => {
  let lab: ReplLab;
  let prefix: string;
  let src: string;
  let dst: string;
  const mountpoint = async (ds: string) =>
    (await lab.zfs(['list', '-H', '-o', 'mountpoint', '--', ds])).stdout.trim();
  const zfsOk = async (args: string[]) => {
    const r = await lab.zfs(args);
    assert.equal(r.code, 0, `zfs ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** no drill clone left anywhere in the pool */
  const noClones = async () =>
    assert.doesNotMatch(await zfsOk(['list', '-H', '-o', 'name', '-r', '--', lab.pool]), /calypso-drill/);
  const drill = async (p: Record<string, unknown> = {}) => {
    const { job } = await lab.sender.call<{ job: string }>('replication.drill.run', { task: 'd', ...p });
    return lab.sender.waitJob(job);
  };

  before(async () => {
    lab = await startReplLab('dd');
    prefix = `${lab.pool}/backup`;
    src = `${lab.pool}/src`;
    dst = `${prefix}/src`;
    await pairDr(lab, prefix, [prefix, src]);
    const root = await mountpoint(src);
    mkdirSync(path.join(root, 'dir'));
    writeFileSync(path.join(root, 'a.txt'), 'the first file\n');
    writeFileSync(path.join(root, 'dir/b.txt'), 'the second file\n'.repeat(1000));
    symlinkSync('dir/b.txt', path.join(root, 'link'));
    await zfsOk(['snapshot', `${src}@s1`]);
    await lab.sender.call('replication.task.create', { id: 'd', remote: 'dr', source: src, target: dst });
    const run = await lab.sender.waitJob(
      (await lab.sender.call<{ job: string }>('replication.task.run', { id: 'd' })).job,
    );
    assert.equal(run.state, 'success', JSON.stringify(run.error));
  });
  after(async () => {
    await lab?.stop();
  });

  it('the dry run is the plan: the clone here, the guard’s drill-manifest at the remote; nothing runs', async () => {
    const dry = await lab.sender.call<{ dryRun: true; commands: string[][]; notes: string[] }>(
      'replication.drill.run',
      { task: 'd', maxFiles: 50, dryRun: true },
    );
    const clone = `${lab.pool}/calypso-drill-d`;
    assert.deepEqual(dry.commands[0]!.slice(0, 5), ['zfs', 'clone', '-o', 'readonly=on', '-o']);
    assert.deepEqual(dry.commands[0]!.slice(-2), [`${src}@s1`, clone]);
    assert.deepEqual(dry.commands[2], ['zfs', 'destroy', '-f', clone]);
    assert.equal(dry.commands[3]![0], 'ssh');
    assert.equal(dry.commands[3]!.at(-1), `calypso drill-manifest -- ${dst}@s1 50 ${64 * 1024 ** 3}`);
    assert.match(dry.notes.join('\n'), new RegExp(`${src} against ${dst} at @s1`));
    await noClones();
  });

  it('a good replica passes: every file, directory and symlink agrees; the report is kept', async () => {
    const dry = await lab.sender.call<{ commands: string[][] }>('replication.drill.run', {
      task: 'd',
      dryRun: true,
    });
    lab.runner.clear();
    const job = await drill();
    // the real run ran exactly the plan's commands, here and at the remote
    const planned = (a: string[]) =>
      (a[0] === 'zfs' && (a[1] === 'clone' || a[1] === 'destroy' || a.includes('mounted,mountpoint'))) ||
      (a[0] === 'ssh' && /^calypso drill-manifest /.test(a.at(-1) ?? ''));
    // (a destroy zfs-fuse answers "busy" right after the walk is retried: the same argv again)
    const ran = lab.runner.calls
      .filter(planned)
      .filter((a, i, all) => i === 0 || JSON.stringify(a) !== JSON.stringify(all[i - 1]));
    assert.deepEqual(ran, dry.commands);
    assert.equal(job.state, 'success', JSON.stringify(job.error));
    const r = job.result as Report;
    assert.equal(r.result, 'passed');
    assert.equal(r.checked, 4, 'a.txt, dir, dir/b.txt, link');
    assert.equal(r.failed, 0);
    assert.deepEqual(
      r.datasets.map((d) => [d.source, d.snapshot, d.files]),
      [[src, 's1', 4]],
    );
    const kept = await lab.sender.call<Report>('replication.drill.report.get', { task: 'd' });
    assert.equal(kept.id, r.id);
    await noClones();
    assert.equal(lab.sender.deps.alerts.get('replication.drill:d'), undefined);
  });

  it('a replica whose snapshot differs on the receiver fails naming the file, with an alert', async () => {
    // remake the receiver's @s1 with one file changed (its hold released and put back)
    await zfsOk(['release', 'calypso-repl:d', `${dst}@s1`]);
    await zfsOk(['destroy', `${dst}@s1`]);
    writeFileSync(path.join(await mountpoint(dst), 'dir/b.txt'), 'changed on the receiver\n');
    await zfsOk(['snapshot', `${dst}@s1`]);
    await zfsOk(['hold', 'calypso-repl:d', `${dst}@s1`]);
    const job = await drill();
    assert.equal(job.state, 'failed');
    assert.match(job.error?.message ?? '', /1 of 4 entries differ .*dir\/b\.txt \(different\)/);
    const r = await lab.sender.call<Report>('replication.drill.report.get', { task: 'd' });
    assert.equal(r.result, 'failed');
    assert.deepEqual(
      r.differences.map((d) => [d.dataset, d.path, d.result]),
      [[src, 'dir/b.txt', 'different']],
    );
    assert.match(r.differences[0]!.detail ?? '', /source 16000 bytes, sha256 .*replica 24 bytes/);
    const alert = lab.sender.deps.alerts.get('replication.drill:d');
    assert.equal(alert?.state, 'active');
    assert.equal(alert?.level, 'critical');
    assert.match(alert?.detail ?? '', /dir\/b\.txt/);
    await noClones();
  });

  it('the guard refuses a manifest of a snapshot outside its prefix, over ssh', async () => {
    const r = await run(lab.ssh('dr', ['calypso', 'drill-manifest', '--', `${src}@s1`, '10', '1000']));
    assert.equal(r.code, 126);
    assert.match(r.stderr, new RegExp(`refused: .*${src}@s1 is not a snapshot under ${prefix}`));
    await noClones();
  });

  it('the walk is bounded: past maxFiles a clear error, no clone left at either end', async () => {
    const job = await drill({ maxFiles: 2 });
    assert.equal(job.state, 'failed');
    assert.match(job.error?.message ?? '', /has more than 2 files: raise maxFiles/);
    await noClones();
  });

  it('a drill schedule puts the drill on the maintenance calendar with its last result', async () => {
    await assert.rejects(
      lab.sender.call('replication.task.update', { id: 'd', drillSchedule: '61 * * * *' }),
      /drillSchedule/,
    );
    await lab.sender.call('replication.task.update', { id: 'd', drillSchedule: '0 4 * * 0' });
    const cal = await lab.sender.call<{
      items: {
        source: string;
        id: string;
        schedule: string;
        nextRun: string;
        lastRun?: { result: string };
      }[];
    }>('maintenance.calendar');
    const e = cal.items.find((x) => x.source === 'replication.drill' && x.id === 'd');
    assert.ok(e, JSON.stringify(cal.items));
    assert.equal(e.schedule, '0 4 * * 0');
    assert.equal(new Date(e.nextRun).getUTCHours(), 4);
    assert.equal(e.lastRun?.result, 'failed');
    await lab.sender.call('replication.task.delete', { id: 'd' });
    await assert.rejects(
      lab.sender.call('replication.drill.report.get', { task: 'd' }),
      /no replica drill report/,
    );
    assert.equal(lab.sender.deps.alerts.get('replication.drill:d')?.state ?? 'cleared', 'cleared');
  });
});
