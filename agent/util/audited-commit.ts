/**
 * A mutation's LMDB writes and its `ok` audit record in one transaction, for methods that keep
 * their records in LMDB without the managed-config pipeline (notification targets, tokens,
 * snapshot policies…): the same promise the pipeline makes (agent/config-set/index.ts, commit).
 * Written apart, a full disk once kept a notification target whose record was lost with the
 * batch that failed after it (test/core/disk-full.test.ts). `writes` runs synchronously inside
 * the transaction; a throw in it, or in the record, aborts both.
 */
import type { Database } from 'lmdb';

export interface AuditedCaller {
  dryRun?: boolean;
  /** the RPC core's CallContext.commitAudit: unset for reads, dry runs and internal callers */
  commitAudit?: () => void;
}

export async function commitAudited(
  db: Database,
  ctx: AuditedCaller | undefined,
  writes: () => void,
): Promise<void> {
  // a child transaction, so that a throw aborts the writes made before it (lmdb-js commits an
  // async transaction's writes made before a throw otherwise)
  await db.transaction(() =>
    db.childTransaction(() => {
      writes();
      if (!ctx?.dryRun) ctx?.commitAudit?.();
    }),
  );
}
