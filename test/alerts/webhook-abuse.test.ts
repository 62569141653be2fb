/**
 * Webhook abuse (issue #28 items 7, 12, 13, 14, 19) against real HTTP receivers on loopback,
 * each allowed by port in `notify.webhookAllow` (so loopback on any other port stays refused):
 * - 13: URLs to loopback in every spelling, link-local, `localhost` and the agent's own
 *   listener are `invalid`, nothing stored; a network failure is `unavailable` with a reason;
 * - 7: a receiver answering with an endless body gets its connection closed after a few KiB;
 *   one that trickles its answer is cut at the timeout and the message is not "delivered";
 * - 12: a receiver that never answers delays only its own messages;
 * - 14: a Slack-style URL's path and query never reach the audit log or an auditor;
 * - 19: a mail address starting with `-` is refused by the schema in plain words.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { notifySubsystem } from '../../agent/alerts/notify.js';
import { alertsSubsystem } from '../../agent/alerts/service.js';
import { waitUntil } from '../../agent/util/time.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';

const kindOf = (e: unknown) => (e as { data?: { kind?: string } }).data?.kind;
const SECRET = 'Hook-secret-0123456789';

interface Receiver {
  server: Server;
  port: number;
  hits: string[];
  /** bytes written to the agent before it closed the connection (endless receivers) */
  sent: number[];
}

async function receiver(handle: (req: IncomingMessage, res: ServerResponse, r: Receiver) => void) {
  const r: Receiver = { server: undefined as unknown as Server, port: 0, hits: [], sent: [] };
  r.server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      r.hits.push(body);
      handle(req, res, r);
    });
  });
  await new Promise<void>((ok) => r.server.listen(0, '127.0.0.1', ok));
  r.port = (r.server.address() as AddressInfo).port;
  return r;
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const port = (s.address() as AddressInfo).port;
  await new Promise((ok) => s.close(ok));
  return port;
}

const hook = (id: string, url: string) => ({
  target: { id, kind: 'webhook', webhook: { url } },
  secret: SECRET,
});

