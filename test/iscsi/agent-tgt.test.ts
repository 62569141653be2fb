/**
 * iSCSI end to end on the real Linux tgt: the agent (tgt backend, real runner) drives a real
 * tgtd on a loopback portal, and libiscsi's initiator tools log in as a client would:
 * iscsi-ls / iscsi-inq / iscsi-readcapacity16 see what the agent configured, blocks written
 * through iSCSI read back identical and land in the backing file, CHAP (one-way and mutual)
 * lets the right secret in and keeps the wrong one out, an initiator outside the target's
 * group is refused, sessions are listed, a killed tgtd makes the backend `unavailable` with
 * nothing changed, and a restarted (empty) tgtd is reported as drift and brought back by
 * iscsi.apply — with every dry run listing exactly the tgtadm commands its real run ran.
 *
 * LUNs are file-backed: zfs-fuse has no zvols. A zvol LUN differs only in its backing path
 * (/dev/zvol/<dataset>), covered by the plan tests.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { tgtBackendFactory } from '../../agent/iscsi/backend-tgt.js';
import { iscsiSubsystem } from '../../agent/iscsi/service.js';
import { waitUntil } from '../../agent/util/time.js';
import { startTgtLab, type TgtLab } from '../../sandbox/tgt.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';

const run = promisify(execFile);
const IQN = 'iqn.2026-12.org.calypso:tgt-e2e';
const INI_A = 'iqn.2026-12.org.calypso:host-a';
const INI_B = 'iqn.2026-12.org.calypso:host-b';
const SECRET = 'Right-secret.12';
const MUTUAL = 'Mutual-secret14';
const SIZE = 16 * 1024 * 1024;

interface Plan {
  commands: string[][];
  changed?: string[];
  notes?: string[];
}

let lab: TgtLab;
let t: TestAgent;
let conf: string;

async function blockio(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const r = await run(lab.blockio, args, { timeout: 20_000 });
    return { code: 0, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stderr: err.stderr ?? '' };
  }
}

/** a dry run, then the same call for real: the plan must be exactly what ran */
async function dryThenReal(method: string, params: Record<string, unknown>): Promise<Plan> {
  const dry = await t.call<Plan>(method, { ...params, dryRun: true });
  const real = await t.call<Plan>(method, params);
  assert.deepEqual(real.commands, dry.commands, `${method}: the dry run lists what the real run ran`);
  return real;
}

const tgtCommands = (p: Plan) => p.commands.filter((c) => c[0] === 'tgtadm');

function snapshot() {
  return {
    conf: existsSync(conf) ? readFileSync(conf, 'utf8') : null,
    state: JSON.stringify(t.deps.configSet.get('iscsi')?.state()),
    running: lab.tgtadm('--lld', 'iscsi', '--mode', 'target', '--op', 'show'),
  };
}

before(async () => {
  lab = await startTgtLab();
  t = await startTestAgent({
    config: { iscsi: { backend: 'tgt', tgtControlPort: lab.control } },
    services: [iscsiSubsystem([tgtBackendFactory])],
  });
  conf = path.join(t.deps.layout.generated('tgt'), 'targets.conf');
});
after(async () => {
  await t?.stop();
  await lab?.stop();
});

