/**
 * audit.*: query the hash-chained audit log and verify its chain. Answers are bounded in bytes
 * (`truncated: true` says more matched: page on with offset); verify walks the chain in slices
 * without blocking other clients, and `audit.verify.start` runs it as a job with progress.
 */
import { Type } from '@sinclair/typebox';
import { type AnyMethodDef, type CallContext, defineMethod } from '../../rpc/registry.js';
import type { AgentDeps } from '../deps.js';
import { Empty } from './schemas.js';

const OUTCOMES = ['ok', 'error', 'denied', 'invalid', 'accepted', 'dry-run'] as const;

/** A record as agent/audit-chain.ts stores it (rpc/core.ts `AuditEntry` and its place in the chain). */
const AuditRecordSchema = Type.Object({
  seq: Type.Integer(),
  time: Type.Number({ description: 'ms since the epoch' }),
  user: Type.String(),
  uid: Type.Optional(Type.Integer()),
  transport: Type.String(),
  method: Type.String(),
  params: Type.Optional(Type.Unknown({ description: 'as called, secrets redacted' })),
  outcome: Type.Union(OUTCOMES.map((o) => Type.Literal(o))),
  error: Type.Optional(Type.Object({ kind: Type.Optional(Type.String()), message: Type.String() })),
  durationMs: Type.Optional(Type.Number()),
  job: Type.Optional(Type.String()),
  dryRun: Type.Optional(Type.Boolean({ description: 'the caller asked for a dry run' })),
  detail: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  prev: Type.String({ description: 'hash of the record before' }),
  hash: Type.String({ description: 'sha256 of prev and this record' }),
});

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
              OUTCOMES.map((o) => Type.Literal(o)),
              { errorMessage: 'outcome is one of ok, error, denied, invalid, accepted, dry-run' },
            ),
          ),
          since: Type.Optional(Type.Number({ description: 'ms since the epoch' })),
          until: Type.Optional(Type.Number({ description: 'ms since the epoch' })),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({
        items: Type.Array(AuditRecordSchema),
        total: Type.Integer(),
        truncated: Type.Optional(
          Type.Boolean({ description: 'the byte bound of one answer was reached: page on with offset' }),
        ),
        scanLimited: Type.Optional(
          Type.Boolean({
            description:
              'a filtered query examined its maximum of records (audit.maxScanRecords): total counts those',
          }),
        ),
        scannedTo: Type.Optional(
          Type.Integer({ description: 'with scanLimited: the oldest seq examined; older records were not' }),
        ),
      }),
      role: 'auditor',
      mutating: false,
      handler: async (p, ctx) => {
        await audit.flushed(); // appends are batched: include the ones still in flight
        return oneScanPerCaller(deps, ctx, () => audit.queryAsync(p, { signal: ctx.signal }));
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
        const v = await oneScanPerCaller(deps, ctx, () => audit.verifyAsync({ signal: ctx.signal }));
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

/**
 * Scans of the log (a filtered audit.query, audit.verify) run one at a time per caller (a uid,
 * a token, an internal user): an auditor's batches of them used to time out admins' pings
 * (issue #28 item 5). The others wait their turn; each scan yields between its slices.
 */
function oneScanPerCaller<T>(deps: AgentDeps, ctx: CallContext, fn: () => Promise<T>): Promise<T> {
  const id = ctx.identity;
  const caller = id.tokenId
    ? `token ${id.tokenId}`
    : id.uid !== undefined
      ? `uid ${id.uid}`
      : `user ${id.user}`;
  return deps.locks.run(`audit-scan:${caller}`, 'an audit scan', fn, 120_000);
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
