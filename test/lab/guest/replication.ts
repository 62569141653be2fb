/**
 * In the lab guest: replication to another appliance on OpenZFS 2.1, which keeps resume tokens (zfs-fuse does
 * not). The host's replication lab (test/remote/lab.ts: Debian's sshd on a free loopback port, a sending and a
 * receiving agent under two prefixes, the guard as the forced command) with two pools on file vdevs, the sender's
 * and the receiver's. The first (full) recursive push is cut mid-stream of one child (its ssh killed): that
 * child keeps its receive_resume_token on the receiver (the guard's `calypso state` shows it, and that the
 * receiver keeps tokens), and the next run resumes it with `zfs send -t` while the child after it, which never
 * started, restarts with a full send; the answer says which did what, and both ends agree (GUIDs, SHA-256).
 * Then a pull (a key authorized with `pull`): cut mid-stream, the receiver here keeps a token and the next run
 * resumes it with `zfs send -t` through the guard, which decodes the token first (`zfs send -nvt`) and checks the
 * snapshot it names. Then replica drills on OpenZFS: the pulled filesystem, and a pushed zvol whose clones' devices
 * are hashed at both ends (passing, then failing once the receiver's snapshot is remade with a block changed).
 * Under TCG every process start costs seconds (an ssh session with the guard ~10–40 s on a loaded host), so the
 * file keeps to few runs (two per task) and one guard call of its own.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobRecord } from '../../../agent/jobs.js';
import type { DrillReport } from '../../../agent/remote/drill.js';
import type { EndState } from '../../../agent/remote/state.js';
import { pairDr, type ReplLab, run, snapshotGuids, startReplLab } from '../../remote/lab.js';
import { destroyPoolsChecked, vdevFiles } from '../../zfs/helpers.js';
import { assertInGuest, waitFor } from './sh.js';

interface Child {
  dataset: string;
  target: string;
  mode: string;
  from?: string;
}

let lab: ReplLab;
let rpool: string;
let prefix: string;
let tree: string;
let publicKey: string;

const mountpoint = async (ds: string) =>
  (await lab.zfs(['list', '-H', '-o', 'mountpoint', '--', ds])).stdout.trim();
const sha = async (ds: string, file: string) =>
  createHash('sha256')
    .update(readFileSync(path.join(await mountpoint(ds), file)))
    .digest('hex');
const token = async (ds: string) =>
  (await lab.zfs(['get', '-H', '-o', 'value', 'receive_resume_token', '--', ds])).stdout.trim();
const guardState = async (...datasets: string[]) => {
  const r = await run(lab.ssh('dr', ['calypso', 'state', '--', ...datasets]));
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as EndState;
};
const t0 = Date.now();
/** progress on stderr (a guest run shows it even when a test hangs) */
const log = (what: string) =>
  process.stderr.write(`[replication ${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}\n`);
const runTask = async (id = 'tree') =>
  (await lab.sender.call<{ job: string }>('replication.task.run', { id })).job;
/** this process's children (every thread's) */
const childPids = () =>
  readdirSync('/proc/self/task').flatMap((t) => {
    try {
      return readFileSync(`/proc/self/task/${t}/children`, 'utf8').split(' ').filter(Boolean);
    } catch {
      return [];
    }
  });
/** the sender's ssh whose remote command line matches `line`, once the job's progress passes `bytes` */
const findSsh = async (job: string, minBytes: number, line: RegExp) => {
  const known = path.join(lab.sender.deps.layout.stateDir, 'remote', 'dr', 'known_hosts');
  for (let i = 0; i < 12_000; i++) {
    await sleep(50);
    const rec = await lab.sender.call<JobRecord>('job.get', { id: job });
    if (rec.state !== 'running') return undefined;
    if (Number(/^(\d+) of/.exec(rec.progress.description ?? '')?.[1] ?? 0) < minBytes) continue;
    // the sender runs in this process: its ssh is a child of ours (a few pids to read, not all of /proc: under
    // TCG a scan of every process took longer than the window of a throttled stream on a loaded host)
    for (const e of childPids()) {
      try {
        const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
        if (cmd.includes(`UserKnownHostsFile=${known}`) && line.test(cmd.at(-2) ?? '')) return Number(e);
      } catch {
        /* gone */
      }
    }
  }
  return undefined;
};

