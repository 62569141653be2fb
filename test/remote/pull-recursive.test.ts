/**
 * Pull tasks and recursive tasks through a real sshd and the guard on zfs-fuse: a key authorized
 * without `pull` cannot send; an initial and an incremental pull (the remote sends, this side
 * receives); a recursive push sending each dataset on its own with a hold on every dataset's
 * common snapshot on both sides; the ssh killed mid-stream of one child: the finished children
 * stay, the cut one restarts from its last common snapshot (zfs-fuse keeps no tokens) and the
 * answers say so per dataset.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobRecord } from '../../agent/jobs.js';
import type { EndState } from '../../agent/remote/state.js';
import { zfsImpl } from '../zfs/helpers.js';
import { pairDr, type ReplLab, run, snapshotGuids, startReplLab } from './lab.js';

interface Child {
  dataset: string;
  target: string;
  mode: string;
  from?: string;
  bytes: number;
}
interface RunAnswer {
  mode: string;
  direction: string;
  from?: string;
  snapshot: string;
  children: Child[];
}
const OPENZFS = zfsImpl() === 'openzfs';

describe(`pull and recursive replication on ${zfsImpl()}`, { timeout: 600_000 }, () => {
  let lab: ReplLab;
  let prefix: string;
  let publicKey: string;
  const guids = (ds: string) => snapshotGuids(lab, ds);
  const holds = async (snap: string) =>
    Number((await lab.zfs(['get', '-H', '-o', 'value', 'userrefs', '--', snap])).stdout.trim());
  const write = async (ds: string, name: string, bytes: number) => {
    const mnt = (await lab.zfs(['list', '-H', '-o', 'mountpoint', '--', ds])).stdout.trim();
    writeFileSync(path.join(mnt, name), randomBytes(bytes));
  };
  const runTask = async (id: string) => {
    const { job } = await lab.sender.call<{ job: string }>('replication.task.run', { id });
    return job;
  };

  before(async () => {
    lab = await startReplLab('rp');
    prefix = `${lab.pool}/backup`;
    await lab.sender.call('dataset.create', { name: prefix });
    publicKey = await pairDr(lab, prefix, []);
  });
  after(async () => {
    await lab?.stop();
  });

  it('pull: refused by a key authorized without pull, then an initial and an incremental pull', async () => {
    const origin = `${prefix}/origin`;
    const here = `${lab.pool}/pulled`;
    await lab.sender.call('dataset.create', { name: origin });
    await write(origin, 'a.bin', 256 * 1024);
    await lab.zfs(['snapshot', `${origin}@p1`]);
    await assert.rejects(
      lab.sender.call('replication.task.create', {
        id: 'p',
        remote: 'dr',
        source: `${lab.pool}/x`,
        target: here,
        direction: 'pull',
      }),
      /the source must be below/,
    );
    await lab.sender.call('replication.task.create', {
      id: 'p',
      remote: 'dr',
      source: origin,
      target: here,
      direction: 'pull',
    });
    const refused = await lab.sender.waitJob(await runTask('p'));
    assert.equal(refused.state, 'failed');
    assert.match(refused.error?.message ?? '', /not authorized to be pulled from/);
    await lab.receiver.call('remote.authorize', { name: 'sender1', publicKey, prefix, pull: true });
    if (!OPENZFS) {
      // zfs-fuse keeps no tokens: the guard does not offer to send by token, and refuses one in words
      const st = await run(lab.ssh('dr', ['calypso', 'state', '--', origin]));
      assert.equal(st.code, 0, st.stderr);
      assert.equal((JSON.parse(st.stdout) as EndState).sendsByToken, undefined);
      const byToken = await run(lab.ssh('dr', ['zfs', 'send', '-t', '1-abc-de-789c']));
      assert.equal(byToken.code, 126);
      assert.match(byToken.stderr, /calypso: refused: .*this ZFS cannot send by resume token/);
    }
    const dry = await lab.sender.call<{ commands: string[][] }>('replication.task.run', {
      id: 'p',
      dryRun: true,
    });
    assert.equal(dry.commands[0]![0], 'ssh');
    assert.equal(dry.commands[0]!.at(-1), `zfs send -- ${origin}@p1`);
    assert.deepEqual(dry.commands[1], ['zfs', 'receive', '--', here]);
    const full = await lab.sender.waitJob(await runTask('p'));
    assert.equal(full.state, 'success', JSON.stringify(full.error));
    assert.equal((full.result as RunAnswer).mode, 'full');
    assert.equal((full.result as RunAnswer).direction, 'pull');
    assert.deepEqual(await guids(here), await guids(origin));
    await write(origin, 'b.bin', 256 * 1024);
    await lab.zfs(['snapshot', `${origin}@p2`]);
    const inc = await lab.sender.waitJob(await runTask('p'));
    assert.equal(inc.state, 'success', JSON.stringify(inc.error));
    const res = inc.result as RunAnswer;
    assert.equal(res.mode, 'incremental');
    assert.equal(res.from, 'p1');
    assert.deepEqual(await guids(here), await guids(origin));
    assert.equal(await holds(`${origin}@p2`), 1);
    assert.equal(await holds(`${here}@p2`), 1);
    assert.equal(await holds(`${here}@p1`), 0);
    await lab.sender.call('replication.task.delete', { id: 'p' });
    assert.equal(await holds(`${origin}@p2`), 0);
  });

  it('recursive push: each dataset sent on its own, a hold on every dataset’s common snapshot on both sides', async () => {
    const tree = `${lab.pool}/tree`;
    for (const ds of [tree, `${tree}/a`, `${tree}/a/b`]) {
      await lab.sender.call('dataset.create', { name: ds });
      await write(ds, 'x.bin', 64 * 1024);
    }
    await lab.zfs(['snapshot', '-r', `${tree}@r1`]);
    await lab.sender.call('replication.task.create', {
      id: 'rec',
      remote: 'dr',
      source: tree,
      target: `${prefix}/tree`,
      recursive: true,
      bandwidthLimit: 2 * 1024 * 1024,
    });
    const job = await lab.sender.waitJob(await runTask('rec'));
    assert.equal(job.state, 'success', JSON.stringify(job.error));
    const res = job.result as RunAnswer;
    assert.deepEqual(
      res.children.map((c) => [c.dataset, c.target, c.mode]),
      ['', '/a', '/a/b'].map((rel) => [`${tree}${rel}`, `${prefix}/tree${rel}`, 'full']),
    );
    for (const rel of ['', '/a', '/a/b']) {
      assert.deepEqual(await guids(`${prefix}/tree${rel}`), await guids(`${tree}${rel}`));
      assert.equal(await holds(`${tree}${rel}@r1`), 1);
      assert.equal(await holds(`${prefix}/tree${rel}@r1`), 1);
    }
  });

  it('the ssh killed mid-stream of one child: the others stay done, the cut one restarts from its last common snapshot', {
    timeout: 150_000,
  }, async () => {
    const tree = `${lab.pool}/tree`;
    await write(`${tree}/a/b`, 'big.bin', 12 * 1024 * 1024);
    await lab.zfs(['snapshot', '-r', `${tree}@r2`]);
    const id = await runTask('rec');
    const known = path.join(lab.sender.deps.layout.stateDir, 'remote', 'dr', 'known_hosts');
    let victim: number | undefined;
    for (let i = 0; i < 600 && !victim; i++) {
      await sleep(100);
      const rec = await lab.sender.call<JobRecord>('job.get', { id });
      if (rec.state !== 'running') break;
      if (!/^([3-9]|\d\d+)\d{6}/.test(rec.progress.description ?? '')) continue;
      for (const e of readdirSync('/proc').filter((f) => /^\d+$/.test(f))) {
        try {
          const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
          if (
            cmd.includes(`UserKnownHostsFile=${known}`) &&
            /zfs receive .*tree\/a\/b/.test(cmd.at(-2) ?? '')
          )
            victim = Number(e);
        } catch {
          /* gone */
        }
      }
    }
    assert.ok(victim, 'found the running ssh of tree/a/b');
    process.kill(victim, 'SIGKILL');
    const cut = await lab.sender.waitJob(id);
    assert.equal(cut.state, 'failed');
    const msg = cut.error?.message ?? '';
    if (OPENZFS) assert.match(msg, /tree\/a\/b resumes from its token/);
    else {
      assert.match(msg, /the next run: [^;]*tree\/a\/b restarts from @r1/);
      assert.doesNotMatch(msg, /tree\/a restarts/);
      // the finished children have r2; the cut one is intact at r1
      assert.deepEqual(await guids(`${prefix}/tree/a`), await guids(`${tree}/a`));
      assert.deepEqual(await guids(`${prefix}/tree/a/b`), (await guids(`${tree}/a/b`)).slice(0, 1));
    }
    const again = await lab.sender.waitJob(await runTask('rec'));
    assert.equal(again.state, 'success', JSON.stringify(again.error));
    const res = again.result as RunAnswer;
    const b = res.children.find((c) => c.dataset === `${tree}/a/b`)!;
    assert.equal(b.mode, OPENZFS ? 'resume' : 'incremental');
    if (!OPENZFS) {
      assert.equal(b.from, 'r1');
      assert.deepEqual(
        res.children.filter((c) => c !== b).map((c) => c.mode),
        ['none', 'none'],
      );
    }
    for (const rel of ['', '/a', '/a/b']) {
      assert.deepEqual(await guids(`${prefix}/tree${rel}`), await guids(`${tree}${rel}`));
      assert.equal(await holds(`${prefix}/tree${rel}@r2`), 1);
      assert.equal(await holds(`${prefix}/tree${rel}@r1`), 0);
    }
    await lab.sender.call('replication.task.delete', { id: 'rec' });
    for (const rel of ['', '/a', '/a/b']) assert.equal(await holds(`${tree}${rel}@r2`), 0);
  });
});