describe('iSCSI through the agent on a real tgtd', () => {
  it('chooses tgt because tgtd answers on its control port', async () => {
    const s = await t.call<{ backend: string; available: boolean; reason: string }>('iscsi.status');
    assert.equal(s.backend, 'tgt');
    assert.equal(s.available, true, s.reason);
  });

  it('creates a target with a file LUN; the initiator tools see it with its size and identity', async () => {
    await dryThenReal('iscsi.target.create', {
      iqn: IQN,
      alias: 'e2e',
      portals: [{ address: '127.0.0.1', port: lab.port }],
    });
    const real = await dryThenReal('iscsi.lun.create', {
      target: IQN,
      backing: { kind: 'file', name: 'e2e-lun1.img', sizeBytes: SIZE },
    });
    assert.ok(tgtCommands(real).some((c) => c.includes('logicalunit') && c.includes('new')));
    const [target] = (
      await t.call<{ items: { luns: { lun: number; serial: string }[] }[] }>('iscsi.target.list')
    ).items;
    const lun = target!.luns[0]!;
    assert.equal(lun.lun, 1, 'tgt keeps LUN 0 for its controller: the first LUN is 1');

    const ls = await run('iscsi-ls', ['-s', `iscsi://127.0.0.1:${lab.port}`]);
    assert.match(ls.stdout, new RegExp(`Target:${IQN.replaceAll('.', '\\.')}`));
    assert.match(ls.stdout, /Lun:1\s+Type:DIRECT_ACCESS \(Size:1[56]M\)/);
    const inq = await run('iscsi-inq', ['-e', '1', '-c', '128', lab.url(IQN, 1)]);
    assert.match(inq.stdout, new RegExp(`Unit Serial Number:\\[\\s*${lun.serial}\\]`));
    const std = await run('iscsi-inq', [lab.url(IQN, 1)]);
    assert.match(std.stdout, /Vendor:\s*CALYPSO/);
    const cap = await run('iscsi-readcapacity16', [lab.url(IQN, 1)]);
    assert.match(cap.stdout, new RegExp(`Total size:${SIZE}`));
    assert.ok(existsSync(conf) && readFileSync(conf, 'utf8').includes(`<target ${IQN}>`));
  });

  it('blocks written through iSCSI read back identical and are in the backing file', async () => {
    const data = randomBytes(16 * 512);
    const src = path.join(lab.dir, 'in.bin');
    const back = path.join(lab.dir, 'out.bin');
    writeFileSync(src, data);
    assert.equal((await blockio(['write', lab.url(IQN, 1), '100', '16', src])).code, 0);
    assert.equal((await blockio(['read', lab.url(IQN, 1), '100', '16', back])).code, 0);
    assert.ok(readFileSync(back).equals(data), 'read back what was written');
    const file = path.join(t.deps.layout.data.iscsi, 'e2e-lun1.img');
    const fd = openSync(file, 'r');
    const onDisk = Buffer.alloc(data.length);
    readSync(fd, onDisk, 0, data.length, 100 * 512);
    closeSync(fd);
    assert.ok(onDisk.equals(data), 'the backing file holds the blocks at LBA 100');
  });

  it('CHAP: no secret and a wrong secret are refused, the right one logs in; mutual CHAP too', async () => {
    const real = await dryThenReal('iscsi.target.chap.set', {
      iqn: IQN,
      user: 'e2euser',
      secret: SECRET,
      mutualUser: 'e2etarget',
      mutualSecret: MUTUAL,
    });
    const flat = JSON.stringify(real);
    assert.ok(!flat.includes(SECRET) && !flat.includes(MUTUAL), 'no secret in the result');
    assert.ok(flat.includes('********'), 'the account commands are shown redacted');
    const url = lab.url(IQN, 1);
    assert.equal((await blockio(['size', url])).code, 2, 'no CHAP: refused');
    assert.equal(
      (await blockio(['size', lab.url(IQN, 1, { user: 'e2euser', secret: 'Wrong-secret.12' })])).code,
      2,
      'wrong secret: refused',
    );
    const ok = await blockio(['size', lab.url(IQN, 1, { user: 'e2euser', secret: SECRET })]);
    assert.equal(ok.code, 0, ok.stderr);
    const mutual = await blockio([
      '-m',
      `e2etarget%${MUTUAL}`,
      'size',
      lab.url(IQN, 1, { user: 'e2euser', secret: SECRET }),
    ]);
    assert.equal(mutual.code, 0, `mutual CHAP: ${mutual.stderr}`);
    const wrongMutual = await blockio([
      '-m',
      'e2etarget%Wrong-secret.12',
      'size',
      lab.url(IQN, 1, { user: 'e2euser', secret: SECRET }),
    ]);
    assert.equal(wrongMutual.code, 2, 'the target answering with another mutual secret is not trusted');
    assert.ok(readFileSync(conf, 'utf8').includes(`incominguser e2euser ${SECRET}`), 'targets.conf has it');
    const audit = JSON.stringify(await t.call('audit.query', { method: 'iscsi.*', limit: 100 }));
    assert.ok(audit.includes('iscsi.target.chap.set'));
    assert.ok(!audit.includes(SECRET) && !audit.includes(MUTUAL), 'no secret in the audit log');
    // the same secret again changes nothing on tgtd
    const again = await dryThenReal('iscsi.target.chap.set', {
      iqn: IQN,
      user: 'e2euser',
      secret: SECRET,
      mutualUser: 'e2etarget',
      mutualSecret: MUTUAL,
    });
    assert.deepEqual(tgtCommands(again), []);
    // a new secret: the old one stops working
    await dryThenReal('iscsi.target.chap.set', { iqn: IQN, user: 'e2euser', secret: 'Second-secret.1' });
    assert.equal((await blockio(['size', lab.url(IQN, 1, { user: 'e2euser', secret: SECRET })])).code, 2);
    assert.equal(
      (await blockio(['size', lab.url(IQN, 1, { user: 'e2euser', secret: 'Second-secret.1' })])).code,
      0,
    );
    await dryThenReal('iscsi.target.chap.clear', { iqn: IQN });
    assert.equal((await blockio(['size', url])).code, 0, 'CHAP cleared: open again');
  });

  it('an initiator outside the target’s group is refused; one inside logs in', async () => {
    await dryThenReal('iscsi.group.create', { target: IQN, name: 'hosts', initiators: [INI_A] });
    const a = await blockio(['-i', INI_A, 'size', lab.url(IQN, 1)]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal((await blockio(['-i', INI_B, 'size', lab.url(IQN, 1)])).code, 2);
  });

  it('lists a connected initiator as a session', async () => {
    const perf = spawn('iscsi-perf', ['-i', INI_A, lab.url(IQN, 1)], { stdio: 'ignore' });
    try {
      const sessions = await waitUntil(
        async () => {
          const s = (
            await t.call<{ items: { target: string; initiator: string; address?: string }[] }>(
              'iscsi.session.list',
            )
          ).items;
          return s.length ? s : undefined;
        },
        { timeoutMs: 10_000, what: 'a session' },
      );
      assert.equal(sessions[0]!.target, IQN);
      assert.equal(sessions[0]!.initiator, INI_A);
      assert.match(sessions[0]!.address ?? '', /127\.0\.0\.1/);
    } finally {
      perf.kill('SIGKILL');
      await new Promise((r) => perf.once('exit', r));
    }
  });

  it('refuses LUN 0 on tgt with a clear invalid, changing nothing', async () => {
    const before = snapshot();
    await assert.rejects(
      t.call('iscsi.lun.create', {
        target: IQN,
        lun: 0,
        backing: { kind: 'file', name: 'zero.img', sizeBytes: SIZE },
      }),
      (e: { data?: { kind?: string }; message: string }) =>
        e.data?.kind === 'invalid' && /LUN 0/.test(e.message),
    );
    assert.deepEqual(snapshot(), before);
  });

  it('tgtd killed: unavailable with the reason, and a change is refused with nothing changed', async () => {
    await lab.kill();
    const s = await t.call<{ available: boolean; reason: string }>('iscsi.status');
    assert.equal(s.available, false);
    assert.match(s.reason, /tgtd is not running/);
    const state = JSON.stringify(t.deps.configSet.get('iscsi')?.state());
    const file = readFileSync(conf, 'utf8');
    await assert.rejects(
      t.call('iscsi.lun.create', { target: IQN, backing: { kind: 'file', name: 'l2.img', sizeBytes: SIZE } }),
      (e: { data?: { kind?: string } }) => e.data?.kind === 'unavailable',
    );
    assert.equal(JSON.stringify(t.deps.configSet.get('iscsi')?.state()), state);
    assert.equal(readFileSync(conf, 'utf8'), file);
  });

  it('restarted empty: drift says the target is missing; iscsi.apply brings it back with its data', async () => {
    await lab.restart();
    const drift = await t.call<{ inSync: boolean; items: { kind: string; what: string }[] }>('iscsi.drift');
    assert.equal(drift.inSync, false);
    assert.ok(drift.items.some((i) => i.kind === 'missing' && i.what === 'target'));
    const alerts = await t.deps.alerts.list();
    assert.ok(
      alerts.some((a) => a.key === 'iscsi.drift'),
      'drift raised an alert',
    );
    const real = await dryThenReal('iscsi.apply', {});
    assert.ok(tgtCommands(real).length >= 4, 'target, LUN, params, ACL');
    const after = await t.call<{ inSync: boolean; items: unknown[] }>('iscsi.drift');
    assert.deepEqual(after.items, []);
    assert.equal(after.inSync, true);
    const back = path.join(lab.dir, 'again.bin');
    const r = await blockio(['-i', INI_A, 'read', lab.url(IQN, 1), '100', '16', back]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(readFileSync(back).equals(readFileSync(path.join(lab.dir, 'in.bin'))));
    // in sync: a re-apply has nothing to run
    assert.deepEqual(tgtCommands(await dryThenReal('iscsi.apply', {})), []);
  });

  it('a change by hand is drift too, and adopt or apply settles it', async () => {
    lab.tgtadm('--lld', 'iscsi', '--mode', 'target', '--op', 'bind', '--tid', '1', '-I', 'ALL');
    const d = await t.call<{ items: { what: string }[] }>('iscsi.drift');
    assert.ok(d.items.some((i) => i.what === 'acl'));
    const fix = await dryThenReal('iscsi.apply', {});
    assert.ok(tgtCommands(fix).some((c) => c.includes('unbind') && c.includes('ALL')));
    assert.equal((await t.call<{ inSync: boolean }>('iscsi.drift')).inSync, true);
  });

  it('deleting the target removes it from tgtd', async () => {
    await dryThenReal('iscsi.target.delete', { iqn: IQN, force: true });
    assert.doesNotMatch(lab.tgtadm('--lld', 'iscsi', '--mode', 'target', '--op', 'show'), /Target 1:/);
  });
});
