/**
 * The LIO backend's pure parts: the desired configfs tree, the planner's ops (from nothing, in
 * sync, after changes by hand, storage objects made again), refusals, redaction, and the reader
 * on configfs trees recorded in the lab guest (test/fixtures/lio-configfs/*.json, written by
 * lio-guest.ts: attribute files with the kernel's text, directories, links as the kernel shows
 * them), materialised here as plain files, directories and symlinks.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { computeDrift } from '../../agent/iscsi/backend.js';
import { LIO_ROOT, lioLive, readLioTree } from '../../agent/iscsi/lio-configfs.js';
import { planLio, shownOp } from '../../agent/iscsi/lio-plan.js';
import { desiredLioTree, type LioTree, redactLioJson, renderLioJson } from '../../agent/iscsi/lio-tree.js';
import { chapSecretKey, type IscsiState, type Lun } from '../../agent/iscsi/model.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const FIX = path.join(repoRoot(), 'test/fixtures/lio-configfs');
const DATA = '/tmp/calypso-lio/srv/calypso/iscsi';
const backingPath = (l: Lun) =>
  l.backing.kind === 'zvol' ? path.join('/dev/zvol', l.backing.dataset) : path.join(DATA, l.backing.name);
/** the secrets lio-guest.ts sets */
const SECRETS: Record<string, string> = {
  [chapSecretKey(1)]: 'Right-secret.12',
  [chapSecretKey(1, true)]: 'Mutual-secret14',
};
const build = { backingPath, secret: (k: string) => SECRETS[k] };
const EMPTY: LioTree = { fabric: false, hbas: [], devices: [], targets: [] };

const IQN = 'iqn.2026-12.org.calypso.lab:lio-e2e';
const INI_A = 'iqn.2026-12.org.calypso.lab:host-a';
const lun = (n: number, backing: Lun['backing'], extra: Partial<Lun> = {}): Lun => ({
  lun: n,
  backing,
  blockSize: 512,
  readonly: false,
  cache: 'write-through',
  serial: `00000000000000a${n}`,
  naa: `6001405${String(n).repeat(25)}`,
  ...extra,
});

function state(over: Partial<IscsiState['targets'][number]> = {}): IscsiState {
  return {
    targets: [
      {
        tid: 1,
        iqn: IQN,
        portals: [{ address: '127.0.0.1', port: 3260 }],
        luns: [
          lun(
            0,
            { kind: 'file', name: 'lun0.img', sizeBytes: 16777216 },
            { blockSize: 4096, cache: 'write-back' },
          ),
          lun(1, { kind: 'zvol', dataset: 'tank/vol' }, { readonly: true }),
        ],
        groups: [
          {
            name: 'hosts',
            initiators: [INI_A],
            luns: [
              { lun: 0, target: 0 },
              { lun: 1, target: 1 },
            ],
          },
        ],
        chap: { user: 'e2euser', mutualUser: 'e2etarget' },
        enabled: true,
        ...over,
      },
    ],
  };
}

const cleanups: (() => void)[] = [];
after(() => {
  for (const c of cleanups) c();
});

type Fixture = { state: IscsiState; tree: Record<string, string | { link: string } | { dir: true }> };

/** A recorded tree as files, directories and links under a temporary sysroot. */
function materialise(name: string): { sysroot: string; fixture: Fixture } {
  const fixture = JSON.parse(readFileSync(path.join(FIX, `${name}.json`), 'utf8')) as Fixture;
  const t = tempDir('calypso-lio-');
  cleanups.push(t.cleanup);
  const root = path.join(t.dir, LIO_ROOT);
  mkdirSync(path.join(root, 'core'), { recursive: true });
  for (const [rel, v] of Object.entries(fixture.tree).sort(([a], [b]) => a.localeCompare(b))) {
    const p = path.join(root, rel);
    if (typeof v === 'string') {
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, v);
    } else if ('dir' in v) mkdirSync(p, { recursive: true });
    else {
      mkdirSync(path.dirname(p), { recursive: true });
      symlinkSync(v.link, p);
    }
  }
  return { sysroot: t.dir, fixture };
}

