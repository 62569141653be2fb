/**
 * A share's dataset on a real ZFS (zfs-fuse): made through the zfs port before the share
 * exists, under <pool>/calypso/shares/<name> and mounted at the share's directory, with the
 * properties zfs-fuse has (aclinherit, casesensitivity) and notes naming what it lacks
 * (acltype, xattr=sa); the dry run lists the very `zfs create` the real run runs; a destroy of
 * the dataset (or of a parent, recursively) is refused as `conflict` naming the share; and
 * Previous Versions: the snapshots of the share's dataset are visible where shadow_copy2 looks.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { sleep } from '../../agent/util/time.js';
import type { TestAgent } from '../helpers/agent.js';
import { destroyPools, poolName, useZfsFuse } from '../zfs/helpers.js';
import { startDatasetAgent } from './dataset-agent.js';
import { freePort, nssFiles, type SmbAccounts, type Smbd, startSmbd } from './smb-lab.js';

const run = promisify(execFile);

interface Plan {
  commands: string[][];
  notes: string[];
}

describe('share datasets on zfs-fuse', { timeout: 240_000 }, () => {
  let fuse: Awaited<ReturnType<typeof useZfsFuse>> | undefined;
  let t: TestAgent | undefined;
  let acc: SmbAccounts | undefined;
  let smbd: Smbd | undefined;
  let smbPort = 0;
  const pool = poolName('sh');

  before(async () => {
    fuse = await useZfsFuse();
    acc = nssFiles();
    smbPort = await freePort();
    t = await startDatasetAgent(pool, smbPort, acc);
  });

  after(async () => {
    await smbd?.stop();
    await destroyPools([pool]);
    await t?.stop();
    acc?.cleanup();
    await fuse?.release();
  });

  it('the dataset is made before the share, with what zfs-fuse supports; dry run = real run', async () => {
    const dir = path.join(t!.prefix, 'srv/calypso/shares/data');
    const dataset = `${pool}/calypso/shares/data`;
    const dry = await t!.call<Plan>('shares.create', { name: 'data', dryRun: true });
    assert.deepEqual(dry.commands[0], [
      'zfs',
      'create',
      '-p',
      '-o',
      'aclinherit=passthrough',
      '-o',
      'casesensitivity=insensitive',
      '-o',
      `mountpoint=${dir}`,
      '--',
      dataset,
    ]);
    assert.ok(
      dry.notes.some((n) =>
        /acltype=posixacl .*need OpenZFS with acltype=posixacl.*not set, this ZFS lacks it/.test(n),
      ),
      dry.notes.join('\n'),
    );
    const real = await t!.call<Plan>('shares.create', { name: 'data' });
    assert.deepEqual(real.commands, dry.commands);
    const ds = await t!.call<{ mountpoint: string; properties: Record<string, { value: string }> }>(
      'dataset.get',
      {
        name: dataset,
      },
    );
    assert.equal(ds.mountpoint, dir);
    assert.ok(existsSync(dir), 'mounted at the share directory');
    const share = await t!.call<{ dataset: string; exists: boolean }>('shares.get', { name: 'data' });
    assert.equal(share.dataset, dataset);
    assert.equal(share.exists, true);
    // a share with NFS keeps case-sensitive names (NFS clients are POSIX): planned only, exportfs is not here
    const nfs = await t!.call<Plan>('shares.create', {
      name: 'mixed',
      protocols: ['smb', 'nfs'],
      nfsClients: [{ host: '*' }],
      dryRun: true,
    });
    assert.ok(nfs.commands[0]!.includes('casesensitivity=sensitive'), nfs.commands[0]!.join(' '));
  });

  it('a destroy of a dataset a share uses is refused (conflict), recursive ones too', async () => {
    for (const p of [
      { name: `${pool}/calypso/shares/data` },
      { name: `${pool}/calypso`, recursive: true, confirm: `${pool}/calypso` },
    ])
      await assert.rejects(
        t!.call('dataset.destroy', p),
        (e: Error & { kind?: string }) => e.kind === 'conflict' && /share data/.test(e.message),
      );
    await t!.call('shares.delete', { name: 'data' });
    // Once the share is gone the destroy goes through. zfs-fuse can answer "dataset is busy" for
    // a moment while it unmounts (seen once in a CI run with other files beside this one; the
    // pool cleanup in test/zfs/helpers.ts retries for the same reason): a few tries, then fail.
    for (let i = 0; ; i++) {
      try {
        await t!.call('dataset.destroy', { name: `${pool}/calypso/shares/data` });
        break;
      } catch (err) {
        if (i === 4 || !/dataset is busy/.test((err as Error).message)) throw err;
        await sleep(500 * (i + 1));
      }
    }
  });

  it('Previous Versions: shown only where .zfs/snapshot exists (zfs-fuse has none: reported, not pretended)', async () => {
    await t!.call('shares.create', { name: 'pv', previousVersions: true });
    const dir = path.join(t!.prefix, 'srv/calypso/shares/pv');
    await t!.call('snapshot.create', { dataset: `${pool}/calypso/shares/pv`, name: 'auto-20261206-1200' });
    const snaps = path.join(dir, '.zfs', 'snapshot');
    const view = await t!.call<{ previousVersionsAvailable: boolean }>('shares.get', { name: 'pv' });
    assert.equal(view.previousVersionsAvailable, existsSync(snaps));
    // zfs-fuse 0.7 has no .zfs control directory; OpenZFS has one on every filesystem
    assert.equal(view.previousVersionsAvailable, false, 'zfs-fuse: no .zfs/snapshot');
    const st = await t!.call<{ notes?: string[] }>('shares.update', {
      name: 'pv',
      set: { previousVersions: true },
      dryRun: true,
    });
    assert.ok(
      st.notes?.some((n) => /no \.zfs\/snapshot/.test(n)),
      JSON.stringify(st),
    );
  });

  it('quota: the dataset’s refquota through the zfs port; a write past it through smbclient is disk full; null clears it', async () => {
    const dataset = `${pool}/calypso/shares/q`;
    const dir = path.join(t!.prefix, 'srv/calypso/shares/q');
    const set20 = ['zfs', 'set', 'refquota=20M', dataset];
    const dry = await t!.call<Plan>('shares.create', { name: 'q', quota: '20M', dryRun: true });
    assert.deepEqual(dry.commands[1], set20, dry.commands.map((c) => c.join(' ')).join('\n'));
    const real = await t!.call<Plan>('shares.create', { name: 'q', quota: '20M' });
    assert.deepEqual(real.commands, dry.commands);
    const refquota = async () =>
      (await t!.call<{ properties: Record<string, { value: string }> }>('dataset.get', { name: dataset }))
        .properties.refquota?.value;
    assert.equal(await refquota(), String(20 * 1024 * 1024));
    const view = await t!.call<{ quota: string; used: number; available: number }>('shares.get', {
      name: 'q',
    });
    assert.equal(view.quota, '20M');
    assert.ok(view.available <= 20 * 1024 * 1024 && view.used >= 0, JSON.stringify(view));
    const listed = await t!.call<{ items: { name: string; available?: number }[] }>('shares.list');
    assert.equal(listed.items.find((s) => s.name === 'q')?.available, view.available);
    // a quota needs a dataset: bad sizes are refused before anything runs
    await assert.rejects(
      t!.call('shares.update', { name: 'q', set: { quota: '20 megabytes' } }),
      (e: Error & { kind?: string }) => e.kind === 'invalid',
    );

    // a real smbd on the share, a user owning its directory, a 30 MiB file put through smbclient
    await t!.call('shares.user.create', { name: 'dave', password: 'Dave-pw-3456' });
    const uid = Number(/^dave:x:(\d+):/m.exec(readFileSync(acc!.passwd, 'utf8'))![1]);
    chownSync(dir, uid, 0);
    chmodSync(t!.prefix, 0o755);
    const conf = (await t!.call<{ smbConf: string }>('shares.status')).smbConf;
    smbd = await startSmbd(conf, smbPort, acc!);
    const big = path.join(acc!.dir, 'big.bin');
    writeFileSync(big, randomBytes(30 * 1024 * 1024));
    const dave = { name: 'dave', password: 'Dave-pw-3456' };
    const full = await smbd.client('q', dave, `put ${big} big.bin`, 120_000);
    assert.equal(full.ok, false, full.out);
    assert.match(full.out, /NT_STATUS_DISK_FULL/, full.out);

    // null: no quota any more, the same file goes in
    const clear = await t!.call<Plan>('shares.update', { name: 'q', set: { quota: null } });
    assert.deepEqual(clear.commands[0], ['zfs', 'set', 'refquota=none', dataset]);
    assert.ok(['0', 'none'].includes(String(await refquota())), String(await refquota()));
    assert.equal((await t!.call<{ quota?: string }>('shares.get', { name: 'q' })).quota, undefined);
    await smbd.client('q', dave, 'del big.bin');
    const ok = await smbd.client('q', dave, `put ${big} big.bin`, 120_000);
    assert.equal(ok.ok, true, ok.out);
    await t!.deps.audit.flushed();
    const audited = JSON.stringify(t!.deps.audit.query({ method: 'shares.update', limit: 10 }).items);
    assert.match(audited, /"quota":null/);
  });
  it('a refquota changed by hand is drift (kind quota, want and have); shares.apply sets it back, its dry run listing what it runs', async () => {
    const dataset = `${pool}/calypso/shares/q`;
    await t!.call('shares.update', { name: 'q', set: { quota: '40M' } });
    const quotaItems = async () =>
      (
        await t!.call<{
          inSync: boolean;
          items: { kind: string; what: string; want?: string; have?: string }[];
        }>('shares.drift')
      ).items.filter((i) => i.kind === 'quota');
    assert.deepEqual(await quotaItems(), []);
    // by hand, as an administrator at the shell would
    await run('zfs', ['set', 'refquota=60M', dataset]);
    const [item, ...more] = await quotaItems();
    assert.deepEqual(more, []);
    assert.deepEqual(
      [item?.what, item?.want, item?.have],
      [dataset, '40M', String(60 * 1024 * 1024)],
      JSON.stringify(item),
    );
    const fix = ['zfs', 'set', 'refquota=40M', dataset];
    const dry = await t!.call<Plan>('shares.apply', { dryRun: true });
    assert.deepEqual(dry.commands[0], fix, dry.commands.map((c) => c.join(' ')).join('\n'));
    assert.equal((await quotaItems()).length, 1, 'a dry run changes nothing');
    const real = await t!.call<Plan>('shares.apply');
    assert.deepEqual(real.commands, dry.commands);
    assert.deepEqual(await quotaItems(), []);
    const refquota = (
      await t!.call<{ properties: Record<string, { value: string }> }>('dataset.get', { name: dataset })
    ).properties.refquota?.value;
    assert.equal(refquota, String(40 * 1024 * 1024));
    // and with nothing drifted, apply sets no quota
    assert.ok(!(await t!.call<Plan>('shares.apply', { dryRun: true })).commands.some((c) => c[0] === 'zfs'));
  });
});
