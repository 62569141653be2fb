/**
 * The LIO scenario, run as root INSIDE the kernel lab guest (a stock Debian kernel under QEMU:
 * target_core_mod, iscsi_target_mod, target_core_file, target_core_iblock; open-iscsi as the
 * initiator over loopback). test/lab/kernel-paths.test.ts runs it first in its guest boot and turns each
 * `LIO-CHECK {json}` line it prints into one assertion (test/iscsi/lio-checks.ts); `LIO-TREE name base64(json)` lines are
 * the configfs trees recorded for the pure tests (test/fixtures/lio-configfs).
 *
 * The agent (LIO backend, real runner, sysroot /) configures the kernel target from nothing: a
 * file LUN and a "zvol" LUN (/dev/zvol/tank/vol, a link to a loop device: iblock opens any block
 * device), an initiator group, CHAP. Each mutating call runs as a dry run first and for real
 * second, and the two must list the same commands.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readSync, symlinkSync, writeFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { lioBackendFactory } from '../../agent/iscsi/backend-lio.js';
import { tgtBackendFactory } from '../../agent/iscsi/backend-tgt.js';
import { iscsiSubsystem } from '../../agent/iscsi/service.js';
import { ZVOLS } from '../../agent/zfs/port.js';
import { zvolsPort } from '../../agent/zfs/zvols-port.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { dumpTree } from './lio-dump.js';

const CFS = '/sys/kernel/config/target';
const IQN = 'iqn.2026-12.org.calypso.lab:lio-e2e';
const ROGUE = 'iqn.2026-12.org.calypso.lab:by-hand';
const INI_A = 'iqn.2026-12.org.calypso.lab:host-a';
const INI_B = 'iqn.2026-12.org.calypso.lab:host-b';
const SECRET = 'Right-secret.12';
const MUTUAL = 'Mutual-secret14';
const PORTAL = '127.0.0.1:3260';
const SIZE = 16 * 1024 * 1024;
const PREFIX = '/tmp/calypso-lio';

let failures = 0;
function check(name: string, ok: boolean, detail: unknown = ''): void {
  if (!ok) failures++;
  console.log(
    `LIO-CHECK ${JSON.stringify({ name, ok, detail: typeof detail === 'string' ? detail : JSON.stringify(detail) })}`,
  );
}

function sh(argv: string[], timeout = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { timeout, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err
        ? typeof (err as { code?: unknown }).code === 'number'
          ? (err as { code: number }).code
          : -1
        : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

interface Plan {
  commands: string[][];
  changed?: string[];
  notes?: string[];
}

let t = undefined as unknown as TestAgent;

async function dryThenReal(method: string, params: Record<string, unknown>): Promise<Plan> {
  const dry = await t.call<Plan>(method, { ...params, dryRun: true });
  const real = await t.call<Plan>(method, params);
  check(
    `${method}: the dry run lists what the real run ran`,
    JSON.stringify(dry.commands) === JSON.stringify(real.commands),
    {
      dry: dry.commands,
      real: real.commands,
    },
  );
  return real;
}

const cfsOps = (p: Plan) => p.commands.filter((c) => c[0] === 'configfs');

async function record(name: string): Promise<void> {
  const fixture = { state: t.deps.configSet.get('iscsi')?.state(), tree: await dumpTree() };
  console.log(`LIO-TREE ${name} ${Buffer.from(JSON.stringify(fixture)).toString('base64')}`);
}

/** iscsiadm on a node record (the default iface, or ifb = INI_B) */
const node = (iface: string, ...args: string[]) =>
  sh(['iscsiadm', '-m', 'node', '-T', IQN, '-p', PORTAL, '-I', iface, ...args]);

async function setAuth(
  iface: string,
  user: string,
  secret: string,
  mutual?: [string, string],
): Promise<void> {
  const kv: [string, string][] = [
    ['node.session.auth.authmethod', 'CHAP'],
    ['node.session.auth.username', user],
    ['node.session.auth.password', secret],
    ['node.session.auth.username_in', mutual?.[0] ?? ''],
    ['node.session.auth.password_in', mutual?.[1] ?? ''],
  ];
  for (const [k, v] of kv) await node(iface, '-o', 'update', '-n', k, '-v', v);
}

/** The disks of the session: LUN → /dev/sdX */
async function disks(): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (let i = 0; i < 40 && out.size < 2; i++) {
    const r = await sh(['iscsiadm', '-m', 'session', '-P', '3']);
    let lun = -1;
    for (const line of r.stdout.split('\n')) {
      const m = /Lun: ([0-9]+)/.exec(line);
      if (m) lun = Number(m[1]);
      const d = /Attached scsi disk (\S+)\s+State: running/.exec(line);
      if (d && lun >= 0) out.set(lun, `/dev/${d[1]}`);
    }
    if (out.size < 2) await new Promise((r) => setTimeout(r, 500));
  }
  return out;
}

