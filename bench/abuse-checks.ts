/**
 * The attacks of issue #28 that are about what a caller may do rather than what it may cost,
 * as rows of `npm run bench -- abuse`, each run against the bundled agent (dist/agent/main.js,
 * what a release runs) as the attack was: counts of attempts and of what got through, where
 * every "got through" figure must be 0.
 * - item 1: an operator's restore over `/` or outside the restore roots (dry runs: the refusal
 *   comes before Bacula is asked; the real restores are test/backup/restore-guard.test.ts);
 * - items 8 and 16, on a real tgtd: CHAP secrets seen on any argv by a /proc poller running as
 *   uid nobody; LUN backing files through a symbolic link (to a root-only file, dangling);
 * - item 13: webhook URLs at loopback, link-local, localhost or the agent's own port;
 * - item 14: a secret-bearing webhook URL in the audit log or in an auditor's view;
 * - item 15: the refusal summary keeps a count for every method refused to an auditor;
 * - item 19: mail addresses and CHAP secrets starting with `-`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AgentClient } from '../rpc/client.js';
import { startTgtLab } from '../sandbox/tgt.js';
import { type AgentProcess, startAgentProcess } from '../test/helpers/agent.js';
import { tempDir } from '../test/helpers/paths.js';
import { POLLER } from '../test/iscsi/argv-poller.js';

type Row = Record<string, unknown>;
const kindOf = (e: unknown) => (e as { data?: { kind?: string } } | undefined)?.data?.kind;

/**
 * Calls each attempt; lists those that got through: answered, or refused for another reason
 * than `why` (a refusal that does not name the rule proves nothing about it).
 */
async function attempts(
  calls: [string, () => Promise<unknown>][],
  why: RegExp,
): Promise<{ tried: number; through: string[] }> {
  const through: string[] = [];
  for (const [name, call] of calls) {
    const refused = await call().then(
      () => false,
      (e: Error) => why.test(e.message),
    );
    if (!refused) through.push(name);
  }
  return { tried: calls.length, through };
}

async function withAgent<T>(
  config: Record<string, unknown>,
  fn: (agent: AgentProcess, admin: AgentClient, prefix: string) => Promise<T>,
): Promise<T> {
  const tmp = tempDir('calypso-abuse-checks-');
  const agent = await startAgentProcess({
    prefix: tmp.dir,
    config: { log: { file: false }, ...config } as never,
  });
  const admin = await agent.client();
  try {
    return await fn(agent, admin, tmp.dir);
  } finally {
    admin.close();
    await agent.stop();
    tmp.cleanup();
  }
}

const token = async (admin: AgentClient, role: 'auditor' | 'operator') =>
  (await admin.call<{ token: string }>('auth.token.create', { name: `bench-${role}`, role })).token;

const hook = (id: string, url: string) => ({
  target: { id, kind: 'webhook', webhook: { url } },
  secret: 'Bench-webhook-secret-0123',
});

