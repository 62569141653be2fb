/**
 * Dry run = real run, over every mutating method of every subsystem (issue 11).
 *
 * The methods whose commands go through the agent's runner are compared here, one call each
 * with `dryRun` and then for real (compare.ts): tape and virtual tape on fakes of the tools,
 * Bacula's configuration methods with the real `bacula-dir -t`/`bacula-sd -t`/`bacula-fd -t`
 * recorded. Where the real run needs a real daemon to answer, the comparison lives with that
 * daemon's tests, and the table at the end names the file; a registry check fails when a
 * mutating method is in neither place (a new method must bring its comparison).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createBackupService } from '../../agent/backup/service.js';
import { createRunner } from '../../agent/runner.js';
import { SUBSYSTEMS } from '../../agent/subsystems.js';
import { tapeConfig } from '../../agent/tape/config.js';
import { createTapeService } from '../../agent/tape/service.js';
import { createVtlService } from '../../agent/vtl/service.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { fakeRunner, recording } from '../helpers/fake-runner.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { fakeLibrary, readText } from '../tape/fake-library.js';
import { dryEqualsReal } from './compare.js';

/** Methods compared in this file (filled as the cases run; the registry check reads it). */
const comparedHere = new Set<string>();

async function compare(...args: Parameters<typeof dryEqualsReal>) {
  const r = await dryEqualsReal(...args);
  comparedHere.add(args[2]);
  return r;
}

describe('tape: changer and drive moves', () => {
  const LIB44 = path.join(repoRoot(), 'test', 'fixtures', 'mtx', 'written-4drives-44slots-4ie.txt');
  const TAPEINFO = path.join(repoRoot(), 'test/fixtures/mtx/tapeinfo.handwritten-ibm-td5-alerts.txt');
  const MT = path.join(repoRoot(), 'test/fixtures/mt-st/lab-tgt/mt-status.empty.txt');
  const lib = fakeLibrary(readText(LIB44), { tapeinfo: readText(TAPEINFO), mtStatus: readText(MT) });
  // reads (status, tapeinfo, versions) are how a move checks the robot first; moves are the plan
  const moves = (c: string[]) =>
    (c[0] === 'mtx' && c[1] === '-f' && c[3] !== 'status') || (c[0] === 'mt' && c[3] !== 'status');
  let a: TestAgent;
  before(async () => {
    a = await startTestAgent({
      runner: lib,
      services: [{ name: 'tape', service: createTapeService({ lockWaitMs: 5000 }), config: tapeConfig }],
      config: {
        tape: {
          changers: [
            {
              id: 'lib1',
              device: '/dev/tape/by-id/scsi-LIB1',
              drives: [0, 1, 2, 3].map((i) => ({
                device: `/dev/tape/by-id/scsi-DRV${i}-nst`,
                sg: `/dev/sg${i + 2}`,
              })),
            },
          ],
          cleaningSeconds: 0,
        },
      },
    });
  });
  after(() => a.stop());

  const C = { changer: 'lib1' };
  for (const [method, params] of [
    ['changer.load', { ...C, barcode: 'F02012L7', drive: 2 }],
    ['changer.unload', { ...C, drive: 2 }],
    ['changer.transfer', { ...C, from: 1, to: 10 }],
    ['changer.export', { ...C, from: 10, to: 41 }],
    ['changer.import', { ...C, from: 41 }],
    ['changer.inventory', C],
    ['drive.rewind', { drive: 'lib1:1' }],
    ['drive.eject', { drive: 'lib1:1' }],
    ['drive.clean', { drive: 'lib1:3' }],
  ] as const) {
    it(`${method}: the real run sends the plan's commands`, async () => {
      const { plan } = await compare(a, lib, method, params, { commands: moves, dirs: [] });
      assert.ok(plan.commands?.length, `${method} plans at least one command`);
    });
  }
});

