/**
 * Notifications: alerts leave the box by e-mail (SMTP with STARTTLS/TLS and auth, or the local
 * sendmail) and by webhook (JSON POST signed with HMAC-SHA256).
 *
 * Every `alert.raised` / `alert.cleared` the engine publishes (a fresh alert, a state change or
 * a clear: repeats of an open alert only update its count, so they never flood anyone — the
 * cleared message says how many times it was seen) is routed to the enabled targets whose
 * minimum level and sources match, and written to an outbox in LMDB before anything is sent.
 * A worker delivers due entries, retrying with exponential backoff (`notify.retryBaseMs` ×
 * 2^attempt, `notify.maxAttempts`); the outbox survives a restart, so a message waiting for a
 * retry is sent by the next agent. An entry leaves the outbox in the same LMDB transaction that
 * records the target's success; each message carries a stable id (webhook
 * `X-Calypso-Delivery`, e-mail `Message-ID`) so that a receiver can drop the one duplicate a
 * crash between "sent" and that transaction could cause. After the last attempt the target
 * raises its own alert (`notify.target:<id>`), cleared by its next success.
 *
 * Repeats are summed up instead of sent: each target remembers the count of every alert it was
 * sent, and at most every `digestMinutes` (default 60; 0: never) it gets one digest message
 * listing the active alerts that were raised again since — how many times, and the last time —
 * so a pool that stays degraded for a week is a reminder an hour, not a message a minute.
 *
 * Credentials (SMTP password, webhook secret) live in secrets.env only.
 */
import { createHmac } from 'node:crypto';
import { hostname } from 'node:os';
import { type Static, Type } from '@sinclair/typebox';
import { failed, invalid, notFound } from '../../rpc/errors.js';
import { defineMethod } from '../../rpc/registry.js';
import { updateSecrets } from '../backup/secrets.js';
import { configOf, defineConfigSlice } from '../config.js';
import type { AgentDeps, Service, Subsystem } from '../deps.js';
import type { Alert, AlertLevel } from './engine.js';
import { ALERT_SOURCES } from './rules.js';

export const notifyConfig = defineConfigSlice(
  'notify',
  Type.Object(
    {
      retryBaseMs: Type.Integer({
        minimum: 10,
        maximum: 3_600_000,
        default: 30_000,
        description: 'first retry delay; each next one doubles',
      }),
      maxAttempts: Type.Integer({ minimum: 1, maximum: 50, default: 8, description: 'attempts per message' }),
      tickMs: Type.Integer({
        minimum: 10,
        maximum: 60_000,
        default: 1000,
        description: 'outbox check interval',
      }),
      maxOutbox: Type.Integer({
        minimum: 10,
        maximum: 1_000_000,
        default: 10_000,
        description: 'messages kept waiting at most; the oldest are dropped beyond',
      }),
      sendmailPath: Type.String({ default: '/usr/sbin/sendmail', pattern: '^/[^\\s"]{1,255}$' }),
      timeoutMs: Type.Integer({
        minimum: 1000,
        maximum: 120_000,
        default: 15_000,
        description: 'per delivery',
      }),
    },
    { additionalProperties: false, default: {} },
  ),
);
type NotifyConfig = Static<typeof notifyConfig.schema>;

