/**
 * The tgt plan and targets file, pure: what tgtadm commands a desired state needs from a
 * given running state (parsed from output recorded from the real tgtd here), and what
 * targets.conf says. The end-to-end test (agent-tgt.test.ts) runs these commands for real.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { IscsiState, Lun, Target } from '../../agent/iscsi/model.js';
import { parseTgtAccounts, parseTgtadmShow, parseTgtPortals } from '../../agent/iscsi/parse-tgtadm-show.js';
import { redactTgt, renderTargetsConf } from '../../agent/iscsi/render-tgt.js';
import { encodeRequest } from '../../agent/iscsi/tgt-mgmt.js';
import { fingerprint, planTgt, type TgtRunning, tgtLive } from '../../agent/iscsi/tgt-plan.js';
import { repoRoot } from '../helpers/paths.js';

const IQN = 'iqn.2026-12.test:t1';
const backingPath = (l: Lun) =>
  l.backing.kind === 'zvol' ? `/dev/zvol/${l.backing.dataset}` : `/tmp/isl/${l.backing.name}`;
const secrets: Record<string, string> = {
  ISCSI_T1_CHAP_SECRET: 'Secret-one.123',
  ISCSI_T2_CHAP_SECRET: 'Other-secret.12',
};
const opts = (applied = new Map<string, string>()) => ({
  control: 5,
  backingPath,
  secret: (k: string) => secrets[k],
  applied,
});

const lun = (n: number, o: Partial<Lun> = {}): Lun => ({
  lun: n,
  backing: { kind: 'file', name: `lun${n}.img`, sizeBytes: 8 << 20 },
  blockSize: 512,
  readonly: false,
  cache: 'write-back',
  serial: `CAL000${n}`,
  naa: `cal${n}`,
  ...o,
});
const target = (o: Partial<Target> = {}): Target => ({
  tid: 1,
  iqn: IQN,
  portals: [],
  luns: [lun(1)],
  groups: [],
  enabled: true,
  ...o,
});

const recorded = parseTgtadmShow(
  readFileSync(path.join(repoRoot(), 'test/fixtures/tgt/show-target.txt'), 'utf8'),
);
const empty: TgtRunning = { targets: [], accounts: [], portals: ['127.0.0.1:3260'] };
const ops = (cmds: { shown: string[] }[]) => cmds.map((c) => c.shown.slice(5).join(' '));

describe('tgt plan', () => {
  it('an empty tgtd: target, LUN with its identity, ACL ALL', () => {
    assert.deepEqual(ops(planTgt({ targets: [target()] }, empty, opts())), [
      `--mode target --op new --tid 1 -T ${IQN}`,
      '--mode logicalunit --op new --tid 1 --lun 1 -b /tmp/isl/lun1.img --blocksize=512',
      '--mode logicalunit --op update --tid 1 --lun 1 --params scsi_sn=CAL0001,scsi_id=cal1,vendor_id=CALYPSO,readonly=0',
      '--mode target --op bind --tid 1 -I ALL',
    ]);
  });

  it('what runs (recorded) already matches: only the differences are planned', () => {
    const running: TgtRunning = { targets: recorded, accounts: ['u1'], portals: [] };
    const want: IscsiState = {
      targets: [
        target({
          groups: [{ name: 'g', initiators: ['iqn.2026-12.test:ini'], luns: [] }],
          chap: { user: 'u1' },
        }),
      ],
    };
    // the recorded ACL also has the address 127.0.0.1; the account u1 was not set by this agent
    assert.deepEqual(ops(planTgt(want, running, opts())), [
      '--mode account --op delete --user u1',
      '--mode account --op new --user u1 --password ********',
      '--mode target --op unbind --tid 1 -I 127.0.0.1',
      '--mode account --op bind --tid 1 --user u1',
    ]);
    // once this agent has set u1's secret, nothing is left to do
    const applied = new Map([['u1', fingerprint('u1', secrets.ISCSI_T1_CHAP_SECRET!)]]);
    const withAddr = planTgt(want, running, opts(applied));
    assert.deepEqual(ops(withAddr), ['--mode target --op unbind --tid 1 -I 127.0.0.1']);
  });

  it('the secret is only in the management-socket request, never in an argv or what is shown', () => {
    const [acc] = planTgt({ targets: [target({ chap: { user: 'u1' } })] }, empty, opts()).filter(
      (c) => c.account,
    );
    assert.ok(!acc!.argv.some((a) => a.includes('Secret-one.123')), 'no argv carries it (issue #28 item 8)');
    assert.ok(!acc!.shown.includes('Secret-one.123'));
    const bytes = encodeRequest(acc!.mgmt!);
    assert.ok(bytes.includes('user=u1,password=Secret-one.123\0'), 'the socket request carries it');
    assert.equal(bytes.readUInt32LE(72), bytes.length, 'the header holds the whole length');
    assert.equal(acc!.account?.fingerprint, fingerprint('u1', 'Secret-one.123'));
  });

  it('a LUN whose backing or identity changed is recreated; readonly alone is an update', () => {
    const running: TgtRunning = { targets: recorded, accounts: [], portals: [] };
    const base = { groups: [{ name: 'g', initiators: ['iqn.2026-12.test:ini'], luns: [] }] };
    const moved = ops(
      planTgt(
        { targets: [target({ ...base, luns: [lun(1, { backing: { kind: 'zvol', dataset: 'tank/vm' } })] })] },
        running,
        opts(),
      ),
    );
    assert.deepEqual(moved.slice(0, 3), [
      '--mode logicalunit --op delete --tid 1 --lun 1',
      '--mode logicalunit --op new --tid 1 --lun 1 -b /dev/zvol/tank/vm --blocksize=512',
      '--mode logicalunit --op update --tid 1 --lun 1 --params scsi_sn=CAL0001,scsi_id=cal1,vendor_id=CALYPSO,readonly=0',
    ]);
    const ro = ops(
      planTgt({ targets: [target({ ...base, luns: [lun(1, { readonly: true })] })] }, running, opts()),
    );
    assert.equal(ro[0], '--mode logicalunit --op update --tid 1 --lun 1 --params readonly=1');
  });

  it('write-through sets tgt’s caching mode page with WCE cleared', () => {
    const p = ops(
      planTgt({ targets: [target({ luns: [lun(1, { cache: 'write-through' })] })] }, empty, opts()),
    );
    assert.ok(p.some((c) => /mode_page=8:0:18:0x10:/.test(c)));
  });

  it('targets not desired or under another number are deleted; unused accounts too', () => {
    const running: TgtRunning = { targets: recorded, accounts: ['u1', 'old'], portals: [] };
    const p = ops(planTgt({ targets: [target({ tid: 2 })] }, running, opts()));
    assert.equal(p[0], '--mode target --op delete --force --tid 1');
    assert.ok(p.includes(`--mode target --op new --tid 2 -T ${IQN}`));
    assert.ok(p.includes('--mode account --op delete --user u1'));
    assert.ok(p.includes('--mode account --op delete --user old'));
  });

  it('refuses what tgt cannot do, before any command', () => {
    assert.throws(() => planTgt({ targets: [target({ luns: [lun(0)] })] }, empty, opts()), /LUN 0/);
    const two: IscsiState = {
      targets: [
        target({ chap: { user: 'same' } }),
        target({ tid: 2, iqn: 'iqn.2026-12.test:t2', luns: [], chap: { user: 'same' } }),
      ],
    };
    assert.throws(() => planTgt(two, empty, opts()), /one password per user/);
    assert.throws(
      () => planTgt({ targets: [target({ tid: 3, chap: { user: 'x' } })] }, empty, opts()),
      /missing from secrets\.env/,
    );
  });

  it('portals: missing ones added, a wildcard on the port covers any address', () => {
    const p = (running: string[]) =>
      ops(
        planTgt(
          {
            targets: [
              target({
                portals: [
                  { address: '127.0.0.1', port: 3261 },
                  { address: '::1', port: 3261 },
                ],
              }),
            ],
          },
          { ...empty, portals: running },
          opts(),
        ),
      ).filter((c) => c.includes('portal'));
    assert.deepEqual(p([]), [
      '--mode portal --op new --param portal=127.0.0.1:3261',
      '--mode portal --op new --param portal=[::1]:3261',
    ]);
    assert.deepEqual(p(['0.0.0.0:3261', '[::]:3261']), []);
  });

  it('maps tgtadm show into the shared live shape (controller LUN left out)', () => {
    const live = tgtLive(recorded);
    const t = live.targets[0]!;
    assert.deepEqual(
      t.luns.map((l) => l.lun),
      [1],
    );
    assert.equal(t.luns[0]!.serial, 'CAL0001');
    assert.equal(t.allowAll, false);
    assert.deepEqual(t.initiators, ['127.0.0.1', 'iqn.2026-12.test:ini']);
    assert.deepEqual(t.chapUsers, ['u1']);
  });

  it('parses account and portal listings as tgtadm prints them', () => {
    assert.deepEqual(parseTgtAccounts('Account list:\n    m1\n    u1\n'), ['m1', 'u1']);
    assert.deepEqual(parseTgtPortals('Portal: 127.0.0.1:13999,1\nPortal: [::]:3260,1\n'), [
      '127.0.0.1:13999',
      '[::]:3260',
    ]);
  });
});

describe('targets.conf', () => {
  const state: IscsiState = {
    targets: [
      target({
        chap: { user: 'u1', mutualUser: 'm1' },
        groups: [{ name: 'g', initiators: ['iqn.2026-12.test:ini'], luns: [] }],
      }),
      target({ tid: 2, iqn: 'iqn.2026-12.test:off', luns: [], enabled: false }),
    ],
  };
  const text = renderTargetsConf(state, { backingPath, secrets: { get: (k) => secrets[k] } });

  it('says what tgt-admin would set up, and redacts the secrets for diffs', () => {
    assert.match(
      text,
      /<target iqn\.2026-12\.test:t1>\n {4}<backing-store \/tmp\/isl\/lun1\.img>\n {8}lun 1\n {8}scsi_sn CAL0001/,
    );
    assert.match(text, /initiator-name iqn\.2026-12\.test:ini/);
    assert.doesNotMatch(text, /initiator-address ALL/);
    assert.match(text, /incominguser u1 Secret-one\.123/);
    assert.match(text, /# iqn\.2026-12\.test:off \(target 2\) is disabled/);
    const red = redactTgt(text);
    assert.doesNotMatch(red, /Secret-one/);
    assert.match(red, /incominguser u1 \*{8}/);
    assert.match(red, /outgoinguser m1 \*{8}/);
  });
});