/** Items 13, 14, 15 and 19 on one bundled agent. */
async function notifyAndRefusals(): Promise<Row> {
  return withAgent({}, async (agent, admin) => {
    const own = new URL(agent.wsUrl!).port;
    const urls = [
      'http://127.0.0.1:9/x',
      'http://[::1]:8080/',
      'http://2130706433/',
      'http://127.1/',
      'http://0x7f.1/',
      'http://[::ffff:127.0.0.1]/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fe80::1]/',
      'http://localhost:9/',
      'http://0.0.0.0:80/',
      `http://127.0.0.1:${own}/rpc`,
    ];
    const item13 = await attempts(
      urls.map((u) => [u, () => admin.call('notify.target.set', hook('bad', u))]),
      /may not point at/,
    );
    const stored13 = (await admin.call<{ total: number }>('notify.target.list')).total;

    // item 14: a Slack-style URL on an allowed-looking public name (never contacted: set only)
    const secretUrl = 'https://hooks.example.com/services/T0SECRET/B0SECRET/XXSECRETXX?token=QSECRET';
    await admin.call('notify.target.set', hook('slack', secretUrl));
    const auditor = await AgentClient.connectWs(agent.wsUrl!, await token(admin, 'auditor'));
    const auditText = JSON.stringify(await admin.call('audit.query', { method: 'notify.*', limit: 50 }));
    const auditorView = JSON.stringify(await auditor.call('notify.target.list'));
    await admin.call('notify.target.delete', { id: 'slack' });

    // item 19: leading dashes
    const dash = await attempts(
      [
        [
          'mail to -oQ…',
          () =>
            admin.call('notify.target.set', {
              target: {
                id: 'm',
                kind: 'sendmail',
                sendmail: { from: 'calypso@example.com', to: ['-oQ/tmp/x@example.com'] },
              },
            }),
        ],
        [
          'mail from -f…',
          () =>
            admin.call('notify.target.set', {
              target: {
                id: 'm',
                kind: 'sendmail',
                sendmail: { from: '-f@example.com', to: ['a@example.com'] },
              },
            }),
        ],
        [
          'CHAP secret --debug…',
          () =>
            admin.call('iscsi.target.create', {
              iqn: 'iqn.2026-12.org.calypso:dash',
              portals: [{ address: '127.0.0.1', port: 3260 }],
              chap: { user: 'dash', secret: '--debug=77777' },
              dryRun: true,
            }),
        ],
      ],
      /may not start with -/,
    );

    // item 15: every admin-only method refused to the auditor is counted in the summary
    const methods = (await admin.call<{ methods: { name: string; role?: string }[] }>('rpc.discover')).methods
      .filter((m) => (m as { ['x-role']?: string })['x-role'] === 'admin')
      .map((m) => m.name);
    let denied = 0;
    for (const m of methods)
      await auditor.call(m, {}).catch((e) => {
        if (kindOf(e) === 'denied') denied++;
      });
    auditor.close();
    await new Promise((r) => setTimeout(r, 1500)); // the summary is written when the burst ends
    const counted: Record<string, number> = {};
    for (const r of (
      await admin.call<{ items: { detail?: { methods?: Record<string, number> } }[] }>('audit.query', {
        method: 'audit.refusals',
        limit: 200,
      })
    ).items)
      for (const [k, n] of Object.entries(r.detail?.methods ?? {})) counted[k] = (counted[k] ?? 0) + n;
    const singles = (
      await admin.call<{ items: { method: string; outcome: string }[] }>('audit.query', {
        outcome: 'denied',
        limit: 1000,
      })
    ).items.length;
    const total = Object.values(counted).reduce((a, b) => a + b, 0) + singles;
    return {
      'item 13 webhook URLs refused': `${item13.tried - item13.through.length}/${item13.tried}`,
      'item 13 accepted': item13.through,
      'item 13 stored': stored13,
      'item 14 secret in audit log': /SECRET/.test(auditText),
      'item 14 secret shown to an auditor': /SECRET/.test(auditorView),
      'item 15 denied calls': denied,
      'item 15 accounted for in the audit log (singles + summary counts)': total,
      'item 19 leading-dash inputs refused': `${dash.tried - dash.through.length}/${dash.tried}`,
      goals:
        item13.through.length === 0 &&
        stored13 === 0 &&
        !/SECRET/.test(auditText) &&
        !/SECRET/.test(auditorView) &&
        denied > 60 &&
        total >= denied &&
        dash.through.length === 0
          ? 'met'
          : 'MISSED',
    };
  });
}