describe('webhook abuse', { timeout: 120_000 }, () => {
  let t: TestAgent | undefined;
  let fast: Receiver;
  let endless: Receiver;
  let trickle: Receiver;
  let hang: Receiver;
  let dead = 0;
  const OWN_PORT = 18_787;
  const open: ServerResponse[] = [];

  before(async () => {
    fast = await receiver((_q, res) => res.writeHead(204).end());
    // 200, then bytes as fast as the socket takes them, until the client goes away
    endless = await receiver((_q, res, r) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      let n = 0;
      const pump = () => {
        while (!res.destroyed) {
          n += chunk.length;
          if (!res.write(chunk)) return;
        }
      };
      res.on('drain', pump);
      res.on('close', () => r.sent.push(n));
      pump();
    });
    // 200 and then one byte a second, never finishing
    trickle = await receiver((_q, res) => {
      res.writeHead(200);
      open.push(res);
      const i = setInterval(() => (res.destroyed ? clearInterval(i) : res.write('x')), 1000);
      res.on('close', () => clearInterval(i));
    });
    // never answers
    hang = await receiver((_q, res) => {
      open.push(res);
    });
    dead = await closedPort();
    t = await startTestAgent({
      services: [alertsSubsystem, notifySubsystem],
      config: {
        agent: { websocket: { port: OWN_PORT } },
        notify: {
          retryBaseMs: 60_000,
          maxAttempts: 3,
          tickMs: 50,
          timeoutMs: 2000,
          webhookAllow: [fast, endless, trickle, hang]
            .map((r) => `127.0.0.1:${r.port}`)
            .concat(`127.0.0.1:${dead}`),
        },
      },
    });
  });
  after(async () => {
    await t?.stop();
    for (const r of open) r.destroy();
    for (const r of [fast, endless, trickle, hang]) {
      r?.server.closeAllConnections();
      await new Promise((ok) => r?.server.close(ok));
    }
  });

  it('13: loopback, link-local, localhost and the own listener are refused; nothing is stored', async () => {
    assert.ok(t);
    const lan = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && !i.internal && i.family === 'IPv4')?.address;
    const urls = [
      `http://127.0.0.1:${fast.port + 1}/x`, // loopback on a port not allowed
      'http://[::1]:8080/',
      'http://2130706433/',
      'http://127.1/',
      'http://0x7f.1/',
      'http://[::ffff:127.0.0.1]/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fe80::1]/',
      'http://localhost:9/',
      'http://0.0.0.0:80/',
      ...(lan ? [`http://${lan}:${OWN_PORT}/`] : []),
    ];
    for (const url of urls)
      await assert.rejects(
        t.call('notify.target.set', hook('bad', url)),
        (e: Error) => kindOf(e) === 'invalid' && /may not point at/.test(e.message),
        url,
      );
    assert.deepEqual((await t.call<{ items: unknown[] }>('notify.target.list')).items, [], 'nothing stored');
  });

  it('13: a receiver that cannot be reached is `unavailable` with a reason, never an internal error', async () => {
    assert.ok(t);
    await t.call('notify.target.set', hook('dead', `http://127.0.0.1:${dead}/x`));
    await assert.rejects(
      t.call('notify.target.test', { id: 'dead' }),
      (e: Error) => kindOf(e) === 'unavailable' && /could not be reached/.test(e.message),
    );
    await t.call('notify.target.delete', { id: 'dead' });
  });

  it('7: an endless answer is read for a few KiB, then the connection is closed', async () => {
    assert.ok(t);
    await t.call('notify.target.set', hook('endless', `http://127.0.0.1:${endless.port}/x`));
    const rss = process.memoryUsage().rss;
    const started = performance.now();
    const r = await t.call<{ delivered: boolean }>('notify.target.test', { id: 'endless' });
    const ms = performance.now() - started;
    assert.equal(r.delivered, true, 'a 200 is a delivery');
    const sent = await waitUntil(() => endless.sent.at(0), {
      what: 'the receiver saw the close',
      timeoutMs: 5000,
    });
    assert.ok(sent < 8 * 1024 * 1024, `the agent closed after ${sent} bytes (socket buffers aside)`);
    assert.ok(ms < 1500, `answered in ${ms.toFixed(0)} ms, not at the timeout`);
    const grew = (process.memoryUsage().rss - rss) / 1024 / 1024;
    assert.ok(grew < 64, `rss grew ${grew.toFixed(0)} MiB`);
    await t.call('notify.target.delete', { id: 'endless' });
  });

  it('7: a trickled answer is cut at the timeout and is not a delivery', async () => {
    assert.ok(t);
    await t.call('notify.target.set', hook('trickle', `http://127.0.0.1:${trickle.port}/x`));
    const started = performance.now();
    await assert.rejects(
      t.call('notify.target.test', { id: 'trickle' }),
      (e: Error) => kindOf(e) === 'unavailable' && /no answer within 2000 ms/.test(e.message),
    );
    const ms = performance.now() - started;
    assert.ok(ms < 3500, `the whole exchange took ${ms.toFixed(0)} ms (timeout 2000)`);
    await t.call('notify.target.delete', { id: 'trickle' });
  });

  it('12: a target that never answers delays only its own messages', async () => {
    assert.ok(t);
    // 'a-hang' sorts first: before, its messages went out first, one timeout each
    await t.call('notify.target.set', hook('a-hang', `http://127.0.0.1:${hang.port}/x`));
    await t.call('notify.target.set', hook('b-fast', `http://127.0.0.1:${fast.port}/x`));
    const before = fast.hits.length;
    const started = performance.now();
    for (const n of [1, 2, 3])
      await t.deps.alerts.raise({
        key: `test.slow:${n}`,
        level: 'critical',
        source: 'backup',
        title: `alert ${n}`,
      });
    await waitUntil(() => fast.hits.length - before >= 3 || undefined, {
      what: 'three messages',
      timeoutMs: 10_000,
    });
    const ms = performance.now() - started;
    assert.ok(
      ms < 1500,
      `the fast target had its three messages after ${ms.toFixed(0)} ms (timeout 2000 each)`,
    );
    await t.call('notify.target.delete', { id: 'a-hang' });
    await t.call('notify.target.delete', { id: 'b-fast' });
  });

  it('14: a secret in a webhook URL reaches neither the audit log nor an auditor', async () => {
    assert.ok(t);
    const url = `http://127.0.0.1:${fast.port}/services/T0SECRET/B0SECRET/XXSECRETXX?token=QSECRET`;
    await t.call('notify.target.set', { ...hook('slack', url), dryRun: true });
    await t.call('notify.target.set', hook('slack', url));
    await assert.rejects(t.call('notify.target.set', hook('slack', url.replace('http:', 'ftp:'))));
    const audit = JSON.stringify(await t.call('audit.query', { method: 'notify.*', limit: 50 }));
    assert.ok(audit.includes(`127.0.0.1:${fast.port}/[redacted]`), 'the audit shows scheme, host and port');
    assert.ok(!/SECRET/.test(audit), 'no path or query in the audit log');
    const seen = JSON.stringify(
      (await t.call<{ items: unknown[] }>('notify.target.list', {}, { role: 'auditor' })).items,
    );
    assert.ok(!/SECRET/.test(seen), 'an auditor sees no path');
    const admin = JSON.stringify((await t.call<{ items: unknown[] }>('notify.target.list')).items);
    assert.ok(admin.includes('XXSECRETXX'), 'the admin sees the URL to edit it');
    await t.call('notify.target.delete', { id: 'slack' });
  });

  it('19: a mail address starting with - is refused in plain words', async () => {
    assert.ok(t);
    for (const to of ['-oQ/tmp/x@example.com', '--help@example.com'])
      await assert.rejects(
        t.call('notify.target.set', {
          target: { id: 'm', kind: 'sendmail', sendmail: { from: 'calypso@example.com', to: [to] } },
        }),
        (e: Error) => kindOf(e) === 'invalid' && /may not start with -/.test(e.message),
        to,
      );
    await assert.rejects(
      t.call('notify.target.set', {
        target: { id: 'm', kind: 'sendmail', sendmail: { from: '-f@example.com', to: ['a@example.com'] } },
      }),
      (e: Error) => kindOf(e) === 'invalid' && /may not start with -/.test(e.message),
    );
    assert.deepEqual((await t.call<{ items: unknown[] }>('notify.target.list')).items, []);
  });
});
