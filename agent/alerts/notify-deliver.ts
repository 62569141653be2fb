/**
 * Sending one message over a target's transport: webhook (JSON POST signed with HMAC-SHA256,
 * no redirects, one timeout, a bounded answer, refused addresses: webhook.ts) or e-mail through nodemailer (SMTP with STARTTLS/TLS and auth, or
 * the local sendmail). Throws `failed` with the reason; the outbox in notify.ts retries.
 */
import { failed } from '../../rpc/errors.js';
import type { Alert } from '../alert-engine.js';
import { nodemailer } from '../util/lazy-modules.js';
import {
  bodyOf,
  type DigestItem,
  type MessageEvent,
  type NotifyTarget,
  secretKey,
  sign,
  subjectOf,
  webhookPayload,
} from './notify-targets.js';
import { postWebhook, type WebhookPolicy } from './webhook.js';

/** What is sent: its sequence number makes the message id receivers deduplicate on. */
export interface Message {
  seq: number;
  event: MessageEvent;
  alert: Alert;
  digest?: DigestItem[];
}

export interface DeliveryOptions {
  /** this appliance's host name, in ids, subjects and payloads */
  host: string;
  /** a secret from secrets.env by key */
  secret: (key: string) => string | undefined;
  timeoutMs: number;
  sendmailPath: string;
  /** where webhooks may point (webhook.ts) */
  policy: WebhookPolicy;
}

/** Send one message to one target now; throws with the reason. */
export async function deliverMessage(t: NotifyTarget, e: Message, o: DeliveryOptions): Promise<void> {
  const id = `calypso-${o.host}-${e.seq}`;
  if (t.kind === 'webhook') {
    const secret = o.secret(secretKey(t.id, 'secret'));
    if (!secret) throw failed(`webhook ${t.id}: its secret is missing from secrets.env`);
    const body = webhookPayload(e.alert, e.event, o.host, id, e.digest);
    await postWebhook({
      url: t.webhook.url,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'calypso-agent',
        'x-calypso-signature': sign(secret, body),
        'x-calypso-delivery': id,
      },
      body,
      timeoutMs: o.timeoutMs,
      policy: o.policy,
      id: t.id,
    });
    return;
  }
  const mail = {
    from: t.kind === 'smtp' ? t.smtp.from : t.sendmail.from,
    to: (t.kind === 'smtp' ? t.smtp.to : t.sendmail.to).join(', '),
    subject: subjectOf(e.alert, e.event, o.host),
    text: bodyOf(e.alert, e.event, o.host, e.digest),
    messageId: `<${id}@calypso>`,
  };
  // loaded on the first mail, not at start: most appliances never send one from this process
  const mailer = await nodemailer();
  const transport =
    t.kind === 'smtp'
      ? mailer.createTransport({
          host: t.smtp.host.replace(/^\[|\]$/g, ''),
          port: t.smtp.port,
          secure: t.smtp.security === 'tls',
          requireTLS: t.smtp.security === 'starttls',
          ignoreTLS: t.smtp.security === 'none',
          tls: { rejectUnauthorized: t.smtp.verifyTls },
          connectionTimeout: o.timeoutMs,
          greetingTimeout: o.timeoutMs,
          socketTimeout: o.timeoutMs,
          ...(t.smtp.user
            ? { auth: { user: t.smtp.user, pass: o.secret(secretKey(t.id, 'password')) ?? '' } }
            : {}),
        })
      : mailer.createTransport({ sendmail: true, newline: 'unix', path: o.sendmailPath });
  try {
    await transport.sendMail(mail);
  } catch (err) {
    throw failed(`${t.kind} ${t.id}: ${(err as Error).message}`);
  } finally {
    transport.close();
  }
}