before(async () => {
  assertInGuest();
  lab = await startReplLab('gr', { commandTimeoutSec: 600 });
  rpool = `${lab.pool}r`;
  const [file] = vdevFiles(path.join(lab.sender.prefix, 'vdevs'), ['receiver.img'], 256 << 20);
  await lab.sender.call('pool.create', {
    name: rpool,
    topology: { data: [{ type: 'stripe', disks: [file] }] },
    altroot: path.join(lab.sender.prefix, 'rmnt'),
  });
  prefix = `${rpool}/backup`;
  tree = `${lab.pool}/tree`;
  publicKey = await pairDr(lab, prefix);
  for (const [ds, bytes] of [
    [tree, 64 << 10],
    [`${tree}/a`, 16 << 20],
    [`${tree}/a/b`, 256 << 10],
  ] as const) {
    await lab.sender.call('dataset.create', { name: ds });
    writeFileSync(path.join(await mountpoint(ds), 'x.bin'), randomBytes(bytes));
  }
  await lab.zfs(['snapshot', '-r', `${tree}@r1`]);
  log('lab ready');
});
after(async () => {
  await destroyPoolsChecked([rpool]).catch(() => {});
  await lab?.stop();
});

describe('replication with resume tokens on OpenZFS', { timeout: 900_000 }, () => {
  it('a recursive push cut mid-stream: the cut child resumes from its token, the next one restarts', async () => {
    // tree/a's 16 MiB sent at 4 MiB/s, so that the cut comes mid-stream
    await lab.sender.call('replication.task.create', {
      id: 'tree',
      remote: 'dr',
      source: tree,
      target: `${prefix}/tree`,
      recursive: true,
      bandwidthLimit: 4 << 20,
    });
    const id = await runTask();
    log('first run started');
    // more than 2 MB sent: inside tree/a's stream (tree's own is 64 KiB)
    const victim = await findSsh(id, 2_000_000, /zfs receive .*tree\/a$/);
    assert.ok(victim, 'found the running ssh of tree/a');
    process.kill(victim, 'SIGKILL');
    log(`killed ssh ${victim}`);
    const cut = await lab.sender.waitJob(id);
    log(`cut run: ${cut.state} ${cut.error?.message ?? ''}`);
    assert.equal(cut.state, 'failed');
    const msg = cut.error?.message ?? '';
    assert.match(msg, /tree\/a resumes from its token/);
    assert.match(msg, /tree\/a\/b restarts with a full send/);
    // the receiver's zfs receive ends when its session's input closes: wait for the token it leaves
    for (let i = 0; i < 300 && (await token(`${prefix}/tree/a`)) === '-'; i++) await sleep(200);
    const st = await guardState(`${prefix}/tree`, `${prefix}/tree/a`, `${prefix}/tree/a/b`);
    log('guard state read');
    assert.equal(st.tokens, true, 'the guard says the receiver keeps resume tokens');
    assert.match(st.datasets[`${prefix}/tree/a`]?.token ?? '', /^1-/, 'tree/a keeps a resume token');
    assert.deepEqual(st.datasets[`${prefix}/tree/a`]?.snapshots, [], 'no complete snapshot of tree/a yet');
    assert.deepEqual(st.datasets[`${prefix}/tree/a/b`], {}, 'tree/a/b never started');
    assert.deepEqual(
      st.datasets[`${prefix}/tree`]?.snapshots?.map((x) => x.snapshot),
      ['r1'],
      'tree itself came whole',
    );

    const again = await lab.sender.waitJob(await runTask());
    log(`second run: ${again.state} ${again.error?.message ?? ''}`);
    assert.equal(again.state, 'success', JSON.stringify(again.error));
    const res = again.result as { resumeTokens: boolean; children: Child[] };
    assert.equal(res.resumeTokens, true);
    assert.deepEqual(
      res.children.map((c) => [c.dataset, c.mode]),
      [
        [tree, 'none'],
        [`${tree}/a`, 'resume'],
        [`${tree}/a/b`, 'full'],
      ],
    );
    const resumed = lab.runner.calls.filter((a) => a[0] === 'zfs' && a[1] === 'send' && a[2] === '-t');
    assert.equal(resumed.length, 1, 'the sender ran zfs send -t <token> once');
    for (const rel of ['', '/a', '/a/b']) {
      assert.deepEqual(
        await snapshotGuids(lab, `${prefix}/tree${rel}`),
        await snapshotGuids(lab, `${tree}${rel}`),
      );
      assert.equal(await token(`${prefix}/tree${rel}`), '-');
      assert.equal(await sha(`${prefix}/tree${rel}`, 'x.bin'), await sha(`${tree}${rel}`, 'x.bin'));
    }
  });
});