describe('virtual tape (mhvtl) on a recorded sysroot', () => {
  const runner = fakeRunner(() => '', { which: (n) => `/usr/bin/${n}` });
  const sys = tempDir();
  let a: TestAgent;
  const LIB = {
    id: 10,
    name: 'vtl1',
    personality: 'IBM-03584L32',
    drives: [6, 6],
    slots: 8,
    mailslots: 2,
    barcodePrefix: 'V',
    tapes: 3,
    cleaningTapes: 1,
    capacityMB: 2000,
    compression: 0,
  };
  before(async () => {
    mkdirSync(path.join(sys.dir, 'sys/module/mhvtl'), { recursive: true });
    a = await startTestAgent({ runner, sysroot: sys.dir, services: [createVtlService()] });
  });
  after(async () => {
    await a.stop();
    sys.cleanup();
  });

  it('vtl.library.create', async () => {
    const { plan } = await compare(a, runner, 'vtl.library.create', LIB);
    assert.equal(plan.commands?.filter((c) => c[0] === 'mktape').length, 4);
  });
  it('vtl.library.update', async () => {
    await compare(a, runner, 'vtl.library.update', { id: 10, set: { slots: 10 } });
  });
  it('vtl.apply', async () => {
    const { plan } = await compare(a, runner, 'vtl.apply', {});
    assert.deepEqual(plan.commands?.at(-1), ['systemctl', 'restart', 'mhvtl.target']);
  });
  it('vtl.config.restore', async () => {
    await compare(a, runner, 'vtl.config.restore', { version: 1 });
  });
  it('vtl.library.delete', async () => {
    await compare(a, runner, 'vtl.library.delete', { id: 10, confirm: 'vtl1' });
  });
});

describe('Bacula configuration, validated by the real daemons’ test mode', () => {
  const runner = recording(createRunner());
  let a: TestAgent;
  before(async () => {
    a = await startTestAgent({ runner, services: [createBackupService()] });
    // ports nobody listens on: no daemon runs, so no reload is planned or sent
    await a.call('backup.settings.set', { dirPort: 1, fdPort: 2, sdPort: 3 });
  });
  after(() => a.stop());

  const steps: [string, Record<string, unknown>][] = [
    ['backup.settings.set', { dirPort: 19101, fdPort: 19102, sdPort: 19103 }],
    ['backup.storage.set', { name: 'vault', type: 'disk', devices: 2 }],
    ['backup.pool.set', { name: 'daily', storage: 'vault' }],
    ['backup.client.set', { name: 'web-1', address: '192.0.2.10', password: 'web-1-password-given' }],
    ['backup.fileset.set', { name: 'etc', include: ['/etc'] }],
    ['backup.schedule.set', { name: 'nightly', runs: [{ when: 'daily at 23:05' }] }],
    [
      'backup.job.set',
      { name: 'etc-backup', client: 'web-1', fileset: 'etc', pool: 'daily', schedule: 'nightly' },
    ],
    ['backup.job.delete', { name: 'etc-backup' }],
    ['backup.schedule.delete', { name: 'nightly' }],
    ['backup.fileset.delete', { name: 'etc' }],
    ['backup.client.delete', { name: 'web-1' }],
    ['backup.pool.delete', { name: 'daily' }],
    ['backup.storage.delete', { name: 'vault' }],
    ['backup.config.apply', {}],
    ['backup.config.restore', { version: 2 }],
  ];
  for (const [method, params] of steps)
    it(`${method}: files and daemon checks as planned`, async () => {
      const { plan } = await compare(a, runner, method, params);
      for (const c of plan.commands ?? [])
        assert.ok(/^bacula-(dir|sd|fd)$/.test(path.basename(c[0]!)), `only the daemons' test mode: ${c}`);
    });
});

/**
 * Methods whose real run needs a real daemon or device answering; their dry run is compared
 * with what the real run sent in the named file (the check below reads it for the name).
 */
