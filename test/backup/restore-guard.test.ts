/**
 * Who may restore where (issue #28 item 1), with the real Bacula daemons of test/backup/lab.ts:
 * a root-owned 0600 file is backed up and then changed; an operator asking for `where: "/"`
 * with `replace: "always"` — to the appliance's own file daemon or to another client — or for a
 * directory outside the client's restore roots is refused and the file keeps its new content;
 * an operator's restore into a restore root of a client succeeds; nobody's restore goes through
 * a symbolic link on the appliance. "remote-fd" is a second client resource pointing at the
 * lab's file daemon (same password), so that a restore "to another client" really runs.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FD_KEY } from '../../agent/backup/secrets.js';
import type { JobRecord } from '../../agent/jobs.js';
import type { Role } from '../../rpc/roles.js';
import { type Lab, startLab } from './lab.js';

const kindOf = (e: unknown) => (e as { data?: { kind?: string } } | undefined)?.data?.kind;

describe('restore rules with the real Bacula daemons', { timeout: 300_000 }, () => {
  let lab: Lab;
  let data: string;
  let secretFile: string;
  let roots: string;
  let jobId = 0;
  const restore = async (role: Role, params: Record<string, unknown>): Promise<JobRecord> => {
    const { job } = await lab.t.call<{ job: string }>('backup.restore', params, { role, user: `x-${role}` });
    return lab.t.waitJob(job);
  };

  before(async () => {
    lab = await startLab();
    data = path.join(lab.t.prefix, 'data');
    roots = path.join(lab.t.prefix, 'restores');
    await mkdir(data, { recursive: true });
    secretFile = path.join(data, 'shadow-like');
    await writeFile(secretFile, 'ORIGINAL root-only content\n', { mode: 0o600 });
    await chmod(secretFile, 0o600);
    await lab.t.call('backup.storage.set', { name: 'vault', type: 'disk', devices: 1 });
    await lab.t.call('backup.pool.set', { name: 'daily', storage: 'vault', maxVolumeBytes: 1024 ** 3 });
    await lab.t.call('backup.fileset.set', { name: 'tree', include: [data] });
    await lab.t.call('backup.job.set', {
      name: 'tree-backup',
      client: 'calypso-fd',
      fileset: 'tree',
      pool: 'daily',
    });
    await lab.startAll();
    // the lab's file daemon again, as another client with its own restore root
    await lab.t.call('backup.client.set', {
      name: 'remote-fd',
      address: '127.0.0.1',
      port: lab.ports.fd,
      password: lab.t.deps.secrets.get(FD_KEY),
      restoreRoots: [roots],
    });
    const { job } = await lab.t.call<{ job: string }>('backup.run', { job: 'tree-backup', level: 'Full' });
    const rec = await lab.t.waitJob(job);
    assert.equal(rec.state, 'success', JSON.stringify(rec.error));
    jobId = (rec.result as { jobId: number }).jobId;
    // the admin changes the file after the backup: the attack would put the old content back
    await writeFile(secretFile, 'CHANGED by the admin\n', { mode: 0o600 });
  });
  after(async () => {
    await lab?.stop();
  });

  it('an operator cannot restore over / (appliance or other client), nor outside the restore roots', async () => {
    for (const params of [
      { jobId, where: '/', replace: 'always' },
      { jobId, where: '/', replace: 'always', client: 'remote-fd' },
      { jobId, where: path.join(lab.t.prefix, 'elsewhere'), replace: 'always', client: 'remote-fd' },
      { jobId, where: path.join(roots, 'on-the-appliance'), replace: 'always' },
    ]) {
      // refused at the call when the params decide it (over /, a named client's roots), else
      // as a failed job once the catalog names the job's client (the appliance here)
      const kind = await lab.t
        .call<{ job: string }>('backup.restore', params, { role: 'operator', user: 'x-operator' })
        .then(
          async ({ job }) => {
            const rec = await lab.t.waitJob(job);
            assert.equal(rec.state, 'failed', JSON.stringify(params));
            return kindOf(rec.error);
          },
          (e: unknown) => kindOf(e),
        );
      assert.equal(kind, 'denied', JSON.stringify(params));
      // the dry run is refused alike
      await assert.rejects(
        lab.t.call('backup.restore', { ...params, dryRun: true }, { role: 'operator' }),
        (e: Error) => kindOf(e) === 'denied',
      );
    }
    assert.equal(await readFile(secretFile, 'utf8'), 'CHANGED by the admin\n', 'the file was not put back');
    assert.equal(existsSync(path.join(lab.t.prefix, 'elsewhere')), false);
  });

  it('an operator restores into a restore root of another client', async () => {
    const where = path.join(roots, 'r1');
    const rec = await restore('operator', { jobId, where, client: 'remote-fd' });
    assert.equal(rec.state, 'success', JSON.stringify(rec.error));
    assert.equal(await readFile(path.join(where, secretFile), 'utf8'), 'ORIGINAL root-only content\n');
    assert.equal(await readFile(secretFile, 'utf8'), 'CHANGED by the admin\n');
  });

  it('nobody restores through a symbolic link on the appliance', async () => {
    const target = path.join(lab.t.prefix, 'link-target');
    await mkdir(target);
    const link = path.join(lab.t.prefix, 'innocent');
    await symlink(target, link);
    const rec = await restore('admin', { jobId, where: path.join(link, 'x'), replace: 'always' });
    assert.equal(rec.state, 'failed');
    assert.equal(kindOf(rec.error), 'invalid', rec.error?.message);
    assert.match(rec.error?.message ?? '', /symbolic link/);
    assert.deepEqual(await readdir(target), [], 'nothing was written through the link');
  });
});
