/**
 * Push replication to another appliance through a real sshd and the receiving side's forced
 * command, on zfs-fuse: an initial full push and incremental ones, holds moved to the last common
 * snapshot on both sides, the ssh process killed mid-stream (zfs-fuse keeps no resume tokens: the
 * next run restarts from the last common snapshot) with the receiver intact, and the dry run's
 * argv of both ends equal to what the real run ran.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobRecord } from '../../agent/jobs.js';
import { zfsImpl } from '../zfs/helpers.js';
import { pairDr, type ReplLab, startReplLab } from './lab.js';

interface RunAnswer {
  mode: string;
  snapshot: string;
  from?: string;
  bytes: number;
  resumeTokens: boolean;
  guidsMatch: boolean;
  notes: string[];
}
const OPENZFS = zfsImpl() === 'openzfs';
const LIMIT = 2 * 1024 * 1024;

/** the commands a run changes something with: the send, the ssh receive, holds and releases */
const changes = (argv: string[]) =>
  argv[0] === 'zfs'
    ? ['send', 'hold', 'release'].includes(argv[1]!) && !argv.includes('-nvP')
    : argv[0] === 'ssh' && /^(zfs (receive|hold|release)|calypso (holds|settle)) /.test(argv.at(-1)!);

describe(`push replication over ssh on ${zfsImpl()}`, { timeout: 600_000 }, () => {
  let lab: ReplLab;
  let src: string;
  let dst: string;
  const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
  const mountOf = async (ds: string) =>
    (await lab.zfs(['list', '-H', '-o', 'mountpoint', '--', ds])).stdout.trim();
  /** the snapshots' exact GUIDs (zfs get -p: zfs-fuse's zfs list rounds them), in creation order */
  const guids = async (ds: string) =>
    (await lab.zfs(['get', '-Hp', '-o', 'name,value', '-d', '1', 'guid', '--', ds])).stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith(`${ds}@`))
      .map((l) => l.replace(/^[^@]*/, ''));
  /** ssh processes of this agent still running with the task's control socket */
  const masters = () =>
    readdirSync('/proc')
      .filter((f) => /^\d+$/.test(f))
      .filter((e) => {
        try {
          return readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(
            `ControlPath=${path.join(lab.sender.deps.layout.stateDir, 'remote', 'mux')}`,
          );
        } catch {
          return false;
        }
      });
  /** user holds on a snapshot (userrefs: zfs-fuse has no `zfs holds`) */
  const holds = async (snap: string) =>
    Number((await lab.zfs(['get', '-H', '-o', 'value', 'userrefs', '--', snap])).stdout.trim());
  const write = async (name: string, bytes: number) => {
    const file = path.join(await mountOf(src), name);
    writeFileSync(file, randomBytes(bytes));
    return sha(file);
  };
  const snap = (name: string) => lab.sender.call('snapshot.create', { dataset: src, name });
  const runTask = async () => {
    const { job } = await lab.sender.call<{ job: string }>('replication.task.run', { id: 't1' });
    return job;
  };

  before(async () => {
    lab = await startReplLab('rq');
    src = `${lab.pool}/src`;
    const prefix = `${lab.pool}/backup`;
    dst = `${prefix}/src`;
    await pairDr(lab, prefix, [src, prefix]);
  });
  after(async () => {
    await lab?.stop();
  });

  it('create: the target must be below the remote’s prefix', async () => {
    await assert.rejects(
      lab.sender.call('replication.task.create', {
        id: 't1',
        remote: 'dr',
        source: src,
        target: `${lab.pool}/elsewhere`,
      }),
      /must be below/,
    );
    const dry = await lab.sender.call<{ commands: unknown[] }>('replication.task.create', {
      id: 't1',
      remote: 'dr',
      source: src,
      target: dst,
      bandwidthLimit: LIMIT,
      dryRun: true,
    });
    assert.deepEqual(dry.commands, []);
    assert.equal((await lab.sender.call<{ total: number }>('replication.task.list')).total, 0);
    await lab.sender.call('replication.task.create', {
      id: 't1',
      remote: 'dr',
      source: src,
      target: dst,
      bandwidthLimit: LIMIT,
    });
  });

  it('initial full push: the dry run’s argv of both ends are what the run runs; held on both sides', async () => {
    await write('a.bin', 512 * 1024);
    await snap('s1');
    const dry = await lab.sender.call<{ commands: string[][]; notes: string[] }>('replication.task.run', {
      id: 't1',
      dryRun: true,
    });
    assert.deepEqual(dry.commands[0], ['zfs', 'send', '--', `${src}@s1`]);
    assert.equal(dry.commands[1]![0], 'ssh');
    assert.equal(dry.commands[1]!.at(-1), OPENZFS ? `zfs receive -s -- ${dst}` : `zfs receive -- ${dst}`);
    lab.runner.clear();
    const job = await lab.sender.waitJob(await runTask());
    assert.equal(job.state, 'success', JSON.stringify(job.error));
    assert.deepEqual(lab.runner.calls.filter(changes), dry.commands);
    const res = job.result as RunAnswer;
    assert.equal(res.mode, 'full');
    assert.equal(res.guidsMatch, true);
    assert.equal(res.resumeTokens, OPENZFS);
    if (!OPENZFS)
      assert.match(res.notes.join(' '), /no resume tokens.*restarts from the last common snapshot/);
    assert.deepEqual(await guids(dst), await guids(src));
    assert.equal(await holds(`${src}@s1`), 1);
    assert.equal(await holds(`${dst}@s1`), 1);
    // held: the snapshot cannot be destroyed on the receiver
    assert.notEqual((await lab.zfs(['destroy', '--', `${dst}@s1`])).code, 0);
  });

  it('incremental push from the last common snapshot moves the holds, over one ssh connection', async () => {
    const h = await write('b.bin', 256 * 1024);
    await snap('s2');
    const logAt = lab.sshd.log().length;
    lab.runner.clear();
    const job = await lab.sender.waitJob(await runTask());
    assert.equal(job.state, 'success', JSON.stringify(job.error));
    // the reads, the receive, the reads after and the holds: sessions of one authenticated connection
    const remote = lab.runner.calls.filter((a) => a[0] === 'ssh');
    assert.ok(remote.length >= 4, JSON.stringify(remote));
    assert.equal(remote.filter((a) => a.includes('ControlMaster=yes')).length, 1);
    assert.equal(
      lab.sshd
        .log()
        .slice(logAt)
        .match(/Accepted publickey/g)?.length,
      1,
      lab.sshd.log().slice(logAt),
    );
    assert.deepEqual(masters(), [], 'the master connection ended with the run');
    assert.deepEqual(readdirSync(path.join(lab.sender.deps.layout.stateDir, 'remote', 'mux')), []);
    const res = job.result as RunAnswer;
    assert.equal(res.mode, 'incremental');
    assert.equal(res.from, 's1');
    assert.equal(res.snapshot, 's2');
    assert.deepEqual(await guids(dst), await guids(src));
    assert.equal(await holds(`${dst}@s2`), 1);
    assert.equal(await holds(`${dst}@s1`), 0);
    assert.equal(await holds(`${src}@s1`), 0);
    assert.equal(sha(path.join(await mountOf(dst), 'b.bin')), h);
    // up to date: nothing is sent
    const again = await lab.sender.waitJob(await runTask());
    assert.equal((again.result as RunAnswer).mode, 'none');
  });

  it('the ssh process killed mid-stream: the run fails, the receiver is intact, the next run restarts from the last common snapshot', {
    timeout: 150_000,
  }, async () => {
    const big = await write('c.bin', 12 * 1024 * 1024);
    await snap('s3');
    const id = await runTask();
    // the run's ssh (it names this agent's known_hosts), once a few MiB went through
    const known = path.join(lab.sender.deps.layout.stateDir, 'remote', 'dr', 'known_hosts');
    let victim: number | undefined;
    for (let i = 0; i < 600 && !victim; i++) {
      await sleep(100);
      const rec = await lab.sender.call<JobRecord>('job.get', { id });
      if (['success', 'failed', 'aborted', 'interrupted'].includes(rec.state)) break;
      if (!/^([3-9]|\d\d+)\d{6}/.test(rec.progress.description ?? '')) continue;
      for (const e of readdirSync('/proc').filter((f) => /^\d+$/.test(f))) {
        try {
          const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
          if (
            cmd.some((a) => path.basename(a) === 'ssh') &&
            cmd.includes(`UserKnownHostsFile=${known}`) &&
            /zfs receive/.test(cmd.at(-2) ?? '')
          )
            victim = Number(e);
        } catch {
          /* gone */
        }
      }
    }
    assert.ok(victim, 'found the running ssh');
    process.kill(victim, 'SIGKILL');
    const failedJob = await lab.sender.waitJob(id);
    assert.equal(failedJob.state, 'failed');
    assert.match(failedJob.error?.message ?? '', OPENZFS ? /resumes/ : /restarts from @s2/);
    assert.equal(lab.sender.deps.alerts.get('replication.task:t1')?.state, 'active');
    if (!OPENZFS) {
      // nothing of the cut stream on the receiver: s2 is its newest, intact and still held
      assert.deepEqual(await guids(dst), (await guids(src)).slice(0, 2));
      assert.equal(await holds(`${dst}@s2`), 1);
    }
    const job = await lab.sender.waitJob(await runTask());
    assert.equal(job.state, 'success', JSON.stringify(job.error));
    const res = job.result as RunAnswer;
    assert.equal(res.mode, OPENZFS ? 'resume' : 'incremental');
    if (!OPENZFS) assert.equal(res.from, 's2');
    assert.ok(res.bytes >= 12 * 1024 * 1024, `${res.bytes} bytes`);
    assert.deepEqual(await guids(dst), await guids(src));
    assert.equal(sha(path.join(await mountOf(dst), 'c.bin')), big);
    assert.equal(lab.sender.deps.alerts.get('replication.task:t1')?.state, 'cleared');
  });

  it('a snapshot of the same name with another GUID on the two ends: the run fails and raises a critical alert', async () => {
    // the source's @s1 destroyed and taken again: the same name, other data, another GUID; the
    // target keeps the @s1 it received. The next incremental (from the held @s3) goes through,
    // and the comparison after it must not call the two ends equal.
    await lab.zfs(['destroy', `${src}@s1`]);
    await lab.zfs(['snapshot', `${src}@s1`]);
    await write('d.bin', 64 * 1024);
    await snap('s4');
    const job = await lab.sender.waitJob(await runTask());
    assert.equal(job.state, 'failed', JSON.stringify(job.result));
    // the exact GUIDs (zfs get -p on both ZFSes; zfs-fuse's zfs list rounds them: "4.67E")
    const guidOf = async (snap: string) =>
      (await lab.zfs(['get', '-Hp', '-o', 'value', 'guid', '--', snap])).stdout.trim();
    const [mine, theirs] = [await guidOf(`${src}@s1`), await guidOf(`${dst}@s1`)];
    assert.match(mine, /^\d{6,}$/);
    assert.notEqual(mine, theirs);
    assert.match(
      job.error?.message ?? '',
      new RegExp(`GUIDs of both ends differ: .*@s1: source GUID ${mine}, target GUID ${theirs}(;|$)`),
    );
    const alert = lab.sender.deps.alerts.get('replication.task:t1');
    assert.equal(alert?.state, 'active');
    assert.equal(alert?.level, 'critical');
    // the holds stay on the last common snapshot that was checked good
    assert.equal(await holds(`${src}@s3`), 1);
    assert.equal(await holds(`${dst}@s3`), 1);
  });

  it('delete releases the holds on both sides', async () => {
    lab.runner.clear();
    const dry = await lab.sender.call<{ commands: string[][] }>('replication.task.delete', {
      id: 't1',
      dryRun: true,
    });
    assert.deepEqual(dry.commands[0], ['zfs', 'release', '--', 'calypso-repl:t1', `${src}@s3`]);
    await lab.sender.call('replication.task.delete', { id: 't1' });
    assert.deepEqual(lab.runner.calls.filter(changes), dry.commands);
    assert.equal(await holds(`${src}@s3`), 0);
    assert.equal(await holds(`${dst}@s3`), 0);
    assert.equal((await lab.sender.call<{ total: number }>('replication.task.list')).total, 0);
  });
});
