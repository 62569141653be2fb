/** audit.* — who did what, hash-chained. */
import type { Item, Params, Result } from '../generated/api.js';
import type { AgentClient } from '../rpc/client.js';

export type AuditRecord = Item<'audit.query'>;

/** The page's filter: audit.query's own, with a page always given. */
export type AuditFilter = Pick<Params<'audit.query'>, 'method' | 'user' | 'outcome'> & {
  limit: number;
  offset: number;
};

export type AuditVerify = Result<'audit.verify'>;

export const OUTCOMES: AuditRecord['outcome'][] = ['ok', 'error', 'denied', 'invalid', 'accepted', 'dry-run'];

type Opts = { signal?: AbortSignal };

export function queryAudit(c: AgentClient, f: AuditFilter, o: Opts = {}) {
  const q: Record<string, unknown> = { limit: f.limit, offset: f.offset };
  if (f.method) q.method = f.method;
  if (f.user) q.user = f.user;
  if (f.outcome) q.outcome = f.outcome;
  return c.call<Result<'audit.query'>>('audit.query', q, o);
}

export const verifyAudit = (c: AgentClient) => c.call<AuditVerify>('audit.verify', {});
