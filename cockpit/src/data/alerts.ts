/** alert.* and notify.* — what needs attention, and where it is sent. */
import type { Item, Params, Result } from '../generated/api.js';
import type { AgentClient } from '../rpc/client.js';

export type Alert = Item<'alert.list'>;
export type AlertLevel = Alert['level'];
export type AlertState = Alert['state'];

export type AlertCount = Result<'alert.count'>;

/** What the page's views ask alert.list for. */
export type AlertQuery = Pick<Params<'alert.list'>, 'state' | 'level' | 'source' | 'limit' | 'cursor'>;

/** A notification target: smtp, sendmail or webhook (the kinds are the union's members). */
export type NotifyTarget = Params<'notify.target.set'>['target'];

export type TargetView = Item<'notify.target.list'>;

type Opts = { signal?: AbortSignal };

export const listAlerts = (c: AgentClient, q: AlertQuery, o: Opts = {}) =>
  c.call<Result<'alert.list'>>('alert.list', { ...q }, o);
export const countAlerts = (c: AgentClient, o: Opts = {}) => c.call<AlertCount>('alert.count', {}, o);
export const ackAlerts = (c: AgentClient, keys: string[]) =>
  c.call<Result<'alert.ack'>>('alert.ack', { keys });
export const listTargets = (c: AgentClient, o: Opts = {}) => c.items<TargetView>('notify.target.list', {}, o);
export const setTarget = (
  c: AgentClient,
  target: NotifyTarget,
  secrets: { password?: string; secret?: string },
) =>
  c.call<TargetView>('notify.target.set', {
    target,
    ...(secrets.password ? { password: secrets.password } : {}),
    ...(secrets.secret ? { secret: secrets.secret } : {}),
  });
export const deleteTarget = (c: AgentClient, id: string) => c.call('notify.target.delete', { id });
export const testTarget = (c: AgentClient, id: string) =>
  c.call<Result<'notify.target.test'>>('notify.target.test', { id });

export const ALERT_TOPICS = ['alert.*'];

/** What the bell shows: active (not acknowledged) warnings and criticals. */
export function bellCount(c: AlertCount | undefined): number {
  return c ? c.critical + c.warning : 0;
}

/** The bell's level: the worst active one. */
export function bellLevel(c: AlertCount | undefined): 'critical' | 'warning' | 'none' {
  if (!c) return 'none';
  return c.critical ? 'critical' : c.warning ? 'warning' : 'none';
}

export function levelBadge(l: AlertLevel): string {
  return l === 'critical' ? 'badge bad' : l === 'warning' ? 'badge warn' : 'badge';
}

/** A target in one line: where it sends. */
export function targetWhere(t: NotifyTarget): string {
  if (t.kind === 'webhook') return t.webhook.url;
  if (t.kind === 'smtp')
    return `${t.smtp.to.join(', ')} via ${t.smtp.host}:${t.smtp.port} (${t.smtp.security})`;
  return `${t.sendmail.to.join(', ')} via sendmail`;
}

type SmtpSecurity = NonNullable<Extract<NotifyTarget, { kind: 'smtp' }>['smtp']['security']>;
const isSecurity = (s: string): s is SmtpSecurity => s === 'starttls' || s === 'tls' || s === 'none';

/**
 * A new target from the form's fields; returns the target and its secrets, or the problems
 * in words (the agent checks again: this only catches what a person mistypes).
 */
export function targetFromForm(
  f: Record<string, string>,
): { target: NotifyTarget; password?: string; secret?: string } | { problems: string[] } {
  const problems: string[] = [];
  const id = f.id?.trim() ?? '';
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(id)) problems.push('the id is lower-case letters, digits and -');
  const minLevel = (f.minLevel || 'warning') as AlertLevel;
  const security = f.security || 'starttls';
  if (!isSecurity(security)) problems.push('the security is starttls, tls or none');
  const digestMinutes = Number(f.digestMinutes || 60);
  if (!Number.isInteger(digestMinutes) || digestMinutes < 0 || digestMinutes > 10080)
    problems.push('the digest period is 0 (none) to 10080 minutes');
  const to = (f.to ?? '')
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);
  if (f.kind === 'webhook') {
    const url = f.url?.trim() ?? '';
    if (!/^https?:\/\//.test(url)) problems.push('the webhook URL starts with http:// or https://');
    if (!f.secret) problems.push('a webhook needs a secret to sign its messages');
    if (problems.length) return { problems };
    return { target: { id, kind: 'webhook', webhook: { url }, minLevel, digestMinutes }, secret: f.secret };
  }
  if (!to.length) problems.push('at least one recipient');
  if (!f.from) problems.push('a sender address');
  if (f.kind === 'smtp') {
    const port = Number(f.port || 587);
    if (!f.host) problems.push('the SMTP server');
    if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push('the port is 1–65535');
    if (problems.length || !isSecurity(security)) return { problems };
    return {
      target: {
        id,
        kind: 'smtp',
        minLevel,
        digestMinutes,
        smtp: {
          host: f.host!.trim(),
          port,
          security,
          ...(f.user ? { user: f.user.trim() } : {}),
          from: f.from!.trim(),
          to,
        },
      },
      ...(f.password ? { password: f.password } : {}),
    };
  }
  if (problems.length) return { problems };
  return {
    target: { id, kind: 'sendmail', minLevel, digestMinutes, sendmail: { from: f.from!.trim(), to } },
  };
}
