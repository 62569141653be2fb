/**
 * The Tape & VTL page's data module (cockpit/src/data/tape.ts), bundled by esbuild as the
 * plugin gets it, driven against an in-process agent with the tape and vtl services over the
 * fake library: the method names and params it sends pass the agent's schemas, two clicks make
 * the right move, an impossible move comes back as the agent's `conflict`, and the wizard's plan
 * is the vtl dry run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { tapeConfig } from '../../agent/tape/config.js';
import { createTapeService } from '../../agent/tape/service.js';
import { createVtlService } from '../../agent/vtl/service.js';
import type { RpcError } from '../../rpc/errors.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { repoRoot } from '../helpers/paths.js';
import { fakeLibrary, readText } from './fake-library.js';

// the module's shape as this test uses it (the root tsconfig leaves browser code out)
type Pick = { kind: 'slot'; index: number; importExport: boolean } | { kind: 'drive'; index: number };
type Status = {
  drives: { index: number; volumeTag?: string }[];
  slots: { index: number; volumeTag?: string; importExport: boolean }[];
};
type Client = { call(m: string, p: Record<string, unknown>): Promise<unknown> };
interface Data {
  moveFor(from: Pick, to: Pick): { method: string } | undefined;
  listChangers(c: Client): Promise<{ id: string }[]>;
  changerStatus(c: Client, id: string): Promise<Status>;
  move(c: Client, id: string, from: Pick, to: Pick): Promise<Status>;
  startInventory(c: Client, id: string): Promise<{ id: string }>;
  vtlStatus(c: Client): Promise<{ available: boolean; personalities: string[] }>;
  planVtl(c: Client, lib: Record<string, unknown>): Promise<{ dryRun: true; commands: string[][] }>;
  listVtl(c: Client): Promise<unknown[]>;
}
let data: Data;
let a: TestAgent;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'calypso-tape-ui-'));
// the data module calls `call(method, params, opts)` and `items(...)` (a list's items) on the client
const client = () =>
  ({
    call: (m: string, p: Record<string, unknown>) => a.call(m, p),
    items: async (m: string, p: Record<string, unknown>) => (await a.call<{ items: unknown[] }>(m, p)).items,
  }) as unknown as Parameters<Data['listChangers']>[0];

before(async () => {
  const out = path.join(tmp, 'tape.mjs');
  await esbuild.build({
    entryPoints: [path.join(repoRoot(), 'cockpit/src/data/tape.ts')],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    logLevel: 'silent',
  });
  data = (await import(pathToFileURL(out).href)) as Data;
  const lib = fakeLibrary(
    readText(path.join(repoRoot(), 'test', 'fixtures', 'mtx', 'written-2drives-24slots-4ie-byid.txt')),
  );
  a = await startTestAgent({
    runner: lib,
    services: [{ name: 'tape', service: createTapeService(), config: tapeConfig }, createVtlService()],
    config: {
      tape: {
        changers: [
          {
            id: 'pbs',
            device: '/dev/tape/by-id/scsi-387408F60F0000',
            drives: [{ device: '/dev/tape/by-id/scsi-D0-nst' }, { device: '/dev/tape/by-id/scsi-D1-nst' }],
          },
        ],
      },
    },
  });
});

after(async () => {
  await a?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('cockpit data/tape.ts against the agent', () => {
  it('two clicks map to the right method', () => {
    const slot = (index: number, importExport = false) => ({ kind: 'slot' as const, index, importExport });
    const drive = (index: number) => ({ kind: 'drive' as const, index });
    assert.equal(data.moveFor(slot(2), drive(0))?.method, 'changer.load');
    assert.equal(data.moveFor(drive(0), slot(6))?.method, 'changer.unload');
    assert.equal(data.moveFor(slot(2), slot(6))?.method, 'changer.transfer');
    assert.equal(data.moveFor(slot(21, true), slot(6))?.method, 'changer.import');
    assert.equal(data.moveFor(slot(2), slot(21, true))?.method, 'changer.export');
    assert.equal(data.moveFor(drive(0), drive(1)), undefined);
  });

  it('lists, reads and moves through the agent; a refused move is the agent’s conflict', async () => {
    const [c] = await data.listChangers(client());
    assert.equal(c!.id, 'pbs');
    const s = await data.changerStatus(client(), 'pbs');
    assert.equal(s.slots.filter((x) => x.importExport).length, 4);
    const after = await data.move(
      client(),
      'pbs',
      { kind: 'slot', index: 2, importExport: false },
      { kind: 'drive', index: 1 },
    );
    assert.equal(after.drives[1]!.volumeTag, 'ARC002L6');
    await assert.rejects(
      data.move(
        client(),
        'pbs',
        { kind: 'slot', index: 6, importExport: false },
        { kind: 'drive', index: 0 },
      ),
      (e: RpcError) => e.kind === 'conflict',
    );
    const back = await data.move(
      client(),
      'pbs',
      { kind: 'drive', index: 1 },
      { kind: 'slot', index: 2, importExport: false },
    );
    assert.equal(back.slots[1]!.volumeTag, 'ARC002L6');
    const job = await data.startInventory(client(), 'pbs');
    assert.equal((await a.waitJob(job.id)).state, 'success');
  });

  it('the wizard’s plan is the vtl dry run; vtl status says why mhvtl cannot run here', async () => {
    const st = await data.vtlStatus(client());
    assert.equal(st.available, false);
    assert.ok(st.personalities.includes('STK-L700'));
    const plan = await data.planVtl(client(), {
      id: 10,
      name: 'vtl1',
      personality: 'STK-L700',
      drives: [8, 8],
      slots: 24,
      mailslots: 4,
      barcodePrefix: 'E0',
      tapes: 2,
      cleaningTapes: 1,
      capacityMB: 5000,
      compression: 1,
    });
    assert.equal(plan.dryRun, true);
    assert.deepEqual(
      plan.commands.map((c) => c[6]),
      ['E00001L8', 'E00002L8', 'CLN010L8'],
    );
    assert.deepEqual(await data.listVtl(client()), [], 'a plan stores nothing');
  });
});