const ELSEWHERE: Record<string, string> = {
  // ZFS: every mutating method, a fake runner answering from recorded zfs/zpool output
  ...Object.fromEntries(
    [
      'dataset.create',
      'dataset.destroy',
      'dataset.update',
      'pool.attach',
      'pool.clear',
      'pool.create',
      'pool.destroy',
      'pool.detach',
      'pool.export',
      'pool.import',
      'pool.offline',
      'pool.online',
      'pool.replace',
      'pool.scrub',
      'pool.scrub.pause',
      'pool.scrub.stop',
      'replication.run',
      'snapshot.clone',
      'snapshot.create',
      'snapshot.destroy',
      'snapshot.hold',
      'snapshot.policy.delete',
      'snapshot.policy.run',
      'snapshot.policy.set',
      'pool.scrub.schedule.set',
      'pool.scrub.schedule.delete',
      'snapshot.release',
      'snapshot.rollback',
      'storage.layout.apply',
      'zvol.create',
      'zvol.resize',
    ].map((m) => [m, 'test/zfs/dry-run.test.ts']),
  ),
  // bconsole sessions recorded against the real director and compared with the plan
  'backup.run': 'test/backup/bacula-daemons.test.ts',
  'backup.cancel': 'test/backup/bacula-daemons.test.ts',
  'backup.volume.label': 'test/backup/bacula-daemons.test.ts',
  'backup.volume.purge': 'test/backup/bacula-daemons.test.ts',
  'backup.restore': 'test/backup/bacula-daemons.test.ts',
  'backup.drill.run': 'test/backup/drill.test.ts',
  'backup.volume.labelBarcodes': 'test/tape-emu/bacula-tape.test.ts',
  'backup.volume.updateSlots': 'test/tape-emu/bacula-tape.test.ts',
  'tape.bacula.offer': 'test/tape/bacula-offer.test.ts',
  // radosgw-admin and S3 calls against the real Ceph gateway
  ...Object.fromEntries(
    [
      'object.bucket.create',
      'object.bucket.delete',
      'object.bucket.quota',
      'object.bucket.versioning',
      'object.grant.revoke',
      'object.grant.set',
      'object.key.create',
      'object.key.revoke',
      'object.key.rotate',
      'object.policy.set',
      'object.service.start',
      'object.service.stop',
      'object.user.create',
      'object.user.delete',
      'object.user.suspend',
    ].map((m) => [m, 'test/object/rgw-e2e.test.ts']),
  ),
  'object.bucket.lock.set': 'test/object/rgw-lock.test.ts',
  'object.bucket.lifecycle.set': 'test/object/rgw-lock.test.ts',
  'object.target.immutable.create': 'test/object/rgw-lock.test.ts',
  'object.migrate': 'test/object/migrate.test.ts',
  'object.bucket.abortMultipart': 'test/object/rgw-contents.test.ts',
  'disk.selftest': 'test/hardware/hardware-smart.test.ts',
  'enclosure.locate': 'test/hardware/hardware-service.test.ts',
  'remote.pair': 'test/remote/remote-pair.test.ts',
  'remote.authorize': 'test/remote/remote-pair.test.ts',
  'remote.deauthorize': 'test/remote/remote-pair.test.ts',
  'remote.unpair': 'test/remote/remote-pair.test.ts',
  'replication.task.create': 'test/remote/push.test.ts',
  'replication.task.delete': 'test/remote/push.test.ts',
  'replication.task.run': 'test/remote/push.test.ts',
  'replication.drill.run': 'test/remote/replica-drill.test.ts',
  'replication.task.update': 'test/remote/tasks.test.ts',
  'release.install': 'test/release/service.test.ts',
  'release.rollback': 'test/release/service.test.ts',
  // every iSCSI mutation through the agent (SCST on the recorded sysfs tree, scstadmin faked)
  ...Object.fromEntries(
    [
      'iscsi.target.create',
      'iscsi.target.update',
      'iscsi.target.delete',
      'iscsi.target.chap.set',
      'iscsi.target.chap.clear',
      'iscsi.lun.create',
      'iscsi.lun.update',
      'iscsi.lun.delete',
      'iscsi.group.create',
      'iscsi.group.update',
      'iscsi.group.delete',
      'iscsi.apply',
      'iscsi.adopt',
      'iscsi.config.restore',
    ].map((m) => [m, 'test/iscsi/agent-scst.test.ts']),
  ),
  // shares: a real smbd under the prefix (testparm, smbcontrol, pdbedit)
  ...Object.fromEntries(
    [
      'shares.create',
      'shares.update',
      'shares.delete',
      'shares.apply',
      'shares.config.restore',
      'shares.user.create',
      'shares.user.password',
      'shares.user.groups',
      'shares.user.delete',
      'shares.group.create',
      'shares.group.delete',
    ].map((m) => [m, 'test/shares/smb.test.ts']),
  ),
  ...Object.fromEntries(
    [
      'shares.directory.ldap.set',
      'shares.directory.ldap.delete',
      'shares.directory.role.set',
      'shares.directory.role.delete',
    ].map((m) => [m, 'test/shares/ldap.test.ts']),
  ),
  // Active Directory: a real Samba AD DC in its own namespaces (sandbox/samba-dc.ts)
  ...Object.fromEntries(
    ['shares.directory.ad.join', 'shares.directory.ad.leave'].map((m) => [m, 'test/shares/ad.test.ts']),
  ),
};

