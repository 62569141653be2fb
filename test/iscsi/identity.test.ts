/**
 * LUN identities are per appliance (issue #22): two agents set up alike — same IQN, same LUN,
 * same configuration version — export different serials and NAA ids (the same ones would be
 * merged by multipath: a data-corruption path). One agent keeps a LUN's identity across a
 * restart, a state backup and restore (what an upgrade and its rollback do) and iscsi.apply onto
 * an emptied tgtd; the dry run shows the very serial the real run assigns. Real tgtd, and
 * libiscsi's iscsi-inq reads the serial an initiator sees.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { tgtBackendFactory } from '../../agent/iscsi/backend-tgt.js';
import { iscsiSubsystem } from '../../agent/iscsi/service.js';
import { backupState, restoreState } from '../../agent/release/state-backup.js';
import { startTgtLab, type TgtLab } from '../../sandbox/tgt.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';

const run = promisify(execFile);
const IQN = 'iqn.2026-12.org.calypso:identity';
const SIZE = 4 * 1024 * 1024;

interface Lun {
  lun: number;
  serial: string;
  naa: string;
}

const labs: TgtLab[] = [];
const agents: TestAgent[] = [];
const dirs: { dir: string; cleanup: () => void }[] = [];

function start(lab: TgtLab, prefix: string): Promise<TestAgent> {
  return startTestAgent({
    prefix,
    config: { iscsi: { backend: 'tgt', tgtControlPort: lab.control } },
    services: [iscsiSubsystem([tgtBackendFactory])],
  }).then((t) => {
    agents.push(t);
    return t;
  });
}

async function stop(t: TestAgent): Promise<void> {
  agents.splice(agents.indexOf(t), 1);
  await t.stop();
}

async function luns(t: TestAgent): Promise<Lun[]> {
  const [target] = (await t.call<{ items: { luns: Lun[] }[] }>('iscsi.target.list')).items;
  return target!.luns.map(({ lun, serial, naa }) => ({ lun, serial, naa }));
}

async function inquirySerial(lab: TgtLab, lun: number): Promise<string> {
  const r = await run('iscsi-inq', ['-e', '1', '-c', '128', lab.url(IQN, lun)], { timeout: 20_000 });
  return /Unit Serial Number:\[\s*([A-Za-z0-9]+)\]/.exec(r.stdout)?.[1] ?? '';
}

/** The same calls on an agent: a target and a file LUN; the dry run's plan holds the serial it assigns. */
async function setUp(t: TestAgent, lab: TgtLab): Promise<{ lun: Lun; planned: string }> {
  await t.call('iscsi.target.create', { iqn: IQN, portals: [{ address: '127.0.0.1', port: lab.port }] });
  const lunParams = { target: IQN, backing: { kind: 'file', name: 'id.img', sizeBytes: SIZE } };
  const dry = await t.call<{ commands: string[][] }>('iscsi.lun.create', { ...lunParams, dryRun: true });
  await t.call('iscsi.lun.create', lunParams);
  const [lun] = await luns(t);
  return { lun: lun!, planned: JSON.stringify(dry.commands) };
}

let a: TestAgent;
let b: TestAgent;
let labA: TgtLab;
let labB: TgtLab;
let prefixA: string;

before(async () => {
  labA = await startTgtLab();
  labs.push(labA);
  labB = await startTgtLab();
  labs.push(labB);
  for (let i = 0; i < 2; i++) dirs.push(tempDir('calypso-identity-'));
  prefixA = dirs[0]!.dir;
  a = await start(labA, prefixA);
  b = await start(labB, dirs[1]!.dir);
});
after(async () => {
  for (const t of [...agents]) await t.stop();
  for (const l of labs) await l.stop();
  for (const d of dirs) d.cleanup();
});

describe('LUN identity is per appliance and never changes once exported', () => {
  let first: Lun;

  it('two appliances set up alike export different serials and NAA ids', async () => {
    assert.notEqual(a.deps.store.applianceId(), b.deps.store.applianceId());
    assert.match(a.deps.store.applianceId(), /^[0-9a-f]{32}$/);
    const x = await setUp(a, labA);
    const y = await setUp(b, labB);
    assert.equal(x.lun.lun, y.lun.lun, 'the same LUN number on both');
    assert.notEqual(x.lun.serial, y.lun.serial, 'serials differ');
    assert.notEqual(x.lun.naa, y.lun.naa, 'NAA ids differ');
    assert.ok(
      x.planned.includes(`scsi_sn=${x.lun.serial}`),
      'the dry run shows the serial the real run assigned',
    );
    assert.ok(x.planned.includes(`scsi_id=${x.lun.naa}`), 'and the NAA id');
    assert.equal(await inquirySerial(labA, x.lun.lun), x.lun.serial);
    assert.equal(await inquirySerial(labB, y.lun.lun), y.lun.serial);
    first = x.lun;
  });

  it('a restart keeps the appliance id and the LUN identity', async () => {
    const id = a.deps.store.applianceId();
    await stop(a);
    a = await start(labA, prefixA);
    assert.equal(a.deps.store.applianceId(), id);
    assert.deepEqual(await luns(a), [first]);
  });

  it('a state backup restored (an upgrade and its rollback) keeps them; apply onto an empty tgtd too', async () => {
    const id = a.deps.store.applianceId();
    const layout = a.deps.layout;
    await stop(a);
    const dir = backupState(layout, 'identity-test', { version: 'test', schema: 1 });
    rmSync(layout.lmdbDir, { recursive: true, force: true });
    restoreState(layout, dir);
    a = await start(labA, prefixA);
    assert.equal(a.deps.store.applianceId(), id, 'the appliance id is in the state backup');
    assert.deepEqual(await luns(a), [first]);

    await labA.restart();
    await a.call('iscsi.apply', {});
    assert.deepEqual(await luns(a), [first]);
    assert.equal(await inquirySerial(labA, first.lun), first.serial, 'the initiator sees the same serial');
  });

  it('a LUN deleted and created again is a new disk: a new identity', async () => {
    await a.call('iscsi.lun.delete', { target: IQN, lun: first.lun });
    await a.call('iscsi.lun.create', {
      target: IQN,
      backing: { kind: 'file', name: 'id.img', sizeBytes: SIZE },
    });
    const [again] = await luns(a);
    assert.notEqual(again!.serial, first.serial);
    assert.notEqual(again!.naa, first.naa);
  });
});