describe('the desired configfs tree and the ops from nothing', () => {
  it('storage objects first, then the target; passwords written to files, shown redacted', () => {
    const ops = planLio(desiredLioTree(state(), build), EMPTY).map(shownOp);
    const T = `iscsi/${IQN}/tpgt_1`;
    const A = `${T}/acls/${INI_A}`;
    assert.deepEqual(ops, [
      ['configfs', 'mkdir', 'core/fileio_0'],
      ['configfs', 'mkdir', 'core/iblock_0'],
      ['configfs', 'mkdir', 'core/fileio_0/t1l0'],
      [
        'configfs',
        'write',
        'core/fileio_0/t1l0/control',
        `fd_dev_name=${DATA}/lun0.img,fd_dev_size=16777216,fd_buffered_io=1`,
      ],
      ['configfs', 'write', 'core/fileio_0/t1l0/udev_path', `${DATA}/lun0.img`],
      ['configfs', 'write', 'core/fileio_0/t1l0/enable', '1'],
      ['configfs', 'write', 'core/fileio_0/t1l0/attrib/block_size', '4096'],
      ['configfs', 'write', 'core/fileio_0/t1l0/wwn/vpd_unit_serial', '00000000000000a0'],
      ['configfs', 'mkdir', 'core/iblock_0/t1l1'],
      ['configfs', 'write', 'core/iblock_0/t1l1/control', 'udev_path=/dev/zvol/tank/vol,readonly=1'],
      ['configfs', 'write', 'core/iblock_0/t1l1/udev_path', '/dev/zvol/tank/vol'],
      ['configfs', 'write', 'core/iblock_0/t1l1/enable', '1'],
      ['configfs', 'write', 'core/iblock_0/t1l1/attrib/block_size', '512'],
      ['configfs', 'write', 'core/iblock_0/t1l1/wwn/vpd_unit_serial', '00000000000000a1'],
      ['configfs', 'mkdir', 'iscsi'],
      ['configfs', 'mkdir', `iscsi/${IQN}`],
      ['configfs', 'mkdir', T],
      ['configfs', 'mkdir', `${T}/np/127.0.0.1:3260`],
      ['configfs', 'write', `${T}/attrib/generate_node_acls`, '0'],
      ['configfs', 'write', `${T}/attrib/cache_dynamic_acls`, '0'],
      ['configfs', 'write', `${T}/attrib/demo_mode_write_protect`, '1'],
      ['configfs', 'write', `${T}/attrib/authentication`, '1'],
      ['configfs', 'mkdir', `${T}/lun/lun_0`],
      ['configfs', 'link', `${T}/lun/lun_0/t1l0`, 'core/fileio_0/t1l0'],
      ['configfs', 'mkdir', `${T}/lun/lun_1`],
      ['configfs', 'link', `${T}/lun/lun_1/t1l1`, 'core/iblock_0/t1l1'],
      ['configfs', 'mkdir', A],
      ['configfs', 'write', `${A}/tag`, 'hosts'],
      ['configfs', 'write', `${A}/auth/userid`, 'e2euser'],
      ['configfs', 'write', `${A}/auth/password`, '********'],
      ['configfs', 'write', `${A}/auth/userid_mutual`, 'e2etarget'],
      ['configfs', 'write', `${A}/auth/password_mutual`, '********'],
      ['configfs', 'mkdir', `${A}/lun_0`],
      ['configfs', 'link', `${A}/lun_0/lun_0`, `${T}/lun/lun_0`],
      ['configfs', 'mkdir', `${A}/lun_1`],
      ['configfs', 'link', `${A}/lun_1/lun_1`, `${T}/lun/lun_1`],
      ['configfs', 'write', `${A}/lun_1/write_protect`, '1'],
      ['configfs', 'write', `${T}/enable`, '1'],
    ]);
    // the real ops carry the secret (written to the file), the shown ones never
    const real = planLio(desiredLioTree(state(), build), EMPTY);
    assert.equal(real.find((o) => o.path === `${A}/auth/password`)?.value, 'Right-secret.12');
    assert.ok(!JSON.stringify(ops).includes('Right-secret.12'));
  });

  it('no group: demo mode with the CHAP on the TPG; no portal: 0.0.0.0:3260', () => {
    const tree = desiredLioTree(state({ groups: [], portals: [], chap: { user: 'u1' } }), build);
    const tpg = tree.targets[0]!.tpgs[0]!;
    assert.deepEqual(tpg.portals, ['0.0.0.0:3260']);
    assert.deepEqual(tpg.acls, []);
    assert.equal(tpg.attrib.generate_node_acls, 1);
    assert.equal(tpg.auth.userid, 'u1');
    assert.equal(tpg.auth.password, 'Right-secret.12');
  });

  it('refuses a read-only file LUN beside writable ones in demo mode, and a missing secret', () => {
    const s = state({ groups: [] });
    s.targets[0]!.luns[0]!.readonly = true;
    s.targets[0]!.luns[1]!.readonly = false;
    assert.throws(() => desiredLioTree(s, build), /cannot make file LUN 0 read-only/);
    assert.throws(
      () => desiredLioTree(state(), { backingPath, secret: () => undefined }),
      /missing from secrets\.env/,
    );
  });

  it('lio.json: stable text, passwords redacted for diffs and history', () => {
    const text = renderLioJson(desiredLioTree(state(), build));
    assert.ok(text.includes('Right-secret.12'), 'the saved file holds the secret (mode 0600)');
    const shown = redactLioJson(text);
    assert.ok(!shown.includes('Right-secret.12') && !shown.includes('Mutual-secret14'));
    assert.match(shown, /"password": "\*\*\*\*\*\*\*\*"/);
    assert.equal(text, renderLioJson(desiredLioTree(state(), build)));
  });
});

