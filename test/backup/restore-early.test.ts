/**
 * An operator's restore over / (or to a named client outside its restore roots) is refused from
 * the params alone, before the catalog is read (issue #28 item 1): with no Bacula running at all
 * the refusal is `denied` in words, not `unavailable`, for the dry run and the real call alike.
 * The same rules with the real daemons: test/backup/restore-guard.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backupSubsystem } from '../../agent/backup/service.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';

const kindOf = (e: unknown) => (e as { data?: { kind?: string } } | undefined)?.data?.kind;

describe('restore refusals that need no Bacula', () => {
  let t: TestAgent;
  before(async () => {
    t = await startTestAgent({ services: [backupSubsystem] });
  });
  after(async () => {
    await t?.stop();
  });

  for (const dryRun of [true, false]) {
    it(`an operator's restore over / is denied before the catalog is read${dryRun ? ' (dry run)' : ''}`, async () => {
      for (const params of [
        { jobId: 7, where: '/', replace: 'always' },
        { jobId: 7, where: '/./', replace: 'always', client: 'other-fd' },
        { jobId: 7, where: '/srv/elsewhere', replace: 'always', client: 'other-fd' },
      ])
        await assert.rejects(
          t.call('backup.restore', { ...params, dryRun }, { role: 'operator', user: 'olga' }),
          (e: Error) => kindOf(e) === 'denied' && /needs the admin role/.test(e.message),
          JSON.stringify(params),
        );
    });
  }

  it('an admin is not refused by the rules: the call reaches the catalog (here: not available)', async () => {
    await assert.rejects(
      t.call('backup.restore', { jobId: 7, where: '/', replace: 'always', dryRun: true }),
      (e: Error) => kindOf(e) !== 'denied',
    );
  });
});
