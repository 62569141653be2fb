/**
 * In the lab guest: NFS shares through the agent's shares subsystem on the kernel's nfsd. The agent renders its
 * exports file (here /etc/exports.d/calypso-lab.exports: the guest's /etc is a throwaway overlay) and runs
 * `exportfs -ra`; the kernel client mounts the shares back over loopback with NFS v4.2 and v3. Root's write is
 * squashed to the anonuid/anongid asked for, a read-only export refuses a write, a host that is not a client is
 * refused, and a change exportfs complains about is refused with the previous file put back. An export removed
 * from the kernel table by hand (`exportfs -u`) is drift, and shares.apply exports it again; a wildcard and a
 * netgroup client are exported as given (with CALYPSO_LAB_RECORD, `exportfs -v` is recorded as a fixture).
 *
 * The lab's / is overlayfs, which nfsd cannot export, so NFSv4's pseudo root cannot be made from / as on an
 * appliance: the shares area is a tmpfs exported read-only with fsid=0 (the v4 root, by the lab in /etc/exports,
 * not the agent), and each share is its own ext4 (a loop device) mounted in it, as a dataset is on the appliance.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Share, SharesState } from '../../../agent/shares/model.js';
import { parseExportfsV } from '../../../agent/shares/parse-exportfs.js';
import { renderExports } from '../../../agent/shares/render-nfs.js';
import { sharesSubsystem } from '../../../agent/shares/service.js';
import { startTestAgent, type TestAgent } from '../../helpers/agent.js';
import { assertInGuest, labLib, ok, sh } from './sh.js';

const EXPORTS = '/etc/exports.d/calypso-lab.exports';
const ANON = { uid: 4242, gid: 4343 };
const SHARES = ['rw', 'ro', 'deny'];

/** With CALYPSO_LAB_RECORD (scripts/lab/record-fixtures.sh nfs): where recorded outputs go, test/fixtures/'s layout. */
const RECORD = process.env.CALYPSO_LAB_RECORD;
const FIXTURE = 'exportfs/lab-debian12';

async function record(name: string, text: string) {
  if (!RECORD) return;
  const dir = path.join(RECORD, FIXTURE);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, name), text);
  const versions = [await ok(['uname', '-r']), await ok(['dpkg-query', '-W', 'nfs-kernel-server'])];
  writeFileSync(
    path.join(dir, 'RECORDED.txt'),
    `recorded in the kernel lab by test/lab/guest/shares-nfs.ts, ${new Date().toISOString()}\nkernel ${versions.join('')}`,
  );
}

let t: TestAgent;
let root: string;
const mounts: string[] = [];
const clientMounts: string[] = [];

/** Mount a share with the kernel client; `vers` 4.2 (path under the v4 root) or 3 (the full path). */
async function mountShare(name: string, vers: '4.2' | '3') {
  const at = `/mnt/nfs-${name}-v${vers}`;
  mkdirSync(at, { recursive: true });
  const r =
    vers === '3'
      ? await sh(
          ['mount', '-t', 'nfs', '-o', 'vers=3,nolock,retry=0', `127.0.0.1:${root}/${name}`, at],
          90_000,
        )
      : await sh(['mount', '-t', 'nfs4', '-o', 'vers=4.2,retry=0', `127.0.0.1:/${name}`, at], 90_000);
  if (r.code === 0) clientMounts.push(at);
  return { at, ...r };
}

async function umountClients() {
  while (clientMounts.length) await sh(['umount', '-f', clientMounts.pop()!]);
}

