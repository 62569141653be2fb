/**
 * Notification targets and their messages (pure): the target schemas (SMTP, sendmail,
 * webhook, routing and digest period), the checks a schema cannot make, and what each message
 * says — e-mail subject and text, the webhook's JSON and its HMAC signature, the digest of
 * repeats. The delivery service is agent/alerts/notify.ts.
 */
import { createHmac } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import type { Alert, AlertLevel } from '../alert-engine.js';
import { sourceSchema } from '../alert-rules.js';
import { format } from '../formats.js';

/** What a message is about: an alert raised or cleared, a test, or a digest of repeats. */
export type MessageEvent = 'raised' | 'cleared' | 'test' | 'digest';

/**
 * A mail address. It never starts with `-`: sendmail and SMTP clients read such a word as an
 * option (issue #28 item 19), so the schema refuses it before any tool sees it.
 */
export const Email = format({
  maxLength: 254,
  pattern: '^[A-Za-z0-9._%+][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]{1,63}(\\.[A-Za-z0-9-]{1,63})+$',
  description: 'an e-mail address (user@domain)',
  example: 'ops@example.com',
  errorMessage:
    'an e-mail address is user@domain: letters, digits and . _ % + - before the @, a domain name after it',
  rules: [
    {
      pattern: '^[^-]',
      message: 'an e-mail address may not start with - (tools would read it as an option)',
    },
    { maxLength: 254, message: 'an e-mail address has at most 254 characters' },
  ],
});
const Host = Type.String({
  maxLength: 253,
  pattern:
    '^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\\[?[0-9a-fA-F:.]{2,45}\\]?$',
  description: 'SMTP server host name or address',
});
export const TargetId = Type.String({
  pattern: '^[a-z0-9][a-z0-9-]{0,31}$',
  description: 'target id (a-z, 0-9, -)',
});
const Level = Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]);
export const Secret = Type.String({ minLength: 1, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' });

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

const routing = (sources: readonly string[]) => ({
  minLevel: Type.Optional({ ...Level, description: 'the least level sent (default warning)' }),
  sources: Type.Optional(
    Type.Array(sourceSchema(sources), {
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
});

/** A target's schema over the agent's alert sources (`deps.alertSources`). */
export function targetSchema(sources: readonly string[]) {
  const Routing = routing(sources);
  return Type.Union([
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
}
export type NotifyTarget = Static<ReturnType<typeof targetSchema>>;

/** A target as notify.target.list shows it: its settings and its delivery status. */
export const targetView = (sources: readonly string[]) =>
  Type.Object({
    target: targetSchema(sources),
    status: Type.Object({
      lastSuccess: Type.Optional(Type.String()),
      lastError: Type.Optional(Type.String()),
      lastErrorAt: Type.Optional(Type.String()),
      failures: Type.Integer(),
      pending: Type.Integer({ description: 'messages in the outbox' }),
      secretSet: Type.Boolean(),
    }),
  });

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

export const RANK: Record<AlertLevel, number> = { info: 0, warning: 1, critical: 2 };

export const secretKey = (id: string, what: 'password' | 'secret') =>
  `NOTIFY_${id.toUpperCase().replaceAll('-', '_')}_${what.toUpperCase()}`;

export const DEFAULT_DIGEST_MINUTES = 60;

export function subjectOf(a: Alert, event: MessageEvent, host: string): string {
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

export function bodyOf(a: Alert, event: MessageEvent, host: string, items: DigestItem[] = []): string {
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
  event: MessageEvent,
  host: string,
  id: string,
  items?: DigestItem[],
) {
  return JSON.stringify({ id, event, host, alert: a, ...(items ? { alerts: items } : {}) });
}

export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
