/**
 * The notification methods (notify.ts runs the outbox and its worker): targets listed with
 * their delivery status, set (secrets to secrets.env only), deleted with their waiting messages,
 * tested by a message sent at once; and the outbox as it stands.
 */
import { Type } from '@sinclair/typebox';
import type { Database } from 'lmdb';
import { invalid, notFound } from '../../rpc/errors.js';
import { listed, listResult } from '../../rpc/list.js';
import { type AnyMethodDef, defineMethod } from '../../rpc/registry.js';
import { roleAllows } from '../../rpc/roles.js';
import type { Alert } from '../alert-engine.js';
import type { AgentDeps } from '../deps.js';
import { commitAudited } from '../util/audited-commit.js';
import type { Message } from './notify-deliver.js';
import {
  type NotifyTarget,
  Secret,
  secretKey,
  subjectOf,
  TargetId,
  type targetSchema,
  type targetView,
} from './notify-targets.js';
import { checkWebhookUrl, redactUrl, type WebhookPolicy } from './webhook.js';

export interface TargetStatus {
  lastSuccess?: string;
  lastError?: string;
  lastErrorAt?: string;
  failures: number;
}

/** A message waiting for its target (for a digest, `alert` is a summary: worst level, total repeats). */
export interface OutboxEntry extends Message {
  target: string;
  attempts: number;
  nextAt: number;
  created: number;
  lastError?: string;
}

/** What the methods share with the outbox's worker (notify.ts). */
export interface NotifyInternals {
  deps: AgentDeps;
  db: Database;
  host: string;
  policy: WebhookPolicy;
  TargetSchema: ReturnType<typeof targetSchema>;
  TargetView: ReturnType<typeof targetView>;
  targets(): NotifyTarget[];
  status(id: string): TargetStatus;
  outbox(): OutboxEntry[];
  oKey(seq: number): string;
  deliver(t: NotifyTarget, e: Message): Promise<unknown>;
  /** The next message number (shared with the outbox). */
  nextSeq(): number;
}

export function notifyMethods(o: NotifyInternals): AnyMethodDef[] {
  const { deps, db, host, policy, TargetSchema, TargetView, targets, status, outbox, oKey, deliver } = o;
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

  return [
    defineMethod({
      name: 'notify.target.list',
      summary: 'Notification targets with their delivery status (last success, last error, messages waiting)',
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
        await commitAudited(db, ctx, () => {
          db.put(`notify/target/${t.id}`, t);
        });
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
        await commitAudited(db, ctx, () => {
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
        const n = o.nextSeq();
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
  ];
}