/** node's write error code through a mount (EROFS, EACCES, …), or 'ok'. */
function tryWrite(file: string): string {
  try {
    writeFileSync(file, 'x\n');
    return 'ok';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

const state = async (): Promise<SharesState> => {
  const items = (
    await t.call<{ items: (Share & { exists?: boolean; previousVersionsAvailable?: boolean })[] }>(
      'shares.list',
    )
  ).items;
  return { shares: items.map(({ exists: _e, previousVersionsAvailable: _p, ...s }) => s) };
};

before(async () => {
  assertInGuest();
  t = await startTestAgent({ config: { shares: { exportsFile: EXPORTS } }, services: [sharesSubsystem] });
  root = path.join(t.prefix, 'srv/calypso/shares');
  mkdirSync(root, { recursive: true });
  await ok(['mount', '-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', root]);
  mounts.push(root);
  await ok(['modprobe', 'loop']);
  for (const name of SHARES) {
    const img = path.join(t.prefix, `${name}.img`);
    await ok(['truncate', '-s', '32M', img]);
    await ok(['mkfs.ext4', '-q', img]);
    mkdirSync(path.join(root, name));
    await ok(['mount', '-o', 'loop', img, path.join(root, name)]);
    mounts.push(path.join(root, name));
  }
  // squashed root writes as the anonuid: the directory lets anyone write, as an admin would set it
  await ok(['chmod', '1777', path.join(root, 'rw')]);
  writeFileSync(path.join(root, 'deny', 'marker'), 'only for 10.9.9.9\n');
  writeFileSync('/etc/exports', `${root} 127.0.0.1(ro,fsid=0,no_subtree_check,sync)\n`);
  await labLib('lab_nfsd');
});

after(async () => {
  await umountClients();
  await sh(['exportfs', '-ua']);
  await sh(['rpc.nfsd', '0']);
  while (mounts.length) await sh(['umount', mounts.pop()!]);
  await t?.stop();
});

describe('NFS shares through the agent on the kernel nfsd', () => {
  it('shares.create: the dry run plans what the real run does; exportfs exports what was rendered', async () => {
    const specs = {
      rw: {
        protocols: ['nfs'],
        nfsClients: [
          { host: '127.0.0.1', squash: 'root', anonuid: ANON.uid, anongid: ANON.gid, sec: ['sys'] },
        ],
      },
      ro: {
        protocols: ['nfs'],
        readOnly: true,
        nfsClients: [{ host: '127.0.0.1', squash: 'none', sync: false }],
      },
      deny: { protocols: ['nfs'], nfsClients: [{ host: '10.9.9.9', squash: 'all' }] },
    };
    for (const [name, spec] of Object.entries(specs)) {
      const plan = await t.call<{ commands: string[][]; files: { path: string; diff: string }[] }>(
        'shares.create',
        { name, ...spec, dryRun: true },
      );
      assert.equal(existsSync(EXPORTS) && readFileSync(EXPORTS, 'utf8').includes(`${root}/${name} `), false);
      const real = await t.call<{ commands: string[][]; changed: string[] }>('shares.create', {
        name,
        ...spec,
      });
      assert.deepEqual(real.commands, plan.commands, `${name}: dry run = real run`);
      assert.ok(
        real.commands.some((c) => c.join(' ') === 'exportfs -ra'),
        JSON.stringify(real.commands),
      );
      assert.ok(real.changed.includes(EXPORTS));
      assert.ok(plan.files.some((f) => f.path === EXPORTS && f.diff.includes(`+${root}/${name} `)));
    }
    assert.equal(readFileSync(EXPORTS, 'utf8'), renderExports(await state()));
    const v = await ok(['exportfs', '-v']);
    const line = (p: string) =>
      v
        .replace(/\n\s+/g, ' ')
        .split('\n')
        .find((l) => l.startsWith(`${p} `)) ?? '';
    assert.match(
      line(`${root}/rw`),
      /127\.0\.0\.1\(.*sync.*anonuid=4242,anongid=4343,sec=sys,rw,.*[(,]root_squash[,)]/,
    );
    assert.match(line(`${root}/ro`), /127\.0\.0\.1\(.*async.*[(,]ro,.*no_root_squash/);
    assert.match(line(`${root}/deny`), /10\.9\.9\.9\(.*[(,]all_squash[,)]/);
  });

  it('an export removed from the kernel table with exportfs -u is drift; shares.apply exports it again', async () => {
    // clients by name: a wildcard and a netgroup, exported as given (exportfs resolves neither)
    await t.call('shares.create', {
      name: 'names',
      protocols: ['nfs'],
      nfsClients: [{ host: '*.calypso.invalid' }, { host: '@calypsolab', readOnly: true }],
    });
    const raw = await ok(['exportfs', '-v']);
    await record('exportfs-v.txt', raw);
    const table = parseExportfsV(raw);
    // every export of the file is in the table, read-only or not as rendered
    for (const s of (await state()).shares)
      for (const c of s.nfsClients) {
        const e = table.find((x) => x.path === s.path && x.client === c.host);
        assert.ok(e, `${s.path} ${c.host} in exportfs -v:\n${raw}`);
        assert.ok(e.options.includes(s.readOnly || c.readOnly ? 'ro' : 'rw'), JSON.stringify(e));
      }
    const inSync = await t.call<{ inSync: boolean; items: unknown[] }>('shares.drift');
    assert.equal(inSync.inSync, true, JSON.stringify(inSync.items));
    await ok(['exportfs', '-u', `127.0.0.1:${root}/rw`]);
    assert.equal(
      parseExportfsV(await ok(['exportfs', '-v'])).some((e) => e.path === `${root}/rw`),
      false,
      'exportfs -u took it out of the table',
    );
    const d = await t.call<{ inSync: boolean; items: { kind: string; what: string; detail: string }[] }>(
      'shares.drift',
    );
    assert.equal(d.inSync, false);
    assert.deepEqual(
      d.items.map((i) => [i.kind, i.what]),
      [['export', `${root}/rw 127.0.0.1`]],
    );
    assert.match(d.items[0]!.detail, /share rw: in the exports file, not in the kernel's export table/);
    const plan = await t.call<{ commands: string[][] }>('shares.apply', { dryRun: true });
    const real = await t.call<{ commands: string[][] }>('shares.apply');
    for (const r of [plan, real])
      assert.ok(
        r.commands.some((c) => c.join(' ') === 'exportfs -ra'),
        JSON.stringify(r.commands),
      );
    const back = parseExportfsV(await ok(['exportfs', '-v'])).find((e) => e.path === `${root}/rw`);
    assert.ok(back?.options.includes('anonuid=4242'), JSON.stringify(back));
    assert.equal((await t.call<{ inSync: boolean }>('shares.drift')).inSync, true);
    await t.call('shares.delete', { name: 'names' });
  });

  for (const vers of ['4.2', '3'] as const) {
    it(`NFS v${vers}: root's write is squashed to anonuid ${ANON.uid}, gid ${ANON.gid}`, async () => {
      const m = await mountShare('rw', vers);
      assert.equal(m.code, 0, m.stderr);
      const line = readFileSync('/proc/mounts', 'utf8')
        .split('\n')
        .find((l) => l.includes(` ${m.at} `));
      assert.match(line ?? '', vers === '3' ? /\snfs\s.*vers=3/ : /\snfs4\s.*vers=4\.2/);
      const name = `from-root-v${vers}`;
      writeFileSync(path.join(m.at, name), 'written as root\n');
      await ok(['sync']);
      const st = statSync(path.join(root, 'rw', name));
      assert.deepEqual({ uid: st.uid, gid: st.gid }, ANON, 'owned by the anon ids on the server');
      assert.equal(readFileSync(path.join(root, 'rw', name), 'utf8'), 'written as root\n');
      await umountClients();
    });

    it(`NFS v${vers}: a read-only export refuses a write`, async () => {
      const m = await mountShare('ro', vers);
      assert.equal(m.code, 0, m.stderr);
      assert.match(tryWrite(path.join(m.at, `nope-v${vers}`)), /^(EROFS|EACCES|EPERM)$/);
      assert.equal(existsSync(path.join(root, 'ro', `nope-v${vers}`)), false);
      await umountClients();
    });
  }

  it('a host that is not a client of the share is refused (v3: the mount; v4.2: nothing of the share is seen)', async () => {
    const v3 = await mountShare('deny', '3');
    assert.notEqual(v3.code, 0, 'the v3 mount is refused');
    assert.match(v3.stderr, /access denied/);
    // NFSv4 walks from the v4 root: without an export for this client nfsd does not cross into the share's file
    // system, so the client sees the v4 root's own (read-only, empty) directory, never the share
    const v4 = await mountShare('deny', '4.2');
    if (v4.code === 0) {
      assert.equal(existsSync(path.join(v4.at, 'marker')), false, 'the share’s file is not visible');
      assert.notEqual(tryWrite(path.join(v4.at, 'intruder')), 'ok');
    } else assert.match(v4.stderr, /access denied|No such file/);
    assert.equal(existsSync(path.join(root, 'deny', 'intruder')), false);
    await umountClients();
  });

  it('a change exportfs complains about is refused; the previous file is put back and exported again', async () => {
    await t.call('shares.create', { name: 'gone', protocols: ['nfs'], nfsClients: [{ host: '127.0.0.1' }] });
    const before = readFileSync(EXPORTS, 'utf8');
    await ok(['rmdir', path.join(root, 'gone')]);
    await assert.rejects(
      t.call('shares.update', { name: 'gone', set: { readOnly: true } }),
      (e: Error & { kind?: string }) => e.kind === 'invalid' && /exportfs refuses.*gone/.test(e.message),
    );
    assert.equal(readFileSync(EXPORTS, 'utf8'), before, 'the previous exports file is back');
    assert.equal((await t.call<{ readOnly: boolean }>('shares.get', { name: 'gone' })).readOnly, false);
    await t.call('shares.delete', { name: 'gone' });
    await t.call('shares.delete', { name: 'deny' });
    const v = await ok(['exportfs', '-v']);
    assert.doesNotMatch(v, new RegExp(`${root}/(gone|deny)\\s`), 'deleted shares are no longer exported');
    assert.match(v, new RegExp(`${root}/rw\\s`));
  });
});
