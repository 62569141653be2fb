/**
 * audit.*: query the hash-chained audit log and verify its chain. Answers are bounded in bytes
 * (`truncated: true` says more matched: page on with offset); verify walks the chain in slices
 * without blocking other clients, and `audit.verify.start` runs it as a job with progress.
 */
import { Type } from '@sinclair/typebox';
import { type AnyMethodDef, defineMethod } from '../../rpc/registry.js';
import type { AgentDeps } from '../deps.js';
import { Empty } from './schemas.js';

const VerifyResult = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Integer(),
  firstBad: Type.Optional(Type.Integer()),
  reason: Type.Optional(Type.String()),
  anchoredAt: Type.Optional(
    Type.Integer({ description: 'older records were pruned: the chain is checked from this seq' }),
  ),
});

export function auditMethods(deps: AgentDeps): AnyMethodDef[] {
  const { audit } = deps;
  return [
    defineMethod({
      name: 'audit.query',
      summary: 'Audit records, newest first, with filters and pagination.',
      params: Type.Object(
        {
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'default 50' })),
          offset: Type.Optional(Type.Integer({ minimum: 0, description: 'skip this many' })),
          method: Type.Optional(
            Type.String({ maxLength: 100, description: 'exact, or a prefix ending in *' }),
          ),
          user: Type.Optional(Type.String({ maxLength: 100, description: 'only this user' })),
          outcome: Type.Optional(
            Type.Union(
              ['ok', 'error', 'denied', 'invalid', 'accepted', 'dry-run'].map((o) => Type.Literal(o)),
              { errorMessage: 'outcome is one of ok, error, denied, invalid, accepted, dry-run' },
            ),
          ),
          since: Type.Optional(Type.Number({ description: 'ms since the epoch' })),
          until: Type.Optional(Type.Number({ description: 'ms since the epoch' })),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({
        items: Type.Array(
          Type.Object({ seq: Type.Integer(), time: Type.Number() }, { additionalProperties: true }),
        ),
        total: Type.Integer(),
        truncated: Type.Optional(
          Type.Boolean({ description: 'the byte bound of one answer was reached: page on with offset' }),
        ),
      }),
      role: 'auditor',
      mutating: false,
      handler: async (p) => {
        await audit.flushed(); // appends are batched: include the ones still in flight
        return audit.query(p);
      },
    }),
    defineMethod({
      name: 'audit.verify',
      summary: 'Walk the hash chain of the audit log and report the first altered or missing record.',
      params: Empty,
      result: VerifyResult,
      role: 'auditor',
      mutating: false,
      handler: async (_p, ctx) => {
        await audit.flushed();
        const v = await audit.verifyAsync({ signal: ctx.signal });
        await chainAlert(deps, v);
        return v;
      },
    }),
    defineMethod({
      name: 'audit.verify.start',
      summary: 'audit.verify as a job: follow its progress with job.get; the job’s result is the verdict.',
      params: Empty,
      result: VerifyResult,
      role: 'auditor',
      mutating: false,
      job: { lock: () => 'audit.verify', title: () => 'verifying the audit chain' },
      handler: async (_p, ctx) => {
        await audit.flushed();
        const v = await audit.verifyAsync({
          signal: ctx.signal,
          progress: (checked, total) =>
            ctx.progress(total ? (checked / total) * 100 : 100, `${checked} of ${total} records checked`),
        });
        await chainAlert(deps, v);
        return v;
      },
    }),
  ];
}

/** A broken chain raises `audit.chain` (critical); an intact one clears it. */
async function chainAlert(
  deps: AgentDeps,
  v: { ok: boolean; firstBad?: number; reason?: string },
): Promise<void> {
  if (v.ok) await deps.alerts.clear('audit.chain');
  else
    await deps.alerts.raise({
      key: 'audit.chain',
      level: 'critical',
      source: 'audit',
      title: `the audit log's hash chain is broken at record ${v.firstBad ?? '?'}`,
      detail: `${v.reason ?? 'a record was altered or removed'}. Someone with root access changed the audit store: keep a copy of it and investigate.`,
      data: { firstBad: v.firstBad },
    });
}