const Email = Type.String({
  maxLength: 254,
  pattern: '^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\\.[A-Za-z0-9-]{1,63})+$',
  description: 'an e-mail address (user@domain)',
});
const Host = Type.String({
  maxLength: 253,
  pattern:
    '^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\\[?[0-9a-fA-F:.]{2,45}\\]?$',
  description: 'SMTP server host name or address',
});
const TargetId = Type.String({
  pattern: '^[a-z0-9][a-z0-9-]{0,31}$',
  description: 'target id (a-z, 0-9, -)',
});
const Level = Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]);
const Secret = Type.String({ minLength: 1, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' });

const SmtpSchema = Type.Object(
  {
    host: Host,
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 587 }),
    security: Type.Union([Type.Literal('starttls'), Type.Literal('tls'), Type.Literal('none')], {
      default: 'starttls',
      description: 'starttls: required upgrade (port 587); tls: implicit (465); none: plain (local relays)',
    }),
    verifyTls: Type.Boolean({ default: true, description: 'check the server certificate' }),
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' })),
    from: Email,
    to: Type.Array(Email, { minItems: 1, maxItems: 50 }),
  },
  { additionalProperties: false },
);
const SendmailSchema = Type.Object(
  { from: Email, to: Type.Array(Email, { minItems: 1, maxItems: 50 }) },
  { additionalProperties: false },
);
const WebhookSchema = Type.Object(
  { url: Type.String({ maxLength: 2048, description: 'http(s) URL, without credentials' }) },
  { additionalProperties: false },
);

const Routing = {
  minLevel: Type.Optional({ ...Level, description: 'the least level sent (default warning)' }),
  sources: Type.Optional(
    Type.Array(Type.Union(ALERT_SOURCES.map((s) => Type.Literal(s))), {
      uniqueItems: true,
      description: 'only these sources (default: all)',
    }),
  ),
  enabled: Type.Optional(Type.Boolean({ description: 'default true' })),
  digestMinutes: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 10_080,
      description:
        'at most this often, one message listing the active alerts raised again since the last (default 60; 0: no digest)',
    }),
  ),
};

export const TargetSchema = Type.Union([
  Type.Object(
    { id: TargetId, kind: Type.Literal('smtp'), smtp: SmtpSchema, ...Routing },
    { additionalProperties: false },
  ),
  Type.Object(
    { id: TargetId, kind: Type.Literal('sendmail'), sendmail: SendmailSchema, ...Routing },
    { additionalProperties: false },
  ),
  Type.Object(
    { id: TargetId, kind: Type.Literal('webhook'), webhook: WebhookSchema, ...Routing },
    { additionalProperties: false },
  ),
]);
export type NotifyTarget = Static<typeof TargetSchema>;

interface TargetStatus {
  lastSuccess?: string;
  lastError?: string;
  lastErrorAt?: string;
  failures: number;
}

/** One alert in a digest: how many times it was raised again since it was last sent. */
export interface DigestItem {
  key: string;
  level: AlertLevel;
  source: string;
  title: string;
  count: number;
  repeats: number;
  lastSeen: string;
}

interface OutboxEntry {
  seq: number;
  target: string;
  event: 'raised' | 'cleared' | 'test' | 'digest';
  /** for a digest: a summary alert (worst level, total repeats) */
  alert: Alert;
  digest?: DigestItem[];
  attempts: number;
  nextAt: number;
  created: number;
  lastError?: string;
}

const RANK: Record<AlertLevel, number> = { info: 0, warning: 1, critical: 2 };

export const secretKey = (id: string, what: 'password' | 'secret') =>
  `NOTIFY_${id.toUpperCase().replaceAll('-', '_')}_${what.toUpperCase()}`;

