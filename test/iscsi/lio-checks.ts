/**
 * iSCSI end to end on LIO, the kernel target, in the kernel lab guest (scripts/lab/run.sh: QEMU with Debian's 6.1
 * kernel and this checkout at the same path): test/iscsi/lio-guest.ts runs there as root, in the boot of
 * test/lab/kernel-paths.test.ts (first, on a guest where nothing else has run yet). There the agent (LIO backend
 * chosen by `auto`, real runner) loads LIO and configures it through configfs; open-iscsi logs in over loopback
 * (CHAP right / wrong / mutual, an initiator outside the group refused), data written through /dev/sdX is read
 * back from the backing file and device, sessions are listed, configfs changed by hand is reported as drift and
 * undone by iscsi.apply, after a reboot-like clear (targetcli clearconfig, modules unloaded) the agent restores
 * LIO at its next start, and every dry run lists exactly the ops its real run performed. Each `LIO-CHECK` line
 * the guest prints is one subtest here (`lioChecks`).
 *
 * CALYPSO_LIO_RECORD=1 also writes the configfs trees the guest recorded to test/fixtures/lio-configfs (the pure
 * tests' fixtures).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { repoRoot } from '../helpers/paths.js';
import type { GuestFile, GuestResult } from '../lab/guest.js';

/** the in-guest script (a plain script, not node:test) */
export const LIO_GUEST = 'test/iscsi/lio-guest';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const EXPECTED = [
  'auto chooses LIO (its modules can be loaded; tgtd does not run)',
  'the first apply loads the LIO modules',
  'the target is in configfs',
  'no CHAP secret in the result; the password write is shown redacted',
  'lio.json is saved with mode 0600',
  'iscsi.lun.create: the dry run lists what the real run ran',
  'in sync: iscsi.apply performs no configfs op',
  'discovery lists the target',
  'CHAP with a wrong secret is refused',
  'an initiator outside the group (no ACL) is refused',
  'CHAP with the right secret logs in',
  'both LUNs appear as disks',
  'the session is listed with its initiator and address',
  'mutual CHAP: a target answering with another secret is not trusted',
  'mutual CHAP logs in',
  'no secret in the audit log',
  'no secret in the config history',
  'drift: the hand changes are reported',
  'apply removes the hand-made target',
  'apply restores the mapped LUN, authentication and the password (shown redacted)',
  'drift after apply: in sync',
  'logs in again after apply',
  'targetcli clearconfig and unloading LIO leave no target',
  'at start the agent restores the configured target into LIO, audited',
  'the restored target has its portal, both LUNs, the ACL with its mapped LUNs and CHAP',
  'after the restore at start: in sync',
  'logs in after the restore at start',
  'what was written before the restart reads back through the restored LUN',
  'a restart with LIO running restores nothing',
  'deleting the target leaves configfs without targets or storage objects',
];

/** The assertions on lio-guest's part of a boot: it ran to the end, made every expected check, each one passed. */
export async function lioChecks(part: GuestFile, t: TestContext, run: GuestResult): Promise<void> {
  const root = repoRoot();
  const checks: Check[] = [];
  for (const line of part.out.split('\n')) {
    if (line.startsWith('LIO-CHECK ')) checks.push(JSON.parse(line.slice(10)) as Check);
    const m = /^LIO-TREE (\S+) (\S+)$/.exec(line);
    if (m && process.env.CALYPSO_LIO_RECORD === '1') {
      const dir = path.join(root, 'test/fixtures/lio-configfs');
      mkdirSync(dir, { recursive: true });
      const json = JSON.parse(Buffer.from(m[2]!, 'base64').toString('utf8'));
      writeFileSync(path.join(dir, `${m[1]}.json`), `${JSON.stringify(json, null, 1)}\n`);
    }
  }
  await t.test('the guest ran the scenario to the end', () => {
    assert.match(
      part.out,
      /^LIO-DONE [0-9]+$/m,
      `lio-guest exit ${part.rc}\n${part.out.slice(-4000)}\n--- lab ---\n${run.log.slice(-4000)}`,
    );
    assert.ok(
      !checks.some((c) => c.name === 'scenario ran to the end'),
      checks.find((c) => c.name === 'scenario ran to the end')?.detail,
    );
  });
  await t.test('every expected check was made', () => {
    const made = new Set(checks.map((c) => c.name));
    assert.deepEqual(
      EXPECTED.filter((n) => !made.has(n)),
      [],
    );
  });
  for (const c of checks) await t.test(c.name, () => assert.ok(c.ok, c.detail));
}
