/** audit.* — who did what, hash-chained. */
import type { Result } from '../generated/api.js';
import type { AgentClient } from '../rpc/client.js';

export interface AuditRecord {
  seq: number;
  time: number;
  user: string;
  uid?: number;
  transport: string;
  method: string;
  outcome: string;
  params?: unknown;
  error?: { kind?: string; message: string };
  durationMs?: number;
  job?: string;
  detail?: Record<string, unknown>;
}

export interface AuditFilter {
  method?: string;
  user?: string;
  outcome?: string;
  limit: number;
  offset: number;
}

export type AuditVerify = Result<'audit.verify'>;

export const OUTCOMES = ['ok', 'error', 'denied', 'accepted', 'dry-run'];

type Opts = { signal?: AbortSignal };

export function queryAudit(c: AgentClient, f: AuditFilter, o: Opts = {}) {
  const q: Record<string, unknown> = { limit: f.limit, offset: f.offset };
  if (f.method) q.method = f.method;
  if (f.user) q.user = f.user;
  if (f.outcome) q.outcome = f.outcome;
  return c.call<{ items: AuditRecord[]; total: number }>('audit.query', q, o);
}

export const verifyAudit = (c: AgentClient) => c.call<AuditVerify>('audit.verify', {});
