/**
 * A change and its audit record are committed in one LMDB transaction (issue #25): the
 * managed-config pipeline writes the call's record (`ApplyOptions.audit`, from the RPC core's
 * `CallContext.commitAudit`) inside the transaction that commits the state, so a crash or a
 * failing record leaves both or neither — never a change without its record, nor a record of a
 * change that did not happen — and the hash chain stays valid. Real LMDB, real files, real
 * commands (the demo target), a real process killed with SIGKILL, and the real RPC core.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import pino from 'pino';
import { AuditLog } from '../../agent/audit.js';
import { answerOf, changeState } from '../../agent/config-set/change.js';
import { ConfigSet, type ManagedConfig } from '../../agent/config-set/index.js';
import type { ServiceFactory } from '../../agent/deps.js';
import { createRunner } from '../../agent/runner.js';
import { openStore, type Store } from '../../agent/store.js';
import { defineMethod } from '../../rpc/registry.js';
import { startTestAgent } from '../helpers/agent.js';
import { entry, tempDir } from '../helpers/paths.js';
import { type DemoState, demoTarget, files } from './demo-target.js';

let tmp: { dir: string; cleanup: () => void };
let store: Store;
let audit: AuditLog;
let m: ManagedConfig<DemoState>;

async function open(): Promise<void> {
  store = await openStore({ path: path.join(tmp.dir, 'lmdb') });
  audit = new AuditLog(store.db('audit'));
  const set = new ConfigSet({
    db: store.db('config'),
    journalDir: path.join(tmp.dir, 'journal'),
    runner: createRunner(),
    log: pino({ level: 'silent' }),
    audit,
  });
  m = set.register(demoTarget({ dir: tmp.dir }));
  await set.recoverAll();
}

const record = (method: string) => () => {
  audit.append({ user: 'tester', transport: 'internal', method, outcome: 'ok' });
};
/** The audit records on disk (after everything queued is written). */
async function records() {
  await store.root.flushed;
  return [...store.db('audit').getRange({})].map(({ value }) => (value as { method: string }).method);
}
const mainFile = () => readFileSync(files(tmp.dir).main, 'utf8');

describe('the pipeline commits the audit record with the change', () => {
  beforeEach(async () => {
    tmp = tempDir('calypso-audit-txn-');
    await open();
    await m.apply({ value: 'before' }, { user: 'tester', summary: 'first', audit: record('demo.first') });
  });
  afterEach(async () => {
    await store.close();
    tmp.cleanup();
  });

  it('a change with its record: both are there, the chain verifies', async () => {
    const r = await m.apply(
      { value: 'after' },
      { user: 'tester', summary: 's', audit: record('demo.second') },
    );
    assert.equal(r.version, 2);
    assert.deepEqual(m.state(), { value: 'after' });
    assert.deepEqual(await records(), ['demo.first', 'demo.second']);
    assert.equal(audit.verify().ok, true);
  });

  it('the record failing inside the commit: neither the change nor the record, files put back', async () => {
    await assert.rejects(
      m.apply(
        { value: 'lost' },
        {
          user: 'tester',
          summary: 's',
          audit: () => {
            record('demo.lost')();
            throw new Error('injected: the audit write failed');
          },
        },
      ),
      /injected/,
    );
    assert.deepEqual(m.state(), { value: 'before' }, 'the state was not committed');
    assert.deepEqual(
      m.history().map((v) => v.version),
      [1],
    );
    assert.match(mainFile(), /before/, 'the previous file is back');
    assert.deepEqual(await records(), ['demo.first'], 'no record of a change that did not happen');
    // the chain in memory follows the database: the next record links on and verifies
    record('demo.next')();
    assert.deepEqual(await records(), ['demo.first', 'demo.next']);
    assert.deepEqual(audit.verify(), { ok: true, checked: 2 });
  });

  it('killed (SIGKILL) at the moment the record is written: neither, after recovery', async () => {
    await store.close();
    const c = spawn(process.execPath, [...entry('test/config-set/audit-child'), tmp.dir, 'lost'], {
      stdio: 'ignore',
    });
    const signal = await new Promise<NodeJS.Signals | null>((r) => c.once('exit', (_code, sig) => r(sig)));
    assert.equal(signal, 'SIGKILL', 'the child died at the record');
    await open();
    assert.deepEqual(m.state(), { value: 'before' }, 'the change is not committed');
    assert.deepEqual(
      m.history().map((v) => v.version),
      [1],
    );
    assert.match(mainFile(), /before/, 'recovery put the previous file back');
    assert.deepEqual(await records(), ['demo.first'], 'and no record of it either');
    assert.equal(audit.verify().ok, true);
  });
});

/** A subsystem with one pipeline-backed method, as every subsystem makes its changes. */
const demoService: ServiceFactory = (deps) => {
  const managed = deps.configSet.register(demoTarget({ dir: path.join(deps.layout.prefix, 'demo') }));
  return {
    name: 'demo',
    methods: [
      defineMethod({
        name: 'demo.value.set',
        summary: 'Set the demo value',
        params: Type.Object({ value: Type.String({ pattern: '^[a-z]+$' }) }, { additionalProperties: false }),
        result: Type.Unknown(),
        role: 'admin',
        mutating: true,
        handler: async (p, ctx) =>
          answerOf(
            ctx,
            await changeState(managed, ctx, `set ${p.value}`, () => ({ state: { value: p.value } }), {
              check: () => [],
            }),
          ),
      }),
    ],
  };
};

describe('through the RPC core: one record per call, committed with the change', () => {
  it('ok, dry run and a failing record', { timeout: 60_000 }, async () => {
    const t = await startTestAgent({ services: [demoService] });
    try {
      const mine = async () =>
        (
          (await t.call('audit.query', { method: 'demo.value.set', limit: 50 })) as {
            items: { outcome: string; params: { value: string } }[];
          }
        ).items
          .map((r) => `${r.outcome} ${r.params.value}`)
          .reverse();
      const managed = t.deps.configSet.get('demo')!;
      await t.call('demo.value.set', { value: 'one' });
      await t.call('demo.value.set', { value: 'two', dryRun: true });
      assert.deepEqual(await mine(), ['ok one', 'dry-run two'], 'one record per call, none twice');
      assert.deepEqual(managed.state(), { value: 'one' });
      // the sink fails the success record once: the change is undone, the failure is recorded
      const append = t.deps.audit.append.bind(t.deps.audit);
      let failed = false;
      t.deps.audit.append = (e) => {
        if (!failed && e.method === 'demo.value.set' && e.outcome === 'ok') {
          failed = true;
          throw new Error('injected: the audit write failed');
        }
        return append(e);
      };
      await assert.rejects(t.call('demo.value.set', { value: 'three' }));
      assert.ok(failed);
      assert.deepEqual(managed.state(), { value: 'one' }, 'no change without its record');
      assert.deepEqual(await mine(), ['ok one', 'dry-run two', 'error three']);
      await t.call('demo.value.set', { value: 'four' });
      assert.deepEqual(managed.state(), { value: 'four' });
      assert.equal(((await t.call('audit.verify', {})) as { ok: boolean }).ok, true);
    } finally {
      await t.stop();
    }
  });
});