describe('against trees recorded in the lab guest', () => {
  it('the configured tree reads back as the desired one: no op', async () => {
    const { sysroot, fixture } = materialise('configured');
    const tree = await readLioTree(sysroot);
    assert.deepEqual(planLio(desiredLioTree(fixture.state, build), tree), []);
    const live = lioLive(tree);
    assert.deepEqual(computeDrift(fixture.state, live, backingPath, { compareGroups: true }), []);
  });

  it('the logged-in tree lists the session with its address and LUNs', async () => {
    const { sysroot } = materialise('logged-in');
    const live = lioLive(await readLioTree(sysroot));
    assert.deepEqual(live.sessions, [{ target: IQN, initiator: INI_A, address: '127.0.0.1', luns: [0, 1] }]);
    const t = live.targets[0]!;
    assert.equal(t.allowAll, false);
    assert.deepEqual(
      t.groups.map((g) => [g.name, g.initiators]),
      [['hosts', [INI_A]]],
    );
    assert.deepEqual(t.chapUsers, ['e2euser']);
    assert.deepEqual(
      t.luns.map((l) => [l.lun, l.path]),
      [
        [0, `${DATA}/lun0.img`],
        [1, '/dev/zvol/tank/vol'],
      ],
    );
  });

  it('changed by hand: exactly the ops that undo it, removals first', async () => {
    const { sysroot, fixture } = materialise('changed-by-hand');
    const tree = await readLioTree(sysroot);
    const T = `iscsi/${IQN}/tpgt_1`;
    const A = `${T}/acls/${INI_A}`;
    const ROGUE = 'iqn.2026-12.org.calypso.lab:by-hand';
    assert.deepEqual(planLio(desiredLioTree(fixture.state, build), tree).map(shownOp), [
      ['configfs', 'rmdir', `iscsi/${ROGUE}/tpgt_1`],
      ['configfs', 'rmdir', `iscsi/${ROGUE}`],
      ['configfs', 'write', `${T}/attrib/authentication`, '1'],
      ['configfs', 'write', `${A}/auth/password`, '********'],
      ['configfs', 'mkdir', `${A}/lun_1`],
      ['configfs', 'link', `${A}/lun_1/lun_1`, `${T}/lun/lun_1`],
    ]);
    const drift = computeDrift(fixture.state, lioLive(tree), backingPath, { compareGroups: true });
    assert.deepEqual(
      drift.map((d) => [d.kind, d.what, d.target]),
      [
        ['different', 'group hosts', IQN],
        ['different', 'chap', IQN],
        ['different', 'mutual chap', IQN],
        ['extra', 'target', ROGUE],
      ],
    );
  });

  it('a storage object whose serial or block size changed is made again with the LUNs exporting it', async () => {
    const { sysroot, fixture } = materialise('configured');
    const tree = await readLioTree(sysroot);
    const s = structuredClone(fixture.state);
    s.targets[0]!.luns[0]!.serial = 'ffffffffffffffff';
    const ops = planLio(desiredLioTree(s, build), tree).map((o) => `${o.op} ${o.path}`);
    const T = `iscsi/${IQN}/tpgt_1`;
    const A = `${T}/acls/${INI_A}`;
    const dev = tree.targets[0]!.tpgs[0]!.luns.find((l) => l.lun === 0)!;
    const mapped = tree.targets[0]!.tpgs[0]!.acls[0]!.luns.find((l) => l.lun === 0)!;
    assert.deepEqual(ops, [
      `unlink ${A}/lun_0/${mapped.link}`,
      `rmdir ${A}/lun_0`,
      `unlink ${T}/lun/lun_0/${dev.link}`,
      `rmdir ${T}/lun/lun_0`,
      'rmdir core/fileio_0/t1l0',
      'mkdir core/fileio_0/t1l0',
      'write core/fileio_0/t1l0/control',
      'write core/fileio_0/t1l0/udev_path',
      'write core/fileio_0/t1l0/enable',
      'write core/fileio_0/t1l0/attrib/block_size',
      'write core/fileio_0/t1l0/wwn/vpd_unit_serial',
      `mkdir ${T}/lun/lun_0`,
      `link ${T}/lun/lun_0/t1l0`,
      `mkdir ${A}/lun_0`,
      `link ${A}/lun_0/lun_0`,
    ]);
  });

  it('an empty desired state removes everything the agent made, children first', async () => {
    const { sysroot } = materialise('configured');
    const ops = planLio(desiredLioTree({ targets: [] }, build), await readLioTree(sysroot)).map(
      (o) => `${o.op} ${o.path}`,
    );
    const T = `iscsi/${IQN}/tpgt_1`;
    assert.equal(ops[0], `write ${T}/enable`);
    assert.ok(ops.indexOf(`rmdir ${T}/acls/${INI_A}`) < ops.indexOf(`rmdir ${T}/lun/lun_0`));
    assert.ok(ops.indexOf(`rmdir ${T}/lun/lun_0`) < ops.indexOf(`rmdir ${T}`));
    assert.ok(ops.indexOf(`rmdir iscsi/${IQN}`) < ops.indexOf('rmdir core/fileio_0/t1l0'));
    assert.deepEqual(ops.slice(-2), ['rmdir core/fileio_0/t1l0', 'rmdir core/iblock_0/t1l1']);
  });
});