/** Items 8 and 16 on a real tgtd, and item 1's refusals, on one bundled agent. */
async function tgtAndRestore(): Promise<Row> {
  const lab = await startTgtLab();
  let poller: ChildProcess | undefined;
  try {
    return await withAgent(
      { iscsi: { backend: 'tgt', tgtControlPort: lab.control } },
      async (agent, admin, prefix) => {
        // item 8: a poller as uid nobody while targets with CHAP are created
        let out = '';
        poller = spawn(process.execPath, ['-e', POLLER], {
          uid: 65534,
          gid: 65534,
          stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
        });
        poller.stdout!.on('data', (d) => (out += d));
        await new Promise((r) => poller!.once('message', r));
        const N = 10;
        for (let i = 1; i <= N; i++)
          await admin.call('iscsi.target.create', {
            iqn: `iqn.2026-12.org.calypso:bench-chap-${i}`,
            portals: [{ address: '127.0.0.1', port: lab.port }],
            chap: { user: `user${i}`, secret: `Bench-s3cr.${String(i).padStart(4, '0')}` },
          });
        const exited = new Promise((r) => poller!.once('exit', r));
        poller.kill('SIGTERM');
        await exited;
        poller = undefined;
        const seen = JSON.parse(out || '[]') as string[];
        const sawTgtadm = seen.filter((c) => c.includes('tgtadm')).length;
        const caught = new Set(seen.flatMap((c) => c.match(/Bench-s3cr\.\d{4}/g) ?? [])).size;

        // item 16: links in the LUN data area
        const area = path.join(prefix, 'srv/calypso/iscsi');
        mkdirSync(area, { recursive: true });
        const secret = path.join(lab.dir, 'root-only');
        writeFileSync(secret, 'root only\n', { mode: 0o600 });
        symlinkSync(secret, path.join(area, 'evil.img'));
        symlinkSync(path.join(lab.dir, 'nowhere.img'), path.join(area, 'dangling.img'));
        const lun = (name: string, dryRun: boolean) => () =>
          admin.call('iscsi.lun.create', {
            target: 'iqn.2026-12.org.calypso:bench-chap-1',
            backing: { kind: 'file', name, sizeBytes: 4 * 1024 * 1024 },
            dryRun,
          });
        const links = await attempts(
          [
            ['link to a root-only file (dry run)', lun('evil.img', true)],
            ['link to a root-only file', lun('evil.img', false)],
            ['dangling link (dry run)', lun('dangling.img', true)],
            ['dangling link', lun('dangling.img', false)],
          ],
          /symbolic link|link/,
        );

        // item 1: an operator's restores over / or outside the restore roots, as dry runs
        const operator = await AgentClient.connectWs(agent.wsUrl!, await token(admin, 'operator'));
        const restores = await attempts(
          [
            { jobId: 1, where: '/', replace: 'always' },
            { jobId: 1, where: '/', replace: 'always', client: 'other-fd' },
            { jobId: 1, where: path.join(prefix, 'elsewhere'), replace: 'always', client: 'other-fd' },
          ].map((p, i) => [
            `restore ${i + 1}`,
            () => operator.call('backup.restore', { ...p, dryRun: true }),
          ]),
          /needs the admin role|restore root|restoreRoots/,
        );
        operator.close();
        return {
          'item 8 tgtadm runs the poller saw': sawTgtadm,
          'item 8 CHAP secrets caught on an argv': `${caught}/${N}`,
          'item 16 LUNs through a link refused': `${links.tried - links.through.length}/${links.tried}`,
          'item 1 operator restores over / or outside the roots refused': `${restores.tried - restores.through.length}/${restores.tried}`,
          goals:
            sawTgtadm > 0 && caught === 0 && links.through.length === 0 && restores.through.length === 0
              ? 'met'
              : 'MISSED',
        };
      },
    );
  } finally {
    poller?.kill('SIGKILL');
    await lab.stop();
  }
}

export async function benchAbuseChecks(): Promise<Record<string, Row>> {
  return {
    'bundled agent: webhook targets, leading dashes, refusal summary (#28 items 13, 14, 15, 19)':
      await notifyAndRefusals(),
    'bundled agent on a real tgtd: CHAP on argv, LUN links, operator restores (#28 items 8, 16, 1)':
      await tgtAndRestore(),
  };
}
