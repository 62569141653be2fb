/**
 * release.* through the in-process agent (results checked against their schemas): listing,
 * status, unpack-only installs, dry runs, roles, and the refusals that need no supervisor.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { switchCurrent } from '../../agent/release/releases.js';
import { releaseService } from '../../agent/release/service.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';
import { makeTinyRelease } from './helpers.js';

const tmp = tempDir('calypso-release-svc-');
let agent: TestAgent;
const saved = process.env.CALYPSO_RELEASE_CONTROL;

function tinyTarball(version: string): Promise<string> {
  const parent = path.join(tmp.dir, `t-${version}`);
  mkdirSync(parent, { recursive: true });
  const name = `calypso-${version}`;
  return makeTinyRelease(path.join(parent, name), version).then(() => {
    const file = path.join(parent, `${name}.tar.gz`);
    execFileSync('tar', ['-czf', file, '-C', parent, name]);
    return file;
  });
}

before(async () => {
  // No supervisor and no systemd here: the service must say it cannot restart the agent.
  process.env.CALYPSO_RELEASE_CONTROL = 'none';
  agent = await startTestAgent({ services: [releaseService] });
});

after(async () => {
  await agent?.stop();
  if (saved === undefined) delete process.env.CALYPSO_RELEASE_CONTROL;
  else process.env.CALYPSO_RELEASE_CONTROL = saved;
  tmp.cleanup();
});

async function job(method: string, params: Record<string, unknown>) {
  const { job: id } = await agent.call<{ job: string }>(method, params);
  return agent.waitJob(id);
}

describe('release service', () => {
  it('lists nothing on a fresh appliance', async () => {
    const list = await agent.call<{ current?: string; items: unknown[]; upgrade: object }>('release.list');
    assert.equal(list.current, undefined);
    assert.deepEqual(list.items, []);
    assert.deepEqual(list.upgrade, {});
    assert.deepEqual(await agent.call('release.status', {}), {});
  });

  it('unpacks a release without activating it, and lists it', async () => {
    const rec = await job('release.install', { file: await tinyTarball('2.0.0'), activate: false });
    assert.equal(rec.state, 'success', JSON.stringify(rec.error));
    assert.deepEqual(rec.result, { version: '2.0.0', activated: false });
    const list = await agent.call<{ items: { version: string; current: boolean; stateSchema: number }[] }>(
      'release.list',
    );
    assert.deepEqual(
      list.items.map((r) => [r.version, r.current, r.stateSchema]),
      [['2.0.0', false, 1]],
    );
  });

  it('refuses to activate when nothing can restart the agent, before changing anything', async () => {
    await switchCurrent(agent.deps.layout, '2.0.0');
    const file = await tinyTarball('2.1.0');
    const rec = await job('release.install', { file });
    assert.equal(rec.state, 'failed');
    assert.equal((rec.error?.data as { kind?: string } | undefined)?.kind, 'unavailable');
    assert.deepEqual(readdirSync(agent.deps.layout.releases), ['2.0.0']);
    const rb = await job('release.rollback', { version: '2.0.0' });
    assert.equal(rb.state, 'failed');
  });

  it('plans without acting on a dry run', async () => {
    const plan = await agent.call<{ dryRun: true; commands: string[][] }>('release.install', {
      file: '/nonexistent/calypso-9.0.0.tar.gz',
      dryRun: true,
    });
    assert.equal(plan.dryRun, true);
    assert.equal(plan.commands[0]?.[0], 'tar');
    assert.ok(
      plan.commands.some((c) => c.some((a) => a.endsWith('upgrader.js') || a.endsWith('upgrader.ts'))),
    );
    assert.deepEqual(readdirSync(agent.deps.layout.releases), ['2.0.0']);
  });

  it('validates params and roles', async () => {
    await assert.rejects(agent.call('release.install', { file: 'relative.tar.gz' }), /Invalid/i);
    await assert.rejects(
      agent.call('release.install', { file: '/x.tar.gz' }, { role: 'operator' }),
      (e: Error & { kind?: string }) => e.kind === 'denied',
    );
    await assert.rejects(agent.call('release.rollback', { version: '1.0' }), /Invalid/i);
    const list = await agent.call('release.list', {}, { role: 'auditor' });
    assert.ok(list);
  });

  it('says when there is nothing to roll back to', async () => {
    rmSync(path.join(agent.deps.layout.releases, '..', 'current'));
    const rec = await job('release.rollback', { version: '3.3.3' });
    assert.equal(rec.state, 'failed');
    assert.equal((rec.error?.data as { kind?: string } | undefined)?.kind, 'not_found');
  });
});