/** A webhook URL must be http(s), with no user or password in it. */
export function checkWebhookUrl(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `webhook URL ${JSON.stringify(url)} is not a URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return `webhook URL scheme ${u.protocol} is not http or https`;
  if (u.username || u.password)
    return 'a webhook URL must not carry credentials: the secret signs the body instead (X-Calypso-Signature)';
  return undefined;
}

export const DEFAULT_DIGEST_MINUTES = 60;

export function subjectOf(a: Alert, event: OutboxEntry['event'], host: string): string {
  if (event === 'digest') return `[calypso ${host}] DIGEST ${a.title} (worst: ${a.level.toUpperCase()})`;
  const what = event === 'cleared' ? 'CLEARED' : event === 'test' ? 'TEST' : a.level.toUpperCase();
  return `[calypso ${host}] ${what} ${a.source}: ${a.title}`;
}

/**
 * The active alerts of a target's digest: routed to it, raised again since `since` (ISO) and
 * seen more often than when it was last sent one (`sent`: key → count then). Worst first.
 */
export function digestItems(
  alerts: readonly Alert[],
  since: string,
  sent: (key: string) => number | undefined,
  routed: (a: Alert) => boolean,
): DigestItem[] {
  const out: DigestItem[] = [];
  for (const a of alerts) {
    if (a.state !== 'active' || a.lastSeen < since || !routed(a)) continue;
    const before = sent(a.key) ?? 0;
    if (a.count <= before) continue;
    out.push({
      key: a.key,
      level: a.level,
      source: a.source,
      title: a.title,
      count: a.count,
      repeats: a.count - before,
      lastSeen: a.lastSeen,
    });
  }
  return out.sort((x, y) => RANK[y.level] - RANK[x.level] || (x.key < y.key ? -1 : 1));
}

function digestBody(a: Alert, items: DigestItem[], host: string): string {
  return [
    `Still active on ${host} and raised again since ${a.firstSeen} (sent before; this is a reminder, not news):`,
    '',
    ...items.map(
      (i) =>
        `- ${i.level.toUpperCase()} ${i.source}: ${i.title}\n  ${i.repeats} more time${i.repeats === 1 ? '' : 's'} (${i.count} in all), last ${i.lastSeen}; key ${i.key}`,
    ),
    '',
    'Open the Alerts page of the appliance (Cockpit → Calypso → Alerts) to acknowledge them: acknowledged alerts leave the digest.',
  ].join('\n');
}

export function bodyOf(
  a: Alert,
  event: OutboxEntry['event'],
  host: string,
  items: DigestItem[] = [],
): string {
  if (event === 'digest') return digestBody(a, items, host);
  return [
    event === 'cleared'
      ? `Cleared on ${host}: ${a.title}`
      : event === 'test'
        ? `A test message from ${host}: notifications reach you.`
        : `${a.level.toUpperCase()} on ${host}: ${a.title}`,
    '',
    ...(a.detail ? [a.detail, ''] : []),
    `Source:     ${a.source}`,
    `Alert key:  ${a.key}`,
    `State:      ${event === 'cleared' ? 'cleared' : a.state}`,
    `First seen: ${a.firstSeen}`,
    `Last seen:  ${a.lastSeen}`,
    `Times seen: ${a.count}`,
    ...(a.clearedAt ? [`Cleared at: ${a.clearedAt}`] : []),
    '',
    'Open the Alerts page of the appliance (Cockpit → Calypso → Alerts) to acknowledge it.',
  ].join('\n');
}

export function webhookPayload(
  a: Alert,
  event: OutboxEntry['event'],
  host: string,
  id: string,
  items?: DigestItem[],
) {
  return JSON.stringify({ id, event, host, alert: a, ...(items ? { alerts: items } : {}) });
}

export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function notifyService(deps: AgentDeps): Service {
  const cfg: NotifyConfig = configOf(deps.config, notifyConfig);
  const db = deps.store.db('alerts');
  const log = deps.log.child({ area: 'notify' });
  const host = hostname();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const targets = (): NotifyTarget[] => {
    const out: NotifyTarget[] = [];
    for (const { value } of db.getRange({ start: 'notify/target/', end: 'notify/target/\uffff' }))
      out.push(value as NotifyTarget);
    return out;
  };
  const status = (id: string): TargetStatus =>
    (db.get(`notify/status/${id}`) as TargetStatus | undefined) ?? { failures: 0 };
  const outbox = (): OutboxEntry[] => {
    const out: OutboxEntry[] = [];
    for (const { value } of db.getRange({ start: 'notify/outbox/', end: 'notify/outbox/\uffff' }))
      out.push(value as OutboxEntry);
    return out;
  };
  const oKey = (seq: number) => `notify/outbox/${String(seq).padStart(12, '0')}`;
  let seq = (() => {
    let n = (db.get('notify/seq') as number | undefined) ?? 0;
    for (const e of outbox()) n = Math.max(n, e.seq);
    return n;
  })();

  const routes = (t: NotifyTarget, a: Alert) =>
    t.enabled !== false &&
    RANK[a.level] >= RANK[t.minLevel ?? 'warning'] &&
    (!t.sources || t.sources.includes(a.source as never));

  const sentKey = (target: string, key: string) => `notify/sent/${target}/${key}`;

  /**
   * Queue a message; in the same transaction, remember what the target now knows of the alert
   * (its count when sent, forgotten when cleared) for the digest of repeats.
   */
  async function enqueue(
    target: string,
    event: OutboxEntry['event'],
    alert: Alert,
    digest?: DigestItem[],
  ): Promise<void> {
    const n = ++seq; // the transaction runs later: two enqueues in one tick must not share a number
    const e: OutboxEntry = {
      seq: n,
      target,
      event,
      alert,
      ...(digest ? { digest } : {}),
      attempts: 0,
      nextAt: deps.clock.now(),
      created: deps.clock.now(),
    };
    await db.transaction(() => {
      db.put(oKey(n), e);
      db.put('notify/seq', Math.max(n, (db.get('notify/seq') as number | undefined) ?? 0));
      if (event === 'raised') db.put(sentKey(target, alert.key), alert.count);
      else if (event === 'cleared') db.remove(sentKey(target, alert.key));
      else if (event === 'digest') {
        db.put(`notify/digest/${target}`, deps.clock.now());
        for (const i of digest ?? []) db.put(sentKey(target, i.key), i.count);
      }
    });
    const all = outbox();
    for (const old of all.slice(0, Math.max(0, all.length - cfg.maxOutbox))) {
      log.warn({ target: old.target, alert: old.alert.key }, 'notify: outbox full, oldest message dropped');
      await db.remove(oKey(old.seq));
    }
    kick();
  }

  const onAlert = (event: 'raised' | 'cleared') => (ev: { data: unknown }) => {
    const a = ev.data as Alert;
    // the notifier's own alerts go to the other targets only (never in a loop to the failing one)
    for (const t of targets())
      if (routes(t, a) && a.key !== `notify.target:${t.id}`)
        void enqueue(t.id, event, a).catch((err) => log.error({ err }, 'notify: enqueue failed'));
  };

  /** Queue the digest of every target whose digest period has passed and that has repeats. */
  async function digests(): Promise<void> {
    const now = deps.clock.now();
    let all: Alert[] | undefined;
    for (const t of targets()) {
      const minutes = t.digestMinutes ?? DEFAULT_DIGEST_MINUTES;
      if (t.enabled === false || minutes === 0) continue;
      const last = db.get(`notify/digest/${t.id}`) as number | undefined;
      if (last === undefined) {
        await db.put(`notify/digest/${t.id}`, now); // the first period starts now
        continue;
      }
      if (now - last < minutes * 60_000) continue;
      all ??= deps.alerts.list();
      const items = digestItems(
        all,
        new Date(last).toISOString(),
        (k) => db.get(sentKey(t.id, k)) as number | undefined,
        (a) => routes(t, a) && a.key !== `notify.target:${t.id}`,
      );
      if (items.length === 0) {
        await db.put(`notify/digest/${t.id}`, now);
        continue;
      }
      const worst = items[0]!.level;
      const repeats = items.reduce((n, i) => n + i.repeats, 0);
      const summary: Alert = {
        key: 'notify.digest',
        level: worst,
        source: 'notify',
        title: `${items.length} alert${items.length === 1 ? '' : 's'} raised again`,
        state: 'active',
        firstSeen: new Date(last).toISOString(),
        lastSeen: new Date(now).toISOString(),
        count: repeats,
      };
      await enqueue(t.id, 'digest', summary, items);
    }
  }

  /** Send one message to one target now; throws with the reason. */
  async function deliver(
    t: NotifyTarget,
    e: Pick<OutboxEntry, 'seq' | 'event' | 'alert' | 'digest'>,
  ): Promise<void> {
    const id = `calypso-${host}-${e.seq}`;
    if (t.kind === 'webhook') {
      const secret = deps.secrets.get(secretKey(t.id, 'secret'));
      if (!secret) throw failed(`webhook ${t.id}: its secret is missing from secrets.env`);
      const body = webhookPayload(e.alert, e.event, host, id, e.digest);
      const r = await fetch(t.webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'calypso-agent',
          'x-calypso-signature': sign(secret, body),
          'x-calypso-delivery': id,
        },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(cfg.timeoutMs),
      });
      await r.arrayBuffer().catch(() => undefined);
      if (r.status < 200 || r.status > 299) throw failed(`webhook ${t.id}: HTTP ${r.status}`);
      return;
    }
    const mail = {
      from: t.kind === 'smtp' ? t.smtp.from : t.sendmail.from,
      to: (t.kind === 'smtp' ? t.smtp.to : t.sendmail.to).join(', '),
      subject: subjectOf(e.alert, e.event, host),
      text: bodyOf(e.alert, e.event, host, e.digest),
      messageId: `<${id}@calypso>`,
    };
    // loaded on the first mail, not at start: most appliances never send one from this process
    const nodemailer = (await import('nodemailer')).default;
    const transport =
      t.kind === 'smtp'
        ? nodemailer.createTransport({
            host: t.smtp.host.replace(/^\[|\]$/g, ''),
            port: t.smtp.port,
            secure: t.smtp.security === 'tls',
            requireTLS: t.smtp.security === 'starttls',
            ignoreTLS: t.smtp.security === 'none',
            tls: { rejectUnauthorized: t.smtp.verifyTls },
            connectionTimeout: cfg.timeoutMs,
            greetingTimeout: cfg.timeoutMs,
            socketTimeout: cfg.timeoutMs,
            ...(t.smtp.user
              ? { auth: { user: t.smtp.user, pass: deps.secrets.get(secretKey(t.id, 'password')) ?? '' } }
              : {}),
          })
        : nodemailer.createTransport({ sendmail: true, newline: 'unix', path: cfg.sendmailPath });
    try {
      await transport.sendMail(mail);
    } catch (err) {
      throw failed(`${t.kind} ${t.id}: ${(err as Error).message}`);
    } finally {
      transport.close();
    }
  }

  async function work(): Promise<void> {
    await digests();
    const now = deps.clock.now();
    const byId = new Map(targets().map((t) => [t.id, t]));
    for (const e of outbox()) {
      if (stopped) return;
      if (e.nextAt > now) continue;
      const t = byId.get(e.target);
      if (!t) {
        await db.remove(oKey(e.seq));
        continue;
      }
      try {
        await deliver(t, e);
        const st = status(t.id);
        await db.transaction(() => {
          db.remove(oKey(e.seq));
          db.put(`notify/status/${t.id}`, {
            ...st,
            lastSuccess: new Date(deps.clock.now()).toISOString(),
            failures: 0,
          });
        });
        await deps.alerts.clear(`notify.target:${t.id}`);
      } catch (err) {
        const why = (err as Error).message;
        const attempts = e.attempts + 1;
        const st = status(t.id);
        const at = new Date(deps.clock.now()).toISOString();
        if (attempts >= cfg.maxAttempts) {
          await db.transaction(() => {
            db.remove(oKey(e.seq));
            db.put(`notify/status/${t.id}`, {
              ...st,
              lastError: why,
              lastErrorAt: at,
              failures: st.failures + 1,
            });
          });
          log.error({ target: t.id, alert: e.alert.key, attempts }, `notify: gave up: ${why}`);
          await deps.alerts.raise({
            key: `notify.target:${t.id}`,
            level: 'warning',
            source: 'notify',
            title: `notifications to ${t.id} fail`,
            detail: `A message (${e.alert.key}) could not be delivered after ${attempts} attempts: ${why}. Check the target (notify.target.test).`,
            data: { target: t.id },
          });
        } else {
          await db.transaction(() => {
            db.put(oKey(e.seq), {
              ...e,
              attempts,
              lastError: why,
              nextAt: deps.clock.now() + cfg.retryBaseMs * 2 ** (attempts - 1),
            });
            db.put(`notify/status/${t.id}`, { ...st, lastError: why, lastErrorAt: at });
          });
          log.warn({ target: t.id, attempts }, `notify: will retry: ${why}`);
        }
      }
    }
  }

  function kick(): void {
    if (stopped || running) return;
    running = work()
      .catch((err) => log.error({ err }, 'notify: worker failed'))
      .finally(() => {
        running = undefined;
      });
  }

  const offs: (() => void)[] = [];
  const view = (t: NotifyTarget) => {
    const st = status(t.id);
    const pending = outbox().filter((e) => e.target === t.id).length;
    const secretSet =
      t.kind === 'webhook'
        ? deps.secrets.has(secretKey(t.id, 'secret'))
        : t.kind === 'smtp' && t.smtp.user
          ? deps.secrets.has(secretKey(t.id, 'password'))
          : true;
    return { target: t, status: { ...st, pending, secretSet } };
  };
  const TargetView = Type.Object({
    target: TargetSchema,
    status: Type.Object({
      lastSuccess: Type.Optional(Type.String()),
      lastError: Type.Optional(Type.String()),
      lastErrorAt: Type.Optional(Type.String()),
      failures: Type.Integer(),
      pending: Type.Integer({ description: 'messages in the outbox' }),
      secretSet: Type.Boolean(),
    }),
  });

  return {
    name: 'notify',
    start: () => {
      offs.push(deps.events.on(['alert.raised'], onAlert('raised')));
      offs.push(deps.events.on(['alert.cleared'], onAlert('cleared')));
      timer = setInterval(kick, cfg.tickMs);
      timer.unref();
      kick();
    },
    stop: async () => {
      stopped = true;
      if (timer) clearInterval(timer);
      for (const off of offs) off();
      await running;
    },
    methods: [
      defineMethod({
        name: 'notify.target.list',
        summary:
          'Notification targets with their delivery status (last success, last error, messages waiting)',
        params: Type.Object({}, { additionalProperties: false }),
        result: Type.Array(TargetView),
        role: 'auditor',
        mutating: false,
        handler: async () => targets().map(view) as never,
      }),
      defineMethod({
        name: 'notify.target.set',
        summary: 'Create or replace a notification target (SMTP, sendmail, webhook) and its routing',
        params: Type.Object(
          {
            target: {
              ...TargetSchema,
              description: 'the target: id, kind and its settings, minimum level, sources',
            },
            password: Type.Optional({ ...Secret, description: 'SMTP password (secrets.env only)' }),
            secret: Type.Optional({ ...Secret, description: 'webhook HMAC secret (secrets.env only)' }),
          },
          { additionalProperties: false },
        ),
        result: TargetView,
        role: 'admin',
        mutating: true,
        secretParams: ['password', 'secret'],
        handler: async (p, ctx) => {
          const t = p.target;
          if (t.kind === 'webhook') {
            const why = checkWebhookUrl(t.webhook.url);
            if (why) throw invalid(why, { url: '(not shown)' });
            if (!p.secret && !deps.secrets.has(secretKey(t.id, 'secret')))
              throw invalid(`webhook ${t.id} needs a secret to sign its messages`);
          }
          if (p.password && !(t.kind === 'smtp' && t.smtp.user))
            throw invalid('a password goes with an SMTP target that has a user');
          if (p.secret && t.kind !== 'webhook') throw invalid('a secret goes with a webhook target');
          if (ctx.dryRun) return view(t) as never;
          const changes = [
            ...(p.password ? [{ key: secretKey(t.id, 'password'), value: p.password }] : []),
            ...(p.secret ? [{ key: secretKey(t.id, 'secret'), value: p.secret }] : []),
          ];
          await updateSecrets(deps.layout.secretsFile, deps.secrets, changes);
          await db.put(`notify/target/${t.id}`, t);
          return view(t) as never;
        },
      }),
      defineMethod({
        name: 'notify.target.delete',
        summary: 'Remove a notification target, its waiting messages and its secrets',
        params: Type.Object({ id: TargetId }, { additionalProperties: false }),
        result: Type.Object({
          id: Type.String(),
          dropped: Type.Integer({ description: 'waiting messages dropped' }),
        }),
        role: 'admin',
        mutating: true,
        handler: async (p, ctx) => {
          if (!db.get(`notify/target/${p.id}`)) throw notFound(`no notification target ${p.id}`);
          const mine = outbox().filter((e) => e.target === p.id);
          if (ctx.dryRun) return { id: p.id, dropped: mine.length };
          await db.transaction(() => {
            db.remove(`notify/target/${p.id}`);
            db.remove(`notify/status/${p.id}`);
            db.remove(`notify/digest/${p.id}`);
            for (const k of db.getKeys({ start: `notify/sent/${p.id}/`, end: `notify/sent/${p.id}/\uffff` }))
              db.remove(k);
            for (const e of mine) db.remove(oKey(e.seq));
          });
          await updateSecrets(deps.layout.secretsFile, deps.secrets, [
            { key: secretKey(p.id, 'password'), value: undefined },
            { key: secretKey(p.id, 'secret'), value: undefined },
          ]);
          await deps.alerts.clear(`notify.target:${p.id}`);
          return { id: p.id, dropped: mine.length };
        },
      }),
      defineMethod({
        name: 'notify.target.test',
        summary: 'Send a test message to a target now; answers once it is delivered, or with the error',
        params: Type.Object({ id: TargetId }, { additionalProperties: false }),
        result: Type.Object({ delivered: Type.Boolean(), subject: Type.String() }),
        role: 'admin',
        mutating: true,
        handler: async (p, ctx) => {
          const t = db.get(`notify/target/${p.id}`) as NotifyTarget | undefined;
          if (!t) throw notFound(`no notification target ${p.id}`);
          const now = new Date(deps.clock.now()).toISOString();
          const alert: Alert = {
            key: 'notify.test',
            level: 'info',
            source: 'notify',
            title: 'test message',
            detail: `Sent by ${ctx.identity.user} to check target ${t.id}.`,
            state: 'active',
            firstSeen: now,
            lastSeen: now,
            count: 1,
          };
          const subject = subjectOf(alert, 'test', host);
          if (ctx.dryRun) return { delivered: false, subject };
          const n = ++seq;
          await db.put('notify/seq', n);
          await deliver(t, { seq: n, event: 'test', alert });
          const st = status(t.id);
          await db.put(`notify/status/${t.id}`, { ...st, lastSuccess: now, failures: 0 });
          await deps.alerts.clear(`notify.target:${t.id}`);
          return { delivered: true, subject };
        },
      }),
      defineMethod({
        name: 'notify.outbox.list',
        summary: 'Messages waiting to be delivered (with their attempts and next try)',
        params: Type.Object({}, { additionalProperties: false }),
        result: Type.Array(
          Type.Object({
            seq: Type.Integer(),
            target: Type.String(),
            event: Type.String(),
            alert: Type.String({ description: 'alert key' }),
            attempts: Type.Integer(),
            nextAt: Type.String(),
            lastError: Type.Optional(Type.String()),
          }),
        ),
        role: 'auditor',
        mutating: false,
        handler: async () =>
          outbox().map((e) => ({
            seq: e.seq,
            target: e.target,
            event: e.event,
            alert: e.alert.key,
            attempts: e.attempts,
            nextAt: new Date(e.nextAt).toISOString(),
            ...(e.lastError ? { lastError: e.lastError } : {}),
          })),
      }),
    ],
  };
}

export const notifySubsystem: Subsystem = { name: 'notify', service: notifyService, config: notifyConfig };
