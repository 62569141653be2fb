/**
 * The agent's disk fills up under it (a real 8 MB tmpfs holding its whole prefix, then a file
 * taking the rest): a change refused or the agent ending are both acceptable; what is not is a
 * change without its audit record, a record of a change that did not happen, or a broken audit
 * chain once space is back and the agent restarts. (lmdb-js, after a commit that fails with
 * ENOSPC/EIO, rejects every later write and the agent ends: the chain it reads at start is the
 * one on disk, so the in-memory chain can never run ahead of it.)
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';

const root = process.getuid?.() === 0;

describe('a full disk under the agent', {
  timeout: 120_000,
  skip: !root && 'needs root to mount a tmpfs',
}, () => {
  const mnt = path.join(os.tmpdir(), `calypso-diskfull-${process.pid}`);
  const prefix = path.join(mnt, 'prefix');
  const filler = path.join(mnt, 'filler');
  let agent: AgentProcess | undefined;

  before(() => {
    mkdirSync(mnt, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=700', 'calypso-test-diskfull', mnt]);
    mkdirSync(prefix);
  });
  after(async () => {
    await agent?.stop().catch(() => {});
    try {
      execFileSync('umount', [mnt]);
    } catch {
      execFileSync('umount', ['-l', mnt]);
    }
    rmSync(mnt, { recursive: true, force: true });
  });

  const target = (id: string) => ({
    target: { id, kind: 'webhook', webhook: { url: `https://hooks.example/${id}` } },
    secret: `secret-${id}-0123456789`,
  });

  it('a change on a full disk: refused or the agent ends; after restart, change and record agree and the chain verifies', async () => {
    agent = await startAgentProcess({ prefix, config: { log: { level: 'warn' } } });
    let c = await agent.client();
    await c.call('notify.target.set', target('before'));
    c.close();

    // take every free byte but a few KB
    const st = statfsSync(mnt);
    writeFileSync(filler, Buffer.alloc(Math.max(0, st.bavail * st.bsize - 4096)));

    let refused: string | undefined;
    let ended = false;
    try {
      c = await agent.client();
      for (let i = 0; i < 20; i++) await c.call('notify.target.set', target(`full${i}`));
      c.close();
    } catch (err) {
      refused = (err as Error).message;
    }
    // give the agent a moment to end if its store failed under it
    await new Promise((r) => setTimeout(r, 1500));
    ended = agent.proc.exitCode !== null || agent.proc.signalCode !== null;
    assert.ok(
      refused !== undefined || ended,
      'twenty changes on a full disk all answered ok: the disk was not full',
    );

    await agent.stop().catch(() => {});
    rmSync(filler);
    agent = await startAgentProcess({ prefix, config: { log: { level: 'warn' } } });
    c = await agent.client();
    const v = await c.call<{ ok: boolean; checked?: number }>('audit.verify', {});
    assert.equal(v.ok, true, `the audit chain verifies after the disk was full: ${JSON.stringify(v)}`);
    const targets = (
      await c.call<{ items: { target: { id: string } }[] }>('notify.target.list', {})
    ).items.map((t) => t.target.id);
    const audited = (
      await c.call<{ items: { method: string; outcome: string; params?: { target?: { id?: string } } }[] }>(
        'audit.query',
        { method: 'notify.target.set', limit: 100 },
      )
    ).items
      .filter((r) => r.outcome === 'ok')
      .map((r) => r.params?.target?.id)
      .filter((x): x is string => typeof x === 'string');
    assert.ok(
      targets.includes('before'),
      JSON.stringify({ targets, audited, refused, ended, err: agent.stderr().slice(-1500) }),
    );
    assert.deepEqual(
      [...targets].sort(),
      [...new Set(audited)].sort(),
      'every target kept has its ok record, and no ok record without its target',
    );
    // and the agent works again
    await c.call('notify.target.set', target('after'));
    assert.equal((await c.call<{ ok: boolean }>('audit.verify', {})).ok, true);
    c.close();
  });
});
