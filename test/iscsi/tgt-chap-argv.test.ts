/**
 * CHAP secrets never appear on an argv (issue #28 items 8 and 19), on a real tgtd: while the
 * agent creates targets with CHAP (one-way and mutual), an unprivileged poller (uid nobody)
 * reads every /proc/<pid>/cmdline as fast as it can — as the attack did, which caught 14 of 30
 * secrets from `tgtadm --password`. It must catch tgtadm runs (so it is fast enough to see
 * them) and no secret. The accounts are on tgtd (created over its management socket) and an
 * initiator logs in with the right secret only. A secret starting with `--` is refused by the
 * schema in plain words.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { tgtBackendFactory } from '../../agent/iscsi/backend-tgt.js';
import { iscsiSubsystem } from '../../agent/iscsi/service.js';
import { startTgtLab, type TgtLab } from '../../sandbox/tgt.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { POLLER } from './argv-poller.js';

const run = promisify(execFile);
const N = 12;
const secret = (i: number, m = false) => `${m ? 'Mutual' : 'Chap'}-s3cr.${String(i).padStart(4, '0')}`;

describe('CHAP secrets stay off every argv (real tgtd, /proc poller)', { timeout: 180_000 }, () => {
  let lab: TgtLab;
  let t: TestAgent;
  let poller: ChildProcess | undefined;

  before(async () => {
    lab = await startTgtLab();
    t = await startTestAgent({
      config: { iscsi: { backend: 'tgt', tgtControlPort: lab.control } },
      services: [iscsiSubsystem([tgtBackendFactory])],
    });
  });
  after(async () => {
    poller?.kill('SIGKILL');
    await t?.stop();
    await lab?.stop();
  });

  it('the schema refuses a secret starting with -- in plain words', async () => {
    await assert.rejects(
      t.call('iscsi.target.create', {
        iqn: 'iqn.2026-12.org.calypso:dash',
        portals: [{ address: '127.0.0.1', port: lab.port }],
        chap: { user: 'dash', secret: '--debug=77777' },
      }),
      (e: Error) => /may not start with -/.test(e.message),
    );
    assert.deepEqual((await t.call<{ items: unknown[] }>('iscsi.target.list')).items, []);
  });

  it(`${N} targets with CHAP: the poller sees tgtadm runs and no secret`, async () => {
    let out = '';
    poller = spawn(process.execPath, ['-e', POLLER], {
      uid: 65534,
      gid: 65534,
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    poller.stdout!.on('data', (d) => {
      out += d;
    });
    await new Promise((r) => poller!.once('message', r));
    for (let i = 1; i <= N; i++)
      await t.call('iscsi.target.create', {
        iqn: `iqn.2026-12.org.calypso:chap-${i}`,
        portals: [{ address: '127.0.0.1', port: lab.port }],
        chap: {
          user: `user${i}`,
          secret: secret(i),
          ...(i % 2 ? { mutualUser: `mutual${i}`, mutualSecret: secret(i, true) } : {}),
        },
      });
    const exited = new Promise((r) => poller!.once('exit', r));
    poller.kill('SIGTERM');
    await exited;
    poller = undefined;
    const seen = JSON.parse(out) as string[];
    assert.ok(
      seen.some((c) => c.includes('tgtadm') && c.includes('--mode account --op bind')),
      `the poller saw the tgtadm runs (${seen.length} distinct command lines)`,
    );
    const leaked = seen.filter((c) => /(Chap|Mutual)-s3cr\.\d{4}/.test(c));
    assert.deepEqual(leaked, [], 'no secret on any argv');
    // the accounts are on tgtd, and CHAP works with them
    const accounts = lab.tgtadm('--lld', 'iscsi', '--mode', 'account', '--op', 'show');
    for (let i = 1; i <= N; i++) assert.match(accounts, new RegExp(`\\buser${i}\\b`));
    await t.call('iscsi.lun.create', {
      target: 'iqn.2026-12.org.calypso:chap-2',
      backing: { kind: 'file', name: 'chap2.img', sizeBytes: 4 * 1024 * 1024 },
    });
    const size = (s: string) =>
      run(lab.blockio, ['size', lab.url('iqn.2026-12.org.calypso:chap-2', 1, { user: 'user2', secret: s })], {
        timeout: 20_000,
      }).then(
        () => 0,
        (e: { code?: number }) => e.code ?? -1,
      );
    assert.equal(await size(secret(2)), 0, 'the right secret logs in');
    assert.equal(await size('Wrong-secret.99'), 2, 'a wrong one does not');
  });
});