function readAt(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, 'r');
  const b = Buffer.alloc(length);
  readSync(fd, b, 0, length, offset);
  closeSync(fd);
  return b;
}

/** The agent on LIO (or tgt), with the zvols port; the same prefix each time (a restart keeps its state). */
const startAgent = () =>
  startTestAgent({
    // fixed: the recorded trees name the data area's files (the guest's /tmp is its own)
    prefix: PREFIX,
    config: { iscsi: { backend: 'auto' } },
    // the zvols port without the rest of ZFS: the "zvol" is a loop device behind /dev/zvol/tank/vol
    services: [
      iscsiSubsystem([lioBackendFactory, tgtBackendFactory]),
      {
        name: 'zvols',
        provides: [ZVOLS],
        service: (deps) => {
          deps.ports.provide(ZVOLS, zvolsPort(deps.capabilities));
          return { name: 'zvols', methods: [] };
        },
      },
    ],
  });

/**
 * A reboot, as LIO sees it: the agent stopped, configfs cleared by targetcli and the modules
 * unloaded. At its next start the agent (with nothing asked) loads LIO and restores the target,
 * its LUNs, ACL and CHAP, audited; the initiator logs in and reads what it wrote before. A second
 * restart with LIO running does nothing.
 */
async function restartRestores(data: Buffer): Promise<void> {
  await t.stop();
  await sh(['sh', '-c', '. scripts/lab/guest-lib.sh && lab_dbus']);
  const clear = await sh(['targetcli', 'clearconfig', 'confirm=True'], 120_000);
  const unload = await sh([
    'modprobe',
    '-r',
    '-a',
    'iscsi_target_mod',
    'target_core_file',
    'target_core_iblock',
  ]);
  check(
    'targetcli clearconfig and unloading LIO leave no target',
    clear.code === 0 && !existsSync(`${CFS}/iscsi/${IQN}`),
    { clear, unload, loaded: existsSync('/sys/module/target_core_mod') },
  );
  const before = Date.now();
  t = await startAgent();
  const restored = async () =>
    (
      await t.call<{ items: { user: string; outcome: string; detail?: unknown }[] }>('audit.query', {
        method: 'iscsi.apply',
        user: 'agent',
      })
    ).items;
  let recs = await restored();
  for (let i = 0; i < 240 && !recs.length; i++) {
    await new Promise((r) => setTimeout(r, 500));
    recs = await restored();
  }
  const tpg = `${CFS}/iscsi/${IQN}/tpgt_1`;
  check('at start the agent restores the configured target into LIO, audited', recs[0]?.outcome === 'ok', {
    recs,
    ms: Date.now() - before,
  });
  check(
    'the restored target has its portal, both LUNs, the ACL with its mapped LUNs and CHAP',
    existsSync(`${tpg}/np/${PORTAL}`) &&
      existsSync(`${tpg}/lun/lun_0`) &&
      existsSync(`${tpg}/lun/lun_1`) &&
      existsSync(`${tpg}/acls/${INI_A}/lun_1`) &&
      (await readFile(`${tpg}/attrib/authentication`, 'utf8')).trim() === '1',
  );
  const drift = await t.call<{ inSync: boolean; items: unknown[] }>('iscsi.drift', {});
  check('after the restore at start: in sync', drift.inSync, drift);
  const login = await node('default', '--login');
  check('logs in after the restore at start', login.code === 0, login);
  const d0 = (await disks()).get(0);
  const r = d0
    ? await sh(['dd', `if=${d0}`, 'of=/tmp/again.bin', 'bs=64k', 'count=1', 'skip=16', 'iflag=direct'])
    : undefined;
  check(
    'what was written before the restart reads back through the restored LUN',
    r?.code === 0 && readAt('/tmp/again.bin', 0, data.length).equals(data),
    { d0, r },
  );
  await node('default', '--logout');
  await t.stop();
  t = await startAgent();
  await new Promise((r) => setTimeout(r, 3000));
  const n = (await restored()).length;
  check('a restart with LIO running restores nothing', n === 1, { records: n });
}

