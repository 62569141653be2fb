/**
 * Notifications with real receivers: a real SMTP server (nodemailer's smtp-server on loopback,
 * STARTTLS with a certificate made by openssl, AUTH) gets the message for a pool degraded on
 * zfs-fuse, with the pool, its state and what to do, and the clear when it heals; a target that
 * cannot deliver retries and then raises its own alert; a message waiting for a retry when the
 * agent stops is delivered exactly once by the next agent on the same prefix; a webhook receiver
 * checks the HMAC signature and the JSON body; a sendmail target goes through Debian's msmtp as
 * the local sendmail to the same SMTP server; repeats go out as one digest per period; bad
 * input is `invalid` and stores nothing.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { notifySubsystem } from '../../agent/alerts/notify.js';
import { bodyOf, subjectOf } from '../../agent/alerts/notify-targets.js';
import { alertsSubsystem } from '../../agent/alerts/service.js';
import { waitUntil } from '../../agent/util/time.js';
import { createZfsService } from '../../agent/zfs/service.js';
import { freePorts } from '../backup/lab.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';
import { destroyPools, FAST, poolName, useZfsFuse, vdevFiles } from '../zfs/helpers.js';

interface Mail {
  from: string;
  to: string[];
  data: string;
  user?: string;
}

const kindOf = (e: unknown) => (e as { data?: { kind?: string } }).data?.kind;
// the receivers here listen on loopback, which a webhook may reach only when calypso.yaml allows it
const FAST_NOTIFY = { notify: { retryBaseMs: 100, maxAttempts: 3, tickMs: 50, webhookAllow: ['127.0.0.1'] } };

/** An SMTP server on loopback: STARTTLS required, AUTH PLAIN/LOGIN with one user; `refuse` answers 451. */
async function startSmtp(dir: string, opts: { port?: number } = {}) {
  const key = path.join(dir, 'smtp-key.pem');
  const cert = path.join(dir, 'smtp-cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const mails: Mail[] = [];
  const state = { refuse: false };
  const server = new SMTPServer({
    key: readFileSync(key),
    cert: readFileSync(cert),
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: false,
    onAuth(auth, _s, cb) {
      if (auth.username === 'calypso' && auth.password === 'Mail-pass.123') cb(null, { user: auth.username });
      else cb(new Error('bad credentials'));
    },
    onRcptTo(_a, _s, cb) {
      if (state.refuse) {
        const e = new Error('try again later') as Error & { responseCode: number };
        e.responseCode = 451;
        cb(e);
      } else cb();
    },
    onData(stream, session, cb) {
      let data = '';
      stream.on('data', (b) => {
        data += b;
      });
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
          user: session.user as string | undefined,
        });
        cb();
      });
    },
    logger: false,
    disabledCommands: [],
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  return { mails, state, port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

interface Received {
  url: string;
  body: string;
  sig?: string;
  delivery?: string;
}

/** A webhook receiver on loopback: every POST recorded with its path and signature headers. */
async function startHook(received: Received[]): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (b) => {
      body += b;
    });
    req.on('end', () => {
      received.push({
        url: req.url ?? '',
        body,
        sig: req.headers['x-calypso-signature'] as string | undefined,
        delivery: req.headers['x-calypso-delivery'] as string | undefined,
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

const smtpTarget = (id: string, port: number) => ({
  id,
  kind: 'smtp',
  smtp: {
    host: '127.0.0.1',
    port,
    security: 'starttls',
    verifyTls: false,
    user: 'calypso',
    from: 'calypso@appliance.example',
    to: ['admin@example.org'],
  },
  minLevel: 'warning',
  enabled: true,
});

describe('e-mail for a degraded pool on zfs-fuse', () => {
  let fuse: Awaited<ReturnType<typeof useZfsFuse>> | undefined;
  let t: TestAgent;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  const name = poolName('n');
  let files: string[];

  before(async () => {
    fuse = await useZfsFuse();
    t = await startTestAgent({
      services: [createZfsService(FAST), alertsSubsystem, notifySubsystem],
      config: FAST_NOTIFY,
    });
    smtp = await startSmtp(t.prefix);
    files = vdevFiles(path.join(t.prefix, 'vdevs'), ['a.img', 'b.img'], 128 * 1024 * 1024);
    await t.call('pool.create', {
      name,
      topology: { data: [{ type: 'mirror', disks: files }] },
      altroot: path.join(t.prefix, 'mnt'),
    });
    await t.call('notify.target.set', { target: smtpTarget('mail', smtp.port), password: 'Mail-pass.123' });
  });
  after(async () => {
    await destroyPools([name]);
    await t?.stop();
    await smtp?.close();
    await fuse?.release();
  });

  it('the degraded pool arrives by mail with what to do; the clear follows when it heals', async () => {
    await t.call('pool.offline', { name, device: files[1] });
    const mail = await waitUntil(() => smtp.mails.find((m) => m.data.includes(`pool ${name} is DEGRADED`)), {
      timeoutMs: 20_000,
      what: 'the alert mail',
    });
    assert.deepEqual(mail.to, ['admin@example.org']);
    assert.equal(mail.user, 'calypso', 'authenticated');
    assert.match(
      mail.data,
      new RegExp(`Subject: \\[calypso [^\\]]+\\] CRITICAL zfs: pool ${name} is DEGRADED`),
    );
    assert.match(mail.data, /OFFLINE/);
    assert.match(mail.data, /pool\.online|pool\.replace/);
    assert.doesNotMatch(
      JSON.stringify((await t.call<{ items: unknown[] }>('notify.target.list')).items),
      /Mail-pass/,
    );

    await t.call('pool.online', { name, device: files[1] });
    await waitUntil(
      async () => {
        await t.call('pool.clear', { name });
        return smtp.mails.find((m) => /Subject: .*CLEARED zfs: pool/.test(m.data));
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'the clear mail' },
    );
    // the test's server holds the mail once its data has ended; the message leaves the outbox when the agent has
    // read the server's "250" and written that down (notify.ts): until then it is pending (CI run 42: 1 here)
    const status = async () =>
      (await t.call<{ items: { status: { lastSuccess?: string; pending: number } }[] }>('notify.target.list'))
        .items[0]!.status;
    const settled = await waitUntil(
      async () => {
        const now = await status();
        return now.pending === 0 ? now : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'no message left pending' },
    );
    assert.ok(settled.lastSuccess);
    assert.equal(settled.pending, 0);
  });
});

describe('retries, failure alert, restart, webhook, bad input', () => {
  let dir: { dir: string; cleanup: () => void };
  let t: TestAgent | undefined;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let hook: Server;
  let hookPort = 0;
  const received: Received[] = [];
  const HOOK_SECRET = 'Hook-secret-0123456789';

  before(async () => {
    dir = tempDir('calypso-notify-');
    smtp = await startSmtp(dir.dir);
    ({ server: hook, port: hookPort } = await startHook(received));
    // the local sendmail: Debian's msmtp relaying to the test's SMTP server (STARTTLS, AUTH); the
    // wrapper only gives it its configuration file, as /usr/sbin/sendmail would find /etc/msmtprc
    const rc = path.join(dir.dir, 'msmtprc');
    writeFileSync(
      rc,
      [
        'account default',
        'host 127.0.0.1',
        `port ${smtp.port}`,
        'tls on',
        'tls_starttls on',
        'tls_certcheck off',
        'auth on',
        'user calypso',
        'password Mail-pass.123',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    sendmail = path.join(dir.dir, 'sendmail');
    writeFileSync(sendmail, `#!/bin/sh\nexec /usr/bin/msmtp -C ${rc} "$@"\n`, { mode: 0o755 });
  });
  after(async () => {
    await t?.stop();
    await smtp?.close();
    await new Promise((r) => hook.close(r));
    dir.cleanup();
  });

  let sendmail = '';
  const start = () =>
    startTestAgent({
      services: [alertsSubsystem, notifySubsystem],
      config: { notify: { ...FAST_NOTIFY.notify, sendmailPath: sendmail } },
      prefix: dir.dir,
    });

  it('refuses bad input and stores nothing', async () => {
    t = await start();
    const bad: [Record<string, unknown>, RegExp?][] = [
      [{ target: { ...smtpTarget('x', 25), smtp: { ...smtpTarget('x', 25).smtp, to: ['not-an-address'] } } }],
      [{ target: { ...smtpTarget('x', 25), smtp: { ...smtpTarget('x', 25).smtp, from: 'a@b' } } }],
      [{ target: { ...smtpTarget('x', 0) } }],
      [{ target: { ...smtpTarget('x', 25), smtp: { ...smtpTarget('x', 25).smtp, host: 'mail;rm -rf /' } } }],
      [
        {
          target: { id: 'w', kind: 'webhook', webhook: { url: 'https://user:pw@hooks.example/x' } },
          secret: 's',
        },
        /credentials/,
      ],
      [
        { target: { id: 'w', kind: 'webhook', webhook: { url: 'ftp://hooks.example/x' } }, secret: 's' },
        /scheme/,
      ],
      [
        { target: { id: 'w', kind: 'webhook', webhook: { url: 'file:///etc/passwd' } }, secret: 's' },
        /scheme/,
      ],
      [{ target: { id: 'w', kind: 'webhook', webhook: { url: 'https://hooks.example/x' } } }, /secret/],
      [
        {
          target: { id: 'Bad Id', kind: 'webhook', webhook: { url: 'https://hooks.example/x' } },
          secret: 's',
        },
      ],
      [
        {
          target: { id: 'w', kind: 'webhook', webhook: { url: 'https://hooks.example/x' }, minLevel: 'loud' },
          secret: 's',
        },
      ],
    ];
    for (const [p, msg] of bad)
      await assert.rejects(
        t.call('notify.target.set', p),
        (e: Error) => kindOf(e) === 'invalid' && (!msg || msg.test(e.message)),
        JSON.stringify(p),
      );
    assert.deepEqual((await t.call<{ items: unknown[] }>('notify.target.list')).items, []);
    const secrets = path.join(dir.dir, 'etc/calypso/secrets.env');
    assert.ok(!existsSync(secrets) || !/NOTIFY_/.test(readFileSync(secrets, 'utf8')));
  });

  it('a webhook gets JSON signed with HMAC-SHA256; send test works', async () => {
    assert.ok(t);
    const target = {
      id: 'hook',
      kind: 'webhook',
      webhook: { url: `http://127.0.0.1:${hookPort}/calypso` },
      minLevel: 'warning',
    };
    const dry = await t.call<{ target: { id: string } }>('notify.target.set', {
      target,
      secret: HOOK_SECRET,
      dryRun: true,
    });
    assert.equal(dry.target.id, 'hook');
    assert.deepEqual(
      (await t.call<{ items: unknown[] }>('notify.target.list')).items,
      [],
      'a dry run stores nothing',
    );
    await t.call('notify.target.set', { target, secret: HOOK_SECRET });
    const test = await t.call<{ delivered: boolean }>('notify.target.test', { id: 'hook' });
    assert.equal(test.delivered, true);
    await t.deps.alerts.raise({
      key: 'backup.job.failed:nightly',
      level: 'critical',
      source: 'backup',
      title: 'job nightly failed',
      detail: 'see the log',
    });
    await t.deps.alerts.raise({
      key: 'backup.info',
      level: 'info',
      source: 'backup',
      title: 'below the minimum level',
    });
    const got = await waitUntil(() => received.find((r) => r.body.includes('backup.job.failed:nightly')), {
      what: 'the webhook',
    });
    const expected = `sha256=${createHmac('sha256', HOOK_SECRET).update(got.body).digest('hex')}`;
    assert.equal(got.sig, expected, 'the signature is the HMAC of the raw body');
    const body = JSON.parse(got.body) as {
      event: string;
      id: string;
      alert: { level: string; detail: string };
    };
    assert.equal(body.event, 'raised');
    assert.equal(body.alert.level, 'critical');
    assert.equal(body.alert.detail, 'see the log');
    assert.equal(got.delivery, body.id);
    assert.ok(
      !received.some((r) => r.body.includes('backup.info')),
      'info is below the target’s minimum level',
    );
    // a tampered body would not verify
    assert.notEqual(
      createHmac('sha256', HOOK_SECRET).update(`${got.body} `).digest('hex'),
      expected.slice(7),
    );
  });

  it('a sendmail target hands the message to the local sendmail, which delivers it', async () => {
    assert.ok(t);
    await t.call('notify.target.set', {
      target: {
        id: 'local',
        kind: 'sendmail',
        sendmail: { from: 'calypso@appliance.example', to: ['ops@example.org'] },
        minLevel: 'critical',
      },
    });
    await t.deps.alerts.raise({
      key: 'hardware.disk.smart:sdq',
      level: 'critical',
      source: 'hardware',
      title: 'disk sdq fails its SMART health check',
      detail: 'Replace it (pool.replace).',
    });
    const mail = await waitUntil(() => smtp.mails.find((m) => m.data.includes('disk sdq fails')), {
      what: 'the mail through sendmail',
    });
    assert.equal(mail.from, 'calypso@appliance.example', 'the envelope sender is the target’s from (-f)');
    assert.deepEqual(mail.to, ['ops@example.org']);
    assert.match(mail.data, /Subject: \[calypso [^\]]+\] CRITICAL hardware: disk sdq fails/);
    assert.match(mail.data, /Replace it \(pool\.replace\)/);
    const st = (
      await t.call<{ items: { target: { id: string }; status: { lastSuccess?: string } }[] }>(
        'notify.target.list',
      )
    ).items.find((x) => x.target.id === 'local');
    await waitUntil(async () =>
      (
        await t?.call<{ items: { target: { id: string }; status: { lastSuccess?: string } }[] }>(
          'notify.target.list',
        )
      )?.items.find((x) => x.target.id === 'local' && x.status.lastSuccess),
    );
    assert.ok(st);
    await t.call('notify.target.delete', { id: 'local' });
  });

  it('a target that cannot deliver retries, then raises its own alert', async () => {
    assert.ok(t);
    const [closed] = await freePorts(1);
    await t.call('notify.target.set', {
      target: { ...smtpTarget('down', closed!) },
      password: 'Mail-pass.123',
    });
    await t.deps.alerts.raise({
      key: 'tape.alert:lib:0:20',
      level: 'critical',
      source: 'tape',
      title: 'cleaning required',
    });
    const failure = await waitUntil(
      () => {
        const a = t?.deps.alerts.get('notify.target:down');
        return a?.state === 'active' ? a : undefined;
      },
      { timeoutMs: 20_000, what: 'the notifier’s own alert' },
    ).catch(async (e) => {
      console.log(
        'DEBUG',
        JSON.stringify((await t?.call<{ items: unknown[] }>('notify.outbox.list'))?.items),
        JSON.stringify((await t?.call<{ items: unknown[] }>('notify.target.list'))?.items),
      );
      throw e;
    });
    assert.match(failure.detail ?? '', /after 3 attempts/);
    const list = (
      await t.call<{ items: { target: { id: string }; status: { lastError?: string; failures: number } }[] }>(
        'notify.target.list',
      )
    ).items;
    const down = list.find((x) => x.target.id === 'down');
    assert.match(down?.status.lastError ?? '', /ECONNREFUSED|connect/i);
    assert.ok((down?.status.failures ?? 0) >= 1);
    // the failure alert went out by the webhook, not back to the failing target
    await waitUntil(() => received.find((r) => r.body.includes('notify.target:down')), {
      what: 'failure via webhook',
    });
    await t.call('notify.target.delete', { id: 'down' });
  });

  it('a message waiting for a retry when the agent stops is delivered once by the next agent', async () => {
    assert.ok(t);
    await t.call('notify.target.set', { target: smtpTarget('mail', smtp.port), password: 'Mail-pass.123' });
    smtp.state.refuse = true;
    await t.deps.alerts.raise({
      key: 'object.quota:photos',
      level: 'warning',
      source: 'object',
      title: 'bucket photos is 93 % full',
    });
    await waitUntil(
      async () => {
        const o = (await t?.call<{ items: { target: string; attempts: number }[] }>('notify.outbox.list'))
          ?.items;
        return o?.some((e) => e.target === 'mail' && e.attempts >= 1);
      },
      { what: 'a failed first attempt' },
    );
    await t.stop();
    t = undefined;
    smtp.state.refuse = false;
    const before = smtp.mails.filter((m) => m.data.includes('bucket photos')).length;
    assert.equal(before, 0);
    t = await start();
    await waitUntil(() => smtp.mails.some((m) => m.data.includes('bucket photos')), {
      timeoutMs: 20_000,
      what: 'delivery after the restart',
    });
    await new Promise((r) => setTimeout(r, 1000)); // time for a duplicate to show up, if any
    assert.equal(smtp.mails.filter((m) => m.data.includes('bucket photos')).length, 1, 'exactly once');
    assert.deepEqual(
      (await t.call<{ items: { target: string }[] }>('notify.outbox.list')).items.filter(
        (e) => e.target === 'mail',
      ),
      [],
    );
  });
});

describe('a digest for repeats', () => {
  let dir: { dir: string; cleanup: () => void };
  let t: TestAgent | undefined;
  let hook: Server;
  let hookPort = 0;
  let offset = 0;
  const clock = { now: () => Date.now() + offset };
  const received: Received[] = [];
  const SECRET = 'Digest-secret-0123456789';
  const of = (url: string) =>
    received.filter((r) => r.url === url).map((r) => JSON.parse(r.body) as Record<string, unknown>);

  before(async () => {
    dir = tempDir('calypso-digest-');
    ({ server: hook, port: hookPort } = await startHook(received));
    t = await startTestAgent({
      services: [alertsSubsystem, notifySubsystem],
      config: FAST_NOTIFY,
      prefix: dir.dir,
      clock,
    });
  });
  after(async () => {
    await t?.stop();
    await new Promise((r) => hook.close(r));
    dir.cleanup();
  });

  it('repeats are not sent one by one; the digest lists them once per period, and 0 means none', async () => {
    assert.ok(t);
    const tt = t;
    await assert.rejects(
      tt.call('notify.target.set', {
        target: { id: 'x', kind: 'webhook', webhook: { url: 'http://127.0.0.1/x' }, digestMinutes: 20_000 },
        secret: SECRET,
      }),
      (e: Error) => kindOf(e) === 'invalid',
      'a digest period beyond a week is invalid',
    );
    for (const [id, digestMinutes] of [
      ['digest', 5],
      ['nodigest', 0],
    ] as const)
      await tt.call('notify.target.set', {
        target: {
          id,
          kind: 'webhook',
          webhook: { url: `http://127.0.0.1:${hookPort}/${id}` },
          minLevel: 'warning',
          digestMinutes,
        },
        secret: SECRET,
      });
    // let the notifier start the first digest period of each target
    await new Promise((r) => setTimeout(r, 300));
    const degraded = {
      key: 'zfs.pool.health:tank',
      level: 'critical' as const,
      source: 'zfs',
      title: 'pool tank is DEGRADED',
    };
    await tt.deps.alerts.raise(degraded);
    await waitUntil(() => of('/digest').length === 1 && of('/nodigest').length === 1, {
      what: 'the fresh alert at both',
    });
    for (let i = 0; i < 4; i++) await tt.deps.alerts.raise(degraded);
    await tt.deps.alerts.raise({
      key: 'backup.quiet',
      level: 'warning',
      source: 'backup',
      title: 'raised once',
    });
    await tt.deps.alerts.raise({ key: 'tape.info', level: 'info', source: 'tape', title: 'below the level' });
    await tt.deps.alerts.raise({ key: 'tape.info', level: 'info', source: 'tape', title: 'below the level' });
    await waitUntil(() => of('/digest').length === 2, { what: 'the second fresh alert' });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(of('/digest').length, 2, 'four repeats sent nothing before the period ends');

    offset += 5 * 60_000 + 1000; // the period is over
    const digest = await waitUntil(() => of('/digest').find((b) => b.event === 'digest'), {
      what: 'the digest',
    });
    const items = digest.alerts as { key: string; repeats: number; count: number; level: string }[];
    assert.deepEqual(
      items.map((i) => [i.key, i.repeats, i.count]),
      [['zfs.pool.health:tank', 4, 5]],
      'only the repeated alert, with its repeats since it was sent; not the one raised once, not info',
    );
    assert.equal((digest.alert as { level: string }).level, 'critical');
    const raw = received.find((r) => r.url === '/digest' && r.body.includes('"event":"digest"'));
    assert.equal(
      raw?.sig,
      `sha256=${createHmac('sha256', SECRET)
        .update(raw?.body ?? '')
        .digest('hex')}`,
    );

    // no repeats in the next period: no digest; a repeat after it: one item with one repeat
    offset += 5 * 60_000 + 1000;
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(of('/digest').filter((b) => b.event === 'digest').length, 1, 'nothing repeated, no digest');
    await tt.deps.alerts.raise(degraded);
    await tt.call('alert.ack', { keys: ['backup.quiet'] });
    await tt.deps.alerts.raise({
      key: 'backup.quiet',
      level: 'warning',
      source: 'backup',
      title: 'raised once',
    });
    offset += 5 * 60_000 + 1000;
    const second = await waitUntil(
      () =>
        of('/digest').filter((b) => b.event === 'digest')[1] as {
          alerts: { key: string; repeats: number }[];
        },
      { what: 'the second digest' },
    );
    assert.deepEqual(
      second.alerts.map((i) => [i.key, i.repeats]),
      [['zfs.pool.health:tank', 1]],
      'an acknowledged alert is no longer news: it leaves the digest',
    );
    assert.equal(of('/nodigest').filter((b) => b.event === 'digest').length, 0, 'digestMinutes 0: never');
  });

  it('the e-mail digest lists each alert with its repeats', () => {
    const now = '2026-12-04T05:00:00.000Z';
    const summary = {
      key: 'notify.digest',
      level: 'critical' as const,
      source: 'notify',
      title: '2 alerts raised again',
      state: 'active' as const,
      firstSeen: '2026-12-04T04:00:00.000Z',
      lastSeen: now,
      count: 5,
    };
    const items = [
      {
        key: 'zfs.pool.health:tank',
        level: 'critical' as const,
        source: 'zfs',
        title: 'pool tank is DEGRADED',
        count: 5,
        repeats: 4,
        lastSeen: now,
      },
      {
        key: 'hardware.smart:sda',
        level: 'warning' as const,
        source: 'hardware',
        title: 'disk sda is hot',
        count: 2,
        repeats: 1,
        lastSeen: now,
      },
    ];
    assert.equal(
      subjectOf(summary, 'digest', 'box'),
      '[calypso box] DIGEST 2 alerts raised again (worst: CRITICAL)',
    );
    const body = bodyOf(summary, 'digest', 'box', items);
    assert.match(body, /CRITICAL zfs: pool tank is DEGRADED\n {2}4 more times \(5 in all\)/);
    assert.match(body, /WARNING hardware: disk sda is hot\n {2}1 more time \(2 in all\)/);
    assert.match(body, /since 2026-12-04T04:00:00.000Z/);
  });
});
