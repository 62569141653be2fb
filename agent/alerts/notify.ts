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
 * Credentials (SMTP password, webhook secret) live in secrets.env only. How a message goes
 * over each transport: notify-deliver.ts; what it says: notify-targets.ts.
 */
import { hostname } from 'node:os';
import { Type } from '@sinclair/typebox';
import { invalid, notFound } from '../../rpc/errors.js';
import { listed, listResult } from '../../rpc/list.js';
import { defineMethod } from '../../rpc/registry.js';
import { roleAllows } from '../../rpc/roles.js';
import type { Alert } from '../alert-engine.js';
import { configOf } from '../config.js';
import type { AgentDeps, Service, Subsystem } from '../deps.js';
import { type NotifyConfig, notifyConfig } from './notify-config.js';
import { deliverMessage, type Message } from './notify-deliver.js';
import {
  DEFAULT_DIGEST_MINUTES,
  type DigestItem,
  digestItems,
  type NotifyTarget,
  RANK,
  Secret,
  secretKey,
  subjectOf,
  TargetId,
  targetSchema,
  targetView,
} from './notify-targets.js';
import { checkWebhookUrl, redactUrl, type WebhookPolicy } from './webhook.js';

interface TargetStatus {
  lastSuccess?: string;
  lastError?: string;
  lastErrorAt?: string;
  failures: number;
}

/** A message waiting for its target (for a digest, `alert` is a summary: worst level, total repeats). */
interface OutboxEntry extends Message {
  target: string;
  attempts: number;
  nextAt: number;
  created: number;
  lastError?: string;
}

function notifyService(deps: AgentDeps): Service {
  const cfg: NotifyConfig = configOf(deps.config, notifyConfig);
  const TargetSchema = targetSchema(deps.alertSources);
  const TargetView = targetView(deps.alertSources);
  const db = deps.store.db('alerts');
  const log = deps.log.child({ area: 'notify' });
  const host = hostname();
  const ws = deps.config.agent.websocket;
  const policy: WebhookPolicy = {
    allow: cfg.webhookAllow,
    ownPorts: ws.enabled && ws.port > 0 ? [ws.port] : [],
  };
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

  const deliver = (t: NotifyTarget, e: Message) =>
    deliverMessage(t, e, {
      host,
      secret: (k) => deps.secrets.get(k),
      timeoutMs: cfg.timeoutMs,
      sendmailPath: cfg.sendmailPath,
      policy,
    });

  /** Deliver one due message; on failure schedule its retry, or give up and raise the target's alert. */
  async function attempt(t: NotifyTarget, e: OutboxEntry): Promise<void> {
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

  /** Targets with a delivery under way: each target's messages go one by one, in order. */
  const busy = new Map<string, Promise<void>>();

  async function drain(t: NotifyTarget, due: OutboxEntry[]): Promise<void> {
    for (const e of due) {
      if (stopped) return;
      await attempt(t, e);
    }
  }

  /**
   * Queue digests, then start a delivery for each target with due messages that is not already
   * busy, at most `concurrency` targets at once: a slow or hanging target delays only its own
   * messages (issue #28 item 12).
   */
  async function work(): Promise<void> {
    await digests();
    const now = deps.clock.now();
    const byId = new Map(targets().map((t) => [t.id, t]));
    const due = new Map<string, OutboxEntry[]>();
    for (const e of outbox()) {
      if (e.nextAt > now) continue;
      if (!byId.has(e.target)) {
        await db.remove(oKey(e.seq));
        continue;
      }
      const q = due.get(e.target) ?? [];
      q.push(e);
      due.set(e.target, q);
    }
    for (const [id, q] of due) {
      if (stopped || busy.size >= cfg.concurrency) return;
      if (busy.has(id)) continue;
      const p = drain(byId.get(id)!, q)
        .catch((err) => log.error({ err, target: id }, 'notify: delivery failed'))
        .finally(() => {
          busy.delete(id);
          kick();
        });
      busy.set(id, p);
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
      await Promise.all(busy.values());
    },
    methods: [
      defineMethod({
        name: 'notify.target.list',
        summary:
          'Notification targets with their delivery status (last success, last error, messages waiting)',
        params: Type.Object({}, { additionalProperties: false }),
        result: listResult(TargetView),
        role: 'auditor',
        mutating: false,
        // below admin, a webhook URL shows scheme, host and port only: its path may be a secret
        handler: async (_p, ctx) =>
          listed(
            targets().map((t) =>
              view(
                t.kind === 'webhook' && !roleAllows(ctx.identity.role, 'admin')
                  ? { ...t, webhook: { url: redactUrl(t.webhook.url) } }
                  : t,
              ),
            ),
          ) as never,
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
            const why = checkWebhookUrl(t.webhook.url, policy);
            if (why) throw invalid(why, { url: redactUrl(t.webhook.url) });
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
          await deps.secrets.update(changes);
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
          await deps.secrets.update([
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
        result: listResult(
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
          listed(
            outbox().map((e) => ({
              seq: e.seq,
              target: e.target,
              event: e.event,
              alert: e.alert.key,
              attempts: e.attempts,
              nextAt: new Date(e.nextAt).toISOString(),
              ...(e.lastError ? { lastError: e.lastError } : {}),
            })),
          ),
      }),
    ],
  };
}

export const notifySubsystem: Subsystem = {
  name: 'notify',
  service: notifyService,
  config: notifyConfig,
  alertSources: ['notify'],
};