/** Mutating methods that send no command: their dry run describes an LMDB change only. */
const NO_COMMANDS: Record<string, string> = {
  'auth.token.create': 'stores a token record; the dry run shows the record without the secret',
  'auth.token.revoke': 'marks a token revoked in LMDB',
  'job.abort': 'signals a running job of this agent',
  'alert.ack':
    'marks alerts acknowledged in LMDB; the dry run returns the keys and changes nothing (test/alerts/core.test.ts)',
  'notify.target.set':
    'stores the target in LMDB and its secret in secrets.env; the dry run returns the record, secret not shown (test/alerts/notify.test.ts)',
  'notify.target.delete':
    'removes the target, its outbox entries and secrets; the dry run counts what would go',
  'notify.target.test': 'sends one message; the dry run returns its subject and sends nothing',
  'backup.drill.create': 'stores the drill in LMDB; the dry run names the key and stores nothing',
  'backup.drill.delete': 'removes the drill and its reports from LMDB and clears its alert',
  'disk.selftest.schedule.set':
    'stores the schedule in LMDB; the dry run names the key and stores nothing (test/hardware/selftest-schedule.test.ts)',
  'disk.selftest.schedule.delete': 'removes the schedule from LMDB; the dry run names the key',
  'alert.rules.set':
    'stores the rules in LMDB; the dry run returns the merged rules unstored (test/alerts/core.test.ts)',
};

describe('every mutating method has its dry-run comparison', () => {
  it('the registry’s mutating methods are all compared (here or in a named file)', async () => {
    const a = await startTestAgent({ services: SUBSYSTEMS });
    try {
      const doc = await a.call<{ methods: { name: string; params: { name: string }[] }[] }>('rpc.discover');
      const mutating = doc.methods
        .filter((m) => m.params.some((p) => p.name === 'dryRun'))
        .map((m) => m.name);
      assert.ok(mutating.length > 80, `found ${mutating.length} mutating methods`);
      const missing = mutating.filter((m) => !comparedHere.has(m) && !ELSEWHERE[m] && !NO_COMMANDS[m]);
      assert.deepEqual(missing, [], 'mutating methods without a dry-run = real-run comparison');
      for (const [m, file] of Object.entries(ELSEWHERE)) {
        if (!mutating.includes(m)) continue;
        const f = path.join(repoRoot(), file);
        assert.ok(existsSync(f), `${m}: ${file} exists`);
        const text = readFileSync(f, 'utf8');
        assert.ok(text.includes(`'${m}'`) || text.includes(`"${m}"`), `${file} exercises ${m}`);
        assert.match(text, /dryRun/, `${file} makes dry runs`);
      }
    } finally {
      await a.stop();
    }
  });
});
