/**
 * The iSCSI page's data module (cockpit/src/data/iscsi.ts), bundled by esbuild as the plugin
 * gets it: its pure view functions (sizes, the zvol LUN draft, CHAP and drift in words), and its
 * calls against an in-process agent with the iSCSI service on the SCST backend over the recorded
 * sysfs tree (test/fixtures/scst-sysfs) and the suite's fake runner in place of scstadmin and
 * zfs — the params it sends pass the agent's schemas, each plan is the method's dry run, and the
 * real run then does exactly what the plan listed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { scstBackendFactory } from '../../agent/iscsi/backend-scst.js';
import { iscsiSubsystem } from '../../agent/iscsi/service.js';
import { zfsSubsystem } from '../../agent/zfs/service.js';
import type { RpcError } from '../../rpc/errors.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { type FakeRunner, fakeRunner } from '../helpers/fake-runner.js';
import { repoRoot } from '../helpers/paths.js';
import { SYSROOT } from '../iscsi/scst-state.js';

// the module's shape as this test uses it (the root tsconfig leaves browser code out)
type Client = {
  call(m: string, p: Record<string, unknown>): Promise<unknown>;
  items(m: string, p: Record<string, unknown>): Promise<unknown[]>;
};
interface Plan {
  dryRun: true;
  commands: string[][];
  files?: { path: string; diff: string }[];
  notes?: string[];
}
interface Applied {
  changed: string[];
  commands: string[][];
  notes: string[];
  skipped?: string[];
}
interface Mutation<A extends unknown[]> {
  method: string;
  params(...a: A): Record<string, unknown>;
  plan(c: Client, ...a: A): Promise<Plan>;
  run(c: Client, ...a: A): Promise<Applied>;
}
type Draft = {
  target: string;
  dataset: string;
  size: string;
  thin: boolean;
  volblocksize: string;
  blockSize: 512 | 4096;
  lun?: number;
  create: boolean;
};
type DriftItem = { target: string; kind: string; what: string; desired?: string; running?: string };
type Target = {
  iqn: string;
  chap?: { user: string; mutualUser?: string };
  chapSecretSet: boolean;
  luns: { lun: number; backing: { kind: string; dataset?: string }; blockSize: number }[];
  sessions: number;
};
interface Data {
  parseSize(t: string): number | undefined;
  roundToBlock(b: number, v: string): number;
  newZvolLunDraft(target: string, pool?: string): Draft;
  zvolLunProblems(d: Draft): string[];
  zvolLunParams(d: Draft): Record<string, unknown>;
  chapLabel(t: { chap?: { user: string; mutualUser?: string } }): string;
  driftSentence(i: DriftItem): string;
  driftByTarget(i: DriftItem[]): { target: string; lines: string[] }[];
  argvLine(a: string[]): string;
  groupLunsLabel(g: { luns: { lun: number; target: number }[] }): string;
  parsePortals(t: string): { portals: { address: string; port: number }[] } | { problem: string };
  iscsiStatus(c: Client): Promise<{ backend: string | null; available: boolean; reason: string }>;
  listTargets(c: Client): Promise<Target[]>;
  listSessions(c: Client): Promise<{ target: string; initiator: string }[]>;
  drift(c: Client): Promise<{ inSync: boolean; items: DriftItem[] }>;
  createTarget: Mutation<[{ iqn: string; portals?: unknown[]; chap?: Record<string, string> }]>;
  createZvolLun: Mutation<[Draft]>;
  createGroup: Mutation<[string, string, string[]]>;
  deleteLun: Mutation<[string, number, boolean?]>;
  reapply: Mutation<[]>;
  adopt: Mutation<[]>;
}

const IQN = 'iqn.2026-12.org.calypso:ui';
const SECRET = 'Ui-chap-secret1';

let data: Data;
let a: TestAgent;
let runner: FakeRunner;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'calypso-iscsi-ui-'));
// the plugin's AgentClient in miniature: call, and items of a list (`{ items, total }`)
const client = (): Client => ({
  call: (m, p) => a.call(m, p),
  items: async (m, p) => (await a.call<{ items: unknown[] }>(m, p)).items,
});

before(async () => {
  const out = path.join(tmp, 'iscsi.mjs');
  await esbuild.build({
    entryPoints: [path.join(repoRoot(), 'cockpit/src/data/iscsi.ts')],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    logLevel: 'silent',
  });
  data = (await import(pathToFileURL(out).href)) as Data;
  runner = fakeRunner(() => '');
  a = await startTestAgent({
    sysroot: SYSROOT,
    runner,
    services: [iscsiSubsystem([scstBackendFactory]), zfsSubsystem],
  });
});

after(async () => {
  await a?.stop();
  rmSync(tmp, { recursive: true, force: true });
  await esbuild.stop(); // esbuild's service process: nothing of this file outlives it
});

describe('cockpit data/iscsi.ts: view functions', () => {
  it('reads sizes in binary units and rounds a zvol to its volblocksize', () => {
    assert.equal(data.parseSize('10G'), 10 * 2 ** 30);
    assert.equal(data.parseSize('1.5 TiB'), 1.5 * 2 ** 40);
    assert.equal(data.parseSize('512 MB'), 512 * 2 ** 20);
    assert.equal(data.parseSize('1048576'), 2 ** 20);
    for (const bad of ['', 'ten', '-1G', '10X', '0']) assert.equal(data.parseSize(bad), undefined, bad);
    assert.equal(data.roundToBlock(2 ** 20 + 1, '16K'), 2 ** 20 + 16384);
    assert.equal(data.roundToBlock(2 ** 20, '16K'), 2 ** 20);
  });

  it('a zvol LUN draft becomes iscsi.lun.create params, or its problems in words', () => {
    const d = { ...data.newZvolLunDraft(IQN), dataset: 'tank/vm1', size: '1048577', volblocksize: '8K' };
    assert.deepEqual(data.zvolLunParams(d), {
      target: IQN,
      backing: { kind: 'zvol', dataset: 'tank/vm1' },
      blockSize: 512,
      create: { sizeBytes: 1056768, thin: true, volblocksize: '8K' },
    });
    // an existing zvol: no create, no size
    assert.deepEqual(data.zvolLunParams({ ...d, create: false, size: 'whatever', lun: 4, blockSize: 4096 }), {
      target: IQN,
      backing: { kind: 'zvol', dataset: 'tank/vm1' },
      blockSize: 4096,
      lun: 4,
    });
    assert.equal(data.zvolLunProblems(d).length, 0);
    const bad = { ...d, dataset: 'tank', size: '12 bananas', lun: 300 };
    const p = data.zvolLunProblems(bad);
    assert.equal(p.length, 3, p.join(' / '));
    assert.match(p[0]!, /pool\/name/);
    assert.throws(() => data.zvolLunParams(bad), /pool\/name/);
    assert.match(data.zvolLunProblems({ ...d, dataset: 'tank/v;reboot' })[0]!, /pool\/name/);
    assert.match(data.zvolLunProblems({ ...d, size: '512K' })[0]!, /at least 1 MiB/);
  });

  it('reads portals as typed (port 3260 by default, IPv6 in brackets), or names the entry it cannot read', () => {
    assert.deepEqual(data.parsePortals('192.0.2.10:3261, [2001:db8::1]:3262 0.0.0.0 ::'), {
      portals: [
        { address: '192.0.2.10', port: 3261 },
        { address: '2001:db8::1', port: 3262 },
        { address: '0.0.0.0', port: 3260 },
        { address: '::', port: 3260 },
      ],
    });
    assert.deepEqual(data.parsePortals(''), { portals: [] });
    assert.match(
      (data.parsePortals('host.example:3260') as { problem: string }).problem,
      /host\.example:3260/,
    );
    assert.ok('problem' in data.parsePortals('10.0.0.1:99999'));
  });

  it('CHAP shows user names only; drift items read as sentences grouped by target', () => {
    assert.equal(data.chapLabel({}), 'none');
    assert.equal(data.chapLabel({ chap: { user: 'esx' } }), 'esx');
    assert.equal(data.chapLabel({ chap: { user: 'esx', mutualUser: 'calypso' } }), 'esx (mutual: calypso)');
    const items: DriftItem[] = [
      { target: 'A', kind: 'missing', what: 'lun 1', desired: '/dev/zvol/tank/v1' },
      { target: 'B', kind: 'extra', what: 'target' },
      { target: 'A', kind: 'different', what: 'chap', desired: 'esx', running: '(none)' },
    ];
    assert.deepEqual(data.driftByTarget(items), [
      {
        target: 'A',
        lines: [
          'lun 1 is configured but not running (/dev/zvol/tank/v1)',
          'chap differs: configured esx, running (none)',
        ],
      },
      { target: 'B', lines: ['the target runs but is not configured'] },
    ]);
    assert.equal(
      data.argvLine(['zfs', 'create', '-V', '1024', '--', 'tank/a b']),
      "zfs create -V 1024 -- 'tank/a b'",
    );
    assert.equal(
      data.groupLunsLabel({
        luns: [
          { lun: 0, target: 2 },
          { lun: 1, target: 1 },
        ],
      }),
      '0→2, 1',
    );
  });
});

describe('cockpit data/iscsi.ts against the agent (SCST over recorded sysfs)', () => {
  it('status names the backend; drift lists what runs unconfigured; sessions come from the running target', async () => {
    const s = await data.iscsiStatus(client());
    assert.equal(s.backend, 'scst');
    assert.equal(s.available, true);
    const d = await data.drift(client());
    assert.equal(d.inSync, false);
    const extra = d.items.filter((i) => i.kind === 'extra' && i.what === 'target').map((i) => i.target);
    assert.ok(extra.includes('iqn.2026-01.com.example:store'), JSON.stringify(d.items));
    const sessions = await data.listSessions(client());
    assert.ok(
      sessions.some(
        (x) =>
          x.target === 'iqn.2026-01.com.example:store' && x.initiator === 'iqn.2026-01.com.example:host1',
      ),
    );
  });

  it('a target with CHAP: plan = dry run (nothing runs), the real run does what it listed; the secret never comes back', async () => {
    const t = {
      iqn: IQN,
      portals: [{ address: '127.0.0.1', port: 3260 }],
      chap: { user: 'esx', secret: SECRET },
    };
    runner.clear();
    const plan = await data.createTarget.plan(client(), t);
    assert.equal(plan.dryRun, true);
    assert.deepEqual(runner.calls, [], 'a plan runs nothing');
    assert.equal((await data.listTargets(client())).length, 0, 'a plan changes nothing');
    assert.ok(!JSON.stringify(plan).includes(SECRET));
    const real = await data.createTarget.run(client(), t);
    assert.deepEqual(real.commands, plan.commands);
    assert.deepEqual(runner.calls, plan.commands);
    const [listed] = await data.listTargets(client());
    assert.equal(listed?.iqn, IQN);
    assert.equal(data.chapLabel(listed!), 'esx');
    assert.equal(listed?.chapSecretSet, true);
    assert.ok(!JSON.stringify(await data.listTargets(client())).includes(SECRET));
  });

  it('the zvol LUN dialog: its plan starts with zfs create, and the real run creates the zvol then applies', async () => {
    const draft = { ...data.newZvolLunDraft(IQN), dataset: 'tank/ui-vm0', size: '64M', volblocksize: '16K' };
    runner.clear();
    const plan = await data.createZvolLun.plan(client(), draft);
    assert.deepEqual(runner.calls, []);
    assert.deepEqual(plan.commands[0], [
      'zfs',
      'create',
      '-s',
      '-b',
      '16K',
      '-V',
      String(64 << 20),
      '--',
      'tank/ui-vm0',
    ]);
    assert.ok(
      plan.commands.some((c) => c[0] === 'scstadmin'),
      JSON.stringify(plan.commands),
    );
    assert.ok(
      (plan.files ?? []).some((f) => f.diff.includes('/dev/zvol/tank/ui-vm0')),
      'scst.conf gains the LUN',
    );
    const real = await data.createZvolLun.run(client(), draft);
    assert.deepEqual(real.commands, plan.commands);
    assert.deepEqual(runner.calls, plan.commands);
    const [t] = await data.listTargets(client());
    assert.deepEqual(
      t?.luns.map((l) => [l.lun, l.backing.dataset, l.blockSize]),
      [[0, 'tank/ui-vm0', 512]],
    );
  });

  it('bad input from the page is the agent’s `invalid`, and a group maps the target’s LUNs', async () => {
    await assert.rejects(
      data.createGroup.run(client(), IQN, 'hosts', ['not an iqn']),
      (e: RpcError) => e.kind === 'invalid',
    );
    const plan = await data.createGroup.plan(client(), IQN, 'hosts', ['iqn.2026-12.org.example:esx1']);
    assert.ok(plan.files?.some((f) => f.diff.includes('iqn.2026-12.org.example:esx1')));
    await data.createGroup.run(client(), IQN, 'hosts', ['iqn.2026-12.org.example:esx1']);
  });

  it('re-apply and adopt: each plan is its dry run; adopt takes the running targets over', async () => {
    runner.clear();
    const plan = await data.reapply.plan(client());
    assert.deepEqual(runner.calls, []);
    const real = await data.reapply.run(client());
    assert.deepEqual(real.commands, plan.commands);
    const ad = await data.adopt.plan(client());
    assert.deepEqual(runner.calls, plan.commands, 'the adopt plan ran nothing');
    const done = await data.adopt.run(client());
    assert.deepEqual(done.commands, ad.commands);
    const iqns = (await data.listTargets(client())).map((t) => t.iqn);
    assert.ok(iqns.includes('iqn.2026-01.com.example:store'), iqns.join(' '));
  });
});