async function scenario(): Promise<void> {
  // the "zvol": a loop device behind /dev/zvol/tank/vol
  await sh(['modprobe', 'loop']);
  await sh(['truncate', '-s', '32M', '/tmp/zvol.img']);
  const loop = (await sh(['losetup', '-f', '--show', '/tmp/zvol.img'])).stdout.trim();
  mkdirSync('/dev/zvol/tank', { recursive: true });
  symlinkSync(loop, '/dev/zvol/tank/vol');

  t = await startAgent();
  const st = await t.call<{ backend: string; reason: string; backends: unknown }>('iscsi.status');
  check('auto chooses LIO (its modules can be loaded; tgtd does not run)', st.backend === 'lio', st);

  const created = await dryThenReal('iscsi.target.create', {
    iqn: IQN,
    portals: [{ address: '127.0.0.1', port: 3260 }],
    chap: { user: 'e2euser', secret: SECRET },
  });
  check(
    'the first apply loads the LIO modules',
    created.commands.some((c) => c[0] === 'modprobe'),
    created.commands,
  );
  check('the target is in configfs', existsSync(`${CFS}/iscsi/${IQN}/tpgt_1/np/${PORTAL}`));
  const flat = JSON.stringify(created);
  check(
    'no CHAP secret in the result; the password write is shown redacted',
    !flat.includes(SECRET) && flat.includes('********'),
    created.commands,
  );
  const conf = path.join(t.deps.layout.generated('lio'), 'lio.json');
  check('lio.json is saved with mode 0600', existsSync(conf) && ((await stat(conf)).mode & 0o777) === 0o600);

  await dryThenReal('iscsi.lun.create', {
    target: IQN,
    backing: { kind: 'file', name: 'lun0.img', sizeBytes: SIZE },
  });
  await dryThenReal('iscsi.lun.create', { target: IQN, backing: { kind: 'zvol', dataset: 'tank/vol' } });
  await dryThenReal('iscsi.group.create', { target: IQN, name: 'hosts', initiators: [INI_A] });
  const again = await dryThenReal('iscsi.apply', {});
  check('in sync: iscsi.apply performs no configfs op', cfsOps(again).length === 0, again.commands);

  // the initiator
  await sh(['modprobe', 'iscsi_tcp']);
  for (const d of [
    '/run/lock/iscsi',
    '/var/lib/iscsi',
    '/etc/iscsi/nodes',
    '/etc/iscsi/send_targets',
    '/etc/iscsi/ifaces',
  ])
    mkdirSync(d, { recursive: true });
  writeFileSync('/etc/iscsi/initiatorname.iscsi', `InitiatorName=${INI_A}\n`);
  await sh(['iscsid']);
  await new Promise((r) => setTimeout(r, 1000));
  await sh(['iscsiadm', '-m', 'iface', '-I', 'ifb', '-o', 'new']);
  await sh([
    'iscsiadm',
    '-m',
    'iface',
    '-I',
    'ifb',
    '-o',
    'update',
    '-n',
    'iface.initiatorname',
    '-v',
    INI_B,
  ]);
  const disc = await sh([
    'iscsiadm',
    '-m',
    'discovery',
    '-t',
    'st',
    '-p',
    PORTAL,
    '-I',
    'default',
    '-I',
    'ifb',
  ]);
  check('discovery lists the target', disc.stdout.includes(IQN), disc);

  await setAuth('default', 'e2euser', 'Wrong-secret.12');
  const wrong = await node('default', '--login');
  check('CHAP with a wrong secret is refused', wrong.code !== 0, wrong);
  await setAuth('ifb', 'e2euser', SECRET);
  const outsider = await node('ifb', '--login');
  check('an initiator outside the group (no ACL) is refused', outsider.code !== 0, outsider);
  await setAuth('default', 'e2euser', SECRET);
  const ok = await node('default', '--login');
  check('CHAP with the right secret logs in', ok.code === 0, ok);

  const dev = await disks();
  check('both LUNs appear as disks', dev.size === 2, [...dev]);
  const data = randomBytes(64 * 1024);
  writeFileSync('/tmp/in.bin', data);
  const d0 = dev.get(0);
  const d1 = dev.get(1);
  if (d0 && d1) {
    for (const [d, backing] of [
      [d0, path.join(t.deps.layout.data.iscsi, 'lun0.img')],
      [d1, '/tmp/zvol.img'],
    ] as const) {
      const w = await sh([
        'dd',
        'if=/tmp/in.bin',
        `of=${d}`,
        'bs=64k',
        'count=1',
        'seek=16',
        'oflag=direct',
        'conv=notrunc',
      ]);
      const r = await sh([
        'dd',
        `if=${d}`,
        'of=/tmp/out.bin',
        'bs=64k',
        'count=1',
        'skip=16',
        'iflag=direct',
      ]);
      check(
        `${backing}: written through ${d} and read back identical`,
        w.code === 0 && r.code === 0 && readAt('/tmp/out.bin', 0, data.length).equals(data),
        [w.stderr, r.stderr],
      );
      await sh(['sync']);
      check(
        `${backing}: the backing store holds the blocks at 1 MiB`,
        readAt(backing, 1024 * 1024, data.length).equals(data),
      );
    }
  }
  const sessions = (
    await t.call<{ items: { target: string; initiator: string; address?: string }[] }>(
      'iscsi.session.list',
      {},
    )
  ).items;
  check(
    'the session is listed with its initiator and address',
    sessions.some((s) => s.target === IQN && s.initiator === INI_A && s.address === '127.0.0.1'),
    sessions,
  );
  await record('logged-in');
  await node('default', '--logout');

  // mutual CHAP
  await dryThenReal('iscsi.target.chap.set', {
    iqn: IQN,
    user: 'e2euser',
    secret: SECRET,
    mutualUser: 'e2etarget',
    mutualSecret: MUTUAL,
  });
  await setAuth('default', 'e2euser', SECRET, ['e2etarget', 'Wrong-secret.12']);
  const badMutual = await node('default', '--login');
  check(
    'mutual CHAP: a target answering with another secret is not trusted',
    badMutual.code !== 0,
    badMutual,
  );
  await setAuth('default', 'e2euser', SECRET, ['e2etarget', MUTUAL]);
  const mutual = await node('default', '--login');
  check('mutual CHAP logs in', mutual.code === 0, mutual);
  await node('default', '--logout');
  const audit = JSON.stringify(await t.call('audit.query', { method: 'iscsi.*', limit: 100 }));
  check('no secret in the audit log', !audit.includes(SECRET) && !audit.includes(MUTUAL));
  const saved = JSON.stringify(await t.call('iscsi.config.history', {}));
  check('no secret in the config history', !saved.includes(SECRET) && !saved.includes(MUTUAL));
  await record('configured');

  // changed by hand
  const tpg = `${CFS}/iscsi/${IQN}/tpgt_1`;
  const acl = `${tpg}/acls/${INI_A}`;
  const mapped = (await readdir(`${acl}/lun_1`, { withFileTypes: true })).find((e) => e.isSymbolicLink());
  if (mapped) await sh(['rm', `${acl}/lun_1/${mapped.name}`]);
  await sh(['rmdir', `${acl}/lun_1`]);
  writeFileSync(`${tpg}/attrib/authentication`, '0');
  writeFileSync(`${acl}/auth/password`, 'Changed-by-hand');
  mkdirSync(`${CFS}/iscsi/${ROGUE}/tpgt_1`, { recursive: true });
  await record('changed-by-hand');
  const drift = await t.call<{ inSync: boolean; items: { target: string; what: string }[] }>(
    'iscsi.drift',
    {},
  );
  check(
    'drift: the hand changes are reported',
    !drift.inSync &&
      drift.items.some((i) => i.target === ROGUE) &&
      drift.items.some((i) => i.what === 'chap' || i.what.includes('group') || i.what.startsWith('configfs')),
    drift,
  );
  const fixed = await dryThenReal('iscsi.apply', {});
  const ops = cfsOps(fixed).map((c) => c.join(' '));
  check(
    'apply removes the hand-made target',
    ops.some((o) => o === `configfs rmdir iscsi/${ROGUE}`),
    ops,
  );
  check(
    'apply restores the mapped LUN, authentication and the password (shown redacted)',
    ops.some((o) => o.includes(`acls/${INI_A}/lun_1`)) &&
      ops.some((o) => o.endsWith('attrib/authentication 1')) &&
      ops.some((o) => o.endsWith('auth/password ********')),
    ops,
  );
  const after = await t.call<{ inSync: boolean; items: unknown[] }>('iscsi.drift', {});
  check('drift after apply: in sync', after.inSync, after);
  const login = await node('default', '--login');
  check('logs in again after apply', login.code === 0, login);
  await node('default', '--logout');

  await restartRestores(data);

  // everything removed
  await dryThenReal('iscsi.lun.delete', { target: IQN, lun: 1 });
  await dryThenReal('iscsi.lun.delete', { target: IQN, lun: 0 });
  await dryThenReal('iscsi.target.delete', { iqn: IQN });
  const left = (await readdir(`${CFS}/iscsi`)).filter((n) => n.startsWith('iqn.'));
  const devs = [
    ...(await readdir(`${CFS}/core/fileio_0`)),
    ...(await readdir(`${CFS}/core/iblock_0`)),
  ].filter((n) => /^t[0-9]+l[0-9]+$/.test(n));
  check(
    'deleting the target leaves configfs without targets or storage objects',
    left.length === 0 && devs.length === 0,
    { left, devs },
  );
}

try {
  await scenario();
} catch (err) {
  check(
    'scenario ran to the end',
    false,
    err instanceof Error ? `${err.message}\n${err.stack}` : String(err),
  );
} finally {
  await sh(['iscsiadm', '-m', 'node', '--logoutall=all']);
  await sh(['iscsiadm', '-k', '0']);
  await t?.stop();
}
console.log(`LIO-DONE ${failures}`);
process.exit(failures ? 1 : 0);
