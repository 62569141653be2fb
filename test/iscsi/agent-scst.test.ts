/**
 * The iSCSI service through the agent, on the SCST backend over the recorded sysfs tree (SCST
 * cannot run here: no SCSI layer, no modules) with the suite's fake runner in place of
 * scstadmin. What it shows: the backend choice and its reason; a dry run lists exactly the argv
 * and file the real run then produces; CHAP secrets reach secrets.env and scst.conf only (not
 * results, state, audit); bad input of every kind the issue names is `invalid` and changes no
 * file, no secret, no state and runs nothing; a zvol backing a LUN cannot be destroyed.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { scstBackendFactory } from '../../agent/iscsi/backend-scst.js';
import { iscsiSubsystem } from '../../agent/iscsi/service.js';
import { zfsSubsystem } from '../../agent/zfs/service.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { type FakeRunner, fakeRunner } from '../helpers/fake-runner.js';
import { SYSROOT } from './scst-state.js';

const IQN = 'iqn.2026-12.org.calypso:vm-store';
const SECRET = 'Sup3r-secret.12';
const MUTUAL = 'Mutual-secret14';

interface Plan {
  commands: string[][];
  files?: { path: string; diff?: string }[];
  changed?: string[];
  notes?: string[];
}

let t: TestAgent;
let runner: FakeRunner;
let conf: string;

function snapshot() {
  return {
    conf: existsSync(conf) ? readFileSync(conf, 'utf8') : null,
    secrets: existsSync(t.deps.layout.secretsFile) ? readFileSync(t.deps.layout.secretsFile, 'utf8') : null,
    state: JSON.stringify(t.deps.configSet.get('iscsi')?.state()),
  };
}

before(async () => {
  runner = fakeRunner(() => '');
  t = await startTestAgent({
    sysroot: SYSROOT,
    runner,
    services: [iscsiSubsystem([scstBackendFactory]), zfsSubsystem],
  });
  conf = path.join(t.deps.layout.generated('scst'), 'scst.conf');
});
after(() => t.stop());

describe('iSCSI through the agent on SCST (recorded sysfs, fake scstadmin)', () => {
  it('chooses SCST and says why', async () => {
    const s = await t.call<{ backend: string; available: boolean; reason: string }>('iscsi.status');
    assert.equal(s.backend, 'scst');
    assert.equal(s.available, true);
    assert.match(s.reason, /scst is available/);
  });

  it('a dry run shows exactly what the real run writes and runs; secrets never leave secrets.env and scst.conf', async () => {
    const params = {
      iqn: IQN,
      alias: 'vmstore',
      portals: [{ address: '127.0.0.1', port: 3260 }],
      chap: { user: 'esx', secret: SECRET, mutualUser: 'calypso', mutualSecret: MUTUAL },
    };
    runner.clear();
    const dry = await t.call<Plan>('iscsi.target.create', { ...params, dryRun: true });
    assert.deepEqual(runner.calls, [], 'a dry run runs nothing');
    assert.equal(existsSync(conf), false, 'a dry run writes nothing');
    assert.deepEqual(dry.commands, [
      ['scstadmin', '-check_config', conf],
      ['scstadmin', '-noprompt', '-force', '-config', conf],
    ]);
    assert.ok(!JSON.stringify(dry).includes(SECRET), 'the dry run does not show the secret');
    assert.ok(!JSON.stringify(dry).includes(MUTUAL));

    const real = await t.call<Plan>('iscsi.target.create', params);
    assert.deepEqual(real.commands, dry.commands, 'dry run = real run (argv)');
    assert.deepEqual(runner.calls, dry.commands);
    assert.deepEqual(real.changed, [conf]);
    const text = readFileSync(conf, 'utf8');
    assert.match(text, new RegExp(`TARGET ${IQN.replaceAll('.', '\\.')} \\{`));
    assert.match(text, new RegExp(`IncomingUser "esx ${SECRET}"`));
    assert.equal(statSync(conf).mode & 0o777, 0o600);
    assert.ok(!JSON.stringify(real).includes(SECRET));
    const env = readFileSync(t.deps.layout.secretsFile, 'utf8');
    assert.match(env, new RegExp(`ISCSI_T1_CHAP_SECRET=${SECRET.replaceAll('.', '\\.')}`));
    const list = (
      await t.call<{ items: { chap?: { user: string }; chapSecretSet: boolean }[] }>('iscsi.target.list')
    ).items;
    assert.equal(list[0]?.chap?.user, 'esx');
    assert.equal(list[0]?.chapSecretSet, true);
    assert.ok(!JSON.stringify(list).includes(SECRET));
    assert.ok(!JSON.stringify(t.deps.configSet.get('iscsi')?.state()).includes(SECRET), 'not in LMDB');
    const audit = await t.call<{ items: unknown[] }>('audit.query', { method: 'iscsi.*', limit: 100 });
    assert.ok(audit.items.length >= 2);
    assert.ok(!JSON.stringify(audit).includes(SECRET), 'not in the audit log');
    assert.ok(!JSON.stringify(audit).includes(MUTUAL));
  });

  it('a file-backed LUN: dry run and real run list the same truncate and scstadmin argv', async () => {
    const params = { target: IQN, lun: 0, backing: { kind: 'file', name: 'vm0.img', sizeBytes: 8 << 20 } };
    runner.clear();
    const dry = await t.call<Plan>('iscsi.lun.create', { ...params, dryRun: true });
    assert.deepEqual(runner.calls, []);
    const file = path.join(t.deps.layout.data.iscsi, 'vm0.img');
    assert.equal(existsSync(file), false);
    const real = await t.call<Plan>('iscsi.lun.create', params);
    assert.deepEqual(real.commands, dry.commands);
    assert.ok(dry.commands.some((a) => a[0] === 'truncate' && a.includes(file)));
    assert.match(readFileSync(conf, 'utf8'), new RegExp(`filename ${file.replaceAll('.', '\\.')}`));
  });

  it('every mutating iSCSI method: its dry run lists the argv and files its real run then has', async () => {
    const G = 'iqn.2026-12.org.calypso:second';
    const head = (t.deps.configSet.get('iscsi')?.head()?.version ?? 0) as number;
    const steps: [string, Record<string, unknown>][] = [
      ['iscsi.target.create', { iqn: G, portals: [{ address: '127.0.0.1', port: 3261 }] }],
      ['iscsi.target.update', { iqn: G, set: { alias: 'second', enabled: true } }],
      ['iscsi.target.chap.set', { iqn: G, user: 'host2', secret: 'another-secret1' }],
      ['iscsi.lun.create', { target: G, backing: { kind: 'file', name: 'g0.img', sizeBytes: 4 << 20 } }],
      ['iscsi.lun.update', { target: G, lun: 0, set: { readonly: true, cache: 'write-back' } }],
      [
        'iscsi.group.create',
        {
          target: G,
          name: 'hosts',
          initiators: ['iqn.1998-01.com.vmware:esx01'],
          luns: [{ lun: 5, target: 0 }],
        },
      ],
      [
        'iscsi.group.update',
        {
          target: G,
          name: 'hosts',
          initiators: ['iqn.1998-01.com.vmware:esx02'],
          luns: [{ lun: 0, target: 0 }],
        },
      ],
      ['iscsi.group.delete', { target: G, name: 'hosts' }],
      ['iscsi.target.chap.clear', { iqn: G }],
      ['iscsi.lun.delete', { target: G, lun: 0 }],
      ['iscsi.apply', {}],
      ['iscsi.target.delete', { iqn: G, force: true }],
      ['iscsi.config.restore', { version: head }],
    ];
    for (const [method, params] of steps) {
      const before = snapshot();
      runner.clear();
      const dry = await t.call<Plan>(method, { ...params, dryRun: true });
      assert.deepEqual(runner.calls, [], `${method}: a dry run runs nothing`);
      assert.deepEqual(snapshot(), before, `${method}: a dry run changes nothing`);
      const real = await t.call<Plan>(method, params);
      assert.deepEqual(real.commands, dry.commands, `${method}: the same argv`);
      // the data area and sparse backing files are made by the agent itself (O_NOFOLLOW, never
      // through a link: agent/iscsi/backing-file.ts); every other step ran through the runner
      const inProcess = (c: string[]) => c[0] === 'mkdir' || c[0] === 'truncate';
      assert.deepEqual(
        runner.calls,
        dry.commands.filter((c) => !inProcess(c)),
        `${method}: what ran is what the dry run said`,
      );
      for (const c of dry.commands.filter((x) => x[0] === 'truncate'))
        assert.equal(statSync(c[3]!).size, Number(c[2]), `${method}: ${c[3]} made at its size`);
      assert.deepEqual(
        [...(real.changed ?? [])].sort(),
        (dry.files ?? [])
          .filter((f) => f.diff !== '')
          .map((f) => f.path)
          .sort(),
        `${method}: the files the dry run showed are the ones written`,
      );
    }
  });

  const bad: [string, string, Record<string, unknown>][] = [
    ['a malformed IQN (month 13)', 'iscsi.target.create', { iqn: 'iqn.2026-13.org.calypso:x' }],
    ['a malformed IQN (no date)', 'iscsi.target.create', { iqn: 'iqn.org.calypso:x' }],
    ['an IQN with a space', 'iscsi.target.create', { iqn: 'iqn.2026-12.org.calypso:a b' }],
    ['an IQN with a brace', 'iscsi.target.create', { iqn: 'iqn.2026-12.org.calypso:a}' }],
    ['an IQN with a quote', 'iscsi.target.create', { iqn: 'iqn.2026-12.org.calypso:a"b' }],
    [
      'an alias with shell metacharacters',
      'iscsi.target.create',
      { iqn: 'iqn.2026-12.org.calypso:y', alias: 'x;rm -rf /' },
    ],
    [
      'an alias with a newline',
      'iscsi.target.create',
      { iqn: 'iqn.2026-12.org.calypso:y', alias: 'x\nTARGET y {' },
    ],
    [
      'a portal on an address not of this machine',
      'iscsi.target.create',
      { iqn: 'iqn.2026-12.org.calypso:y', portals: [{ address: '192.0.2.77', port: 3260 }] },
    ],
    [
      'a CHAP secret of 11 characters',
      'iscsi.target.chap.set',
      { iqn: IQN, user: 'esx', secret: 'abcdefghijk' },
    ],
    [
      'a CHAP secret of 17 characters',
      'iscsi.target.chap.set',
      { iqn: IQN, user: 'esx', secret: 'abcdefghijklmnopq' },
    ],
    [
      'a CHAP secret with a quote',
      'iscsi.target.chap.set',
      { iqn: IQN, user: 'esx', secret: 'abcdefgh"jklmn' },
    ],
    ['a CHAP user with a brace', 'iscsi.target.chap.set', { iqn: IQN, user: 'e}x', secret: SECRET }],
    [
      'a duplicate LUN number',
      'iscsi.lun.create',
      { target: IQN, lun: 0, backing: { kind: 'file', name: 'other.img', sizeBytes: 8 << 20 } },
    ],
    [
      'a backing file outside the data area',
      'iscsi.lun.create',
      { target: IQN, backing: { kind: 'file', name: '../../etc/shadow', sizeBytes: 8 << 20 } },
    ],
    [
      'a backing file name with $()',
      'iscsi.lun.create',
      { target: IQN, backing: { kind: 'file', name: '$(reboot).img', sizeBytes: 8 << 20 } },
    ],
    [
      'a zvol name with a semicolon',
      'iscsi.lun.create',
      { target: IQN, backing: { kind: 'zvol', dataset: 'tank/v;reboot' } },
    ],
    [
      'an initiator that is not an IQN',
      'iscsi.group.create',
      { target: IQN, name: 'esx', initiators: ['esx01; reboot'], luns: [{ lun: 0, target: 0 }] },
    ],
    [
      'a group name with a newline',
      'iscsi.group.create',
      { target: IQN, name: 'a\nb', initiators: ['iqn.1998-01.com.vmware:esx01'], luns: [] },
    ],
    [
      'mutual CHAP without its secret',
      'iscsi.target.chap.set',
      { iqn: IQN, user: 'esx', secret: SECRET, mutualUser: 'm' },
    ],
  ];
  for (const [what, method, params] of bad) {
    it(`bad input: ${what} → invalid, nothing changed, nothing run`, async () => {
      const before = snapshot();
      runner.clear();
      await assert.rejects(t.call(method, params), (e: { kind?: string; message?: string }) => {
        assert.equal(e.kind, 'invalid', `${method}: ${e.message}`);
        assert.ok(e.message && e.message.length > 10, 'a message that says what is wrong');
        return true;
      });
      assert.deepEqual(runner.calls, [], 'nothing ran');
      assert.deepEqual(snapshot(), before, 'no file, secret or state changed');
    });
  }

  it('a zvol backing a LUN cannot be destroyed (conflict names the LUN)', async () => {
    await t.call('iscsi.lun.create', {
      target: IQN,
      lun: 3,
      backing: { kind: 'zvol', dataset: 'tank/vm3' },
      create: { sizeBytes: 64 << 20, thin: true, volblocksize: '16K' },
    });
    assert.deepEqual(
      runner.calls.find((a) => a[0] === 'zfs'),
      ['zfs', 'create', '-s', '-b', '16K', '-V', String(64 << 20), '--', 'tank/vm3'],
    );
    runner.clear();
    await assert.rejects(
      t.call('dataset.destroy', { name: 'tank/vm3' }),
      (e: { kind?: string; message?: string }) => {
        assert.equal(e.kind, 'conflict');
        assert.match(e.message ?? '', /iSCSI LUN 3 of iqn\.2026-12\.org\.calypso:vm-store/);
        return true;
      },
    );
    assert.ok(!runner.calls.some((a) => a[0] === 'zfs' && a[1] === 'destroy'), 'zfs destroy never ran');
  });

  it('removing the LUN lifts the hold', async () => {
    await t.call('iscsi.lun.delete', { target: IQN, lun: 3 });
    assert.doesNotThrow(() => t.deps.usage.assertUnused('dataset', 'tank/vm3', false));
  });

  it('iscsi.adopt: the running (recorded) state becomes the desired one, dry run = real run', async () => {
    runner.clear();
    const dry = await t.call<Plan & { skipped: string[] }>('iscsi.adopt', { dryRun: true });
    assert.deepEqual(runner.calls, []);
    const real = await t.call<Plan & { skipped: string[] }>('iscsi.adopt', {});
    assert.deepEqual(real.commands, dry.commands);
    assert.deepEqual(runner.calls, dry.commands);
    const list = (await t.call<{ items: { iqn: string }[] }>('iscsi.target.list')).items;
    assert.deepEqual(list.map((x) => x.iqn).sort(), [
      'iqn.2026-01.com.example:db',
      'iqn.2026-01.com.example:old',
      'iqn.2026-01.com.example:store',
    ]);
  });
});