describe('pulls resumed by token and replica drills on OpenZFS', { timeout: 1_200_000 }, () => {
  it('a pull cut mid-stream resumes from this side’s token: the guard decodes the token and checks its name', async () => {
    // the remote's dataset (under its prefix) with 6 MiB, pulled at 2 MiB/s by a key authorized with pull
    const origin = `${prefix}/origin`;
    const here = `${lab.pool}/pulled`;
    await lab.sender.call('dataset.create', { name: origin });
    writeFileSync(path.join(await mountpoint(origin), 'x.bin'), randomBytes(6 << 20));
    await lab.zfs(['snapshot', `${origin}@p1`]);
    await lab.receiver.call('remote.authorize', { name: 'sender1', publicKey, prefix, pull: true });
    await lab.sender.call('replication.task.create', {
      id: 'pull',
      remote: 'dr',
      source: origin,
      target: here,
      direction: 'pull',
      bandwidthLimit: 2 << 20,
    });
    const id = await runTask('pull');
    const victim = await findSsh(id, 1_000_000, /^zfs send -- .*origin@p1$/);
    assert.ok(victim, 'found the running ssh of the pull’s send');
    process.kill(victim, 'SIGKILL');
    const cut = await lab.sender.waitJob(id);
    log(`cut pull: ${cut.state} ${cut.error?.message ?? ''}`);
    assert.equal(cut.state, 'failed');
    assert.match(cut.error?.message ?? '', /pulled resumes from its token/);
    for (let i = 0; i < 300 && (await token(here)) === '-'; i++) await sleep(200);
    assert.match(await token(here), /^1-/, 'the cut receive here kept a resume token');

    const again = await lab.sender.waitJob(await runTask('pull'));
    log(`resumed pull: ${again.state} ${again.error?.message ?? ''}`);
    assert.equal(again.state, 'success', JSON.stringify(again.error));
    const res = again.result as { mode: string; notes: string[] };
    assert.equal(res.mode, 'resume');
    const sent = lab.runner.calls.filter((a) => a[0] === 'ssh' && /^zfs send -t 1-/.test(a.at(-1) ?? ''));
    assert.equal(sent.length, 1, 'the remote sent once by token, through its guard');
    assert.deepEqual(await snapshotGuids(lab, here), await snapshotGuids(lab, origin));
    assert.equal(await token(here), '-');
    assert.equal(await sha(here, 'x.bin'), await sha(origin, 'x.bin'));
  });
  it('replica drills on OpenZFS: the pulled filesystem, a pushed zvol (its clone’s device hashed), a receiver’s zvol that differs', async () => {
    const drill = async (task: string) =>
      lab.sender.waitJob((await lab.sender.call<{ job: string }>('replication.drill.run', { task })).job);
    const noClones = async () =>
      assert.doesNotMatch(
        (await lab.zfs(['list', '-H', '-o', 'name', '-r', lab.pool, rpool])).stdout,
        /calypso-drill-/,
      );
    // the pull above: the remote's manifest through its guard, this side's through the zfs port
    const fs = await drill('pull');
    log(`filesystem drill: ${fs.state} ${fs.error?.message ?? ''}`);
    assert.equal(fs.state, 'success', JSON.stringify(fs.error));
    const fr = fs.result as DrillReport;
    assert.equal(fr.result, 'passed');
    assert.deepEqual(
      fr.datasets.map((d) => [d.files, d.bytes]),
      [[1, 6 << 20]],
    );

    // a 4 MiB zvol of random bytes, pushed, drilled at both ends
    const vol = `${lab.pool}/vol`;
    await lab.zfs(['create', '-V', '4M', vol]);
    await waitFor(`/dev/zvol/${vol}`);
    const fill = (dev: string, data: Buffer, at = 0) => {
      const fd = openSync(dev, 'r+');
      writeSync(fd, data, 0, data.length, at);
      fsyncSync(fd);
      closeSync(fd);
    };
    fill(`/dev/zvol/${vol}`, randomBytes(4 << 20));
    await lab.zfs(['snapshot', `${vol}@v1`]);
    await lab.sender.call('replication.task.create', {
      id: 'vol',
      remote: 'dr',
      source: vol,
      target: `${prefix}/vol`,
    });
    const pushed = await lab.sender.waitJob(await runTask('vol'));
    assert.equal(pushed.state, 'success', JSON.stringify(pushed.error));
    const good = await drill('vol');
    log(`zvol drill: ${good.state} ${good.error?.message ?? ''}`);
    assert.equal(good.state, 'success', JSON.stringify(good.error));
    const gr = good.result as DrillReport;
    assert.equal(gr.result, 'passed');
    assert.equal(gr.checked, 1, 'one entry: the volume');
    assert.deepEqual(
      gr.datasets.map((d) => [d.files, d.bytes]),
      [[1, 4 << 20]],
    );
    await noClones();

    // the receiver's @v1 remade with one block changed: same name, other contents
    const theirs = `${prefix}/vol`;
    await lab.zfs(['release', 'calypso-repl:vol', `${theirs}@v1`]);
    await lab.zfs(['destroy', `${theirs}@v1`]);
    await waitFor(`/dev/zvol/${theirs}`);
    fill(`/dev/zvol/${theirs}`, randomBytes(4096), 1 << 20);
    await lab.zfs(['snapshot', `${theirs}@v1`]);
    const bad = await drill('vol');
    log(`corrupted zvol drill: ${bad.state} ${bad.error?.message ?? ''}`);
    assert.equal(bad.state, 'failed');
    assert.match(bad.error?.message ?? '', new RegExp(`${vol} \\(different\\)`));
    await noClones();
  });
});
