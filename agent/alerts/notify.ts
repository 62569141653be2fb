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
import type { Alert } from '../alert-engine.js';
import { configOf } from '../config.js';
import type { AgentDeps, Service, Subsystem } from '../deps.js';
import { type NotifyConfig, notifyConfig } from './notify-config.js';
import { deliverMessage, type Message } from './notify-deliver.js';
import { notifyMethods, type OutboxEntry, type TargetStatus } from './notify-methods.js';
import {
  DEFAULT_DIGEST_MINUTES,
  type DigestItem,
  digestItems,
  type NotifyTarget,
  RANK,
  targetSchema,
  targetView,
} from './notify-targets.js';
import type { WebhookPolicy } from './webhook.js';

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
    methods: notifyMethods({
      deps,
      db,
      host,
      policy,
      TargetSchema,
      TargetView,
      targets,
      status,
      outbox,
      oKey,
      deliver,
      nextSeq: () => ++seq,
    }),
  };
}

export const notifySubsystem: Subsystem = {
  name: 'notify',
  service: notifyService,
  config: notifyConfig,
  alertSources: ['notify'],
};
