/**
 * The audit log: every mutating call and every denial, in LMDB, hash-chained so that an
 * edited or removed record is detected by `verify()`. Record n stores
 * hash_n = sha256(hash_{n-1} || canonical JSON of record n without its hash).
 */
import { createHash } from 'node:crypto';
import type { Database } from 'lmdb';

export interface AuditInput {
  user: string;
  uid?: number;
  transport: string;
  method: string;
  params?: unknown;
  outcome: 'ok' | 'error' | 'denied' | 'accepted' | 'dry-run';
  error?: { kind?: string; message: string };
  durationMs?: number;
  job?: string;
  detail?: Record<string, unknown>;
}

export interface AuditRecord extends AuditInput {
  seq: number;
  time: number;
  prev: string;
  hash: string;
}

export interface AuditQuery {
  limit?: number;
  offset?: number;
  method?: string;
  user?: string;
  outcome?: string;
  since?: number;
  until?: number;
}

const GENESIS = '0'.repeat(64);

export class AuditLog {
  private lastSeq = 0;
  private lastHash = GENESIS;

  constructor(
    private db: Database,
    private now: () => number = Date.now,
  ) {
    for (const { key, value } of db.getRange({ reverse: true, limit: 1 })) {
      this.lastSeq = key as number;
      this.lastHash = (value as AuditRecord).hash;
    }
  }

  /** Append a record. The write is queued in LMDB's batched transaction; the chain is kept in memory. */
  append(input: AuditInput): AuditRecord {
    const seq = this.lastSeq + 1;
    const body = { seq, time: this.now(), ...stripUndefined(input), prev: this.lastHash };
    const hash = chainHash(this.lastHash, body);
    const rec = { ...body, hash } as AuditRecord;
    this.lastSeq = seq;
    this.lastHash = hash;
    void this.db.put(seq, rec);
    return rec;
  }

  /** Resolves once everything appended so far is committed. */
  flushed(): Promise<unknown> {
    return this.db.flushed;
  }

  count(): number {
    return this.lastSeq;
  }

  query(q: AuditQuery = {}): { items: AuditRecord[]; total: number } {
    const limit = q.limit ?? 50;
    const offset = q.offset ?? 0;
    const filtered = q.method || q.user || q.outcome || q.since !== undefined || q.until !== undefined;
    if (!filtered) {
      // newest first, straight from the key range: no scan of the whole log
      const items = [...this.db.getRange({ reverse: true, offset, limit })].map(
        ({ value }) => value as AuditRecord,
      );
      return { items, total: this.lastSeq };
    }
    const items: AuditRecord[] = [];
    let total = 0;
    for (const { value } of this.db.getRange({ reverse: true })) {
      const r = value as AuditRecord;
      if (
        q.method &&
        r.method !== q.method &&
        !(q.method.endsWith('*') && r.method.startsWith(q.method.slice(0, -1)))
      )
        continue;
      if (q.user && r.user !== q.user) continue;
      if (q.outcome && r.outcome !== q.outcome) continue;
      if (q.since !== undefined && r.time < q.since) continue;
      if (q.until !== undefined && r.time > q.until) continue;
      if (total >= offset && items.length < limit) items.push(r);
      total++;
    }
    return { items, total };
  }

  /** Walk the whole chain. */
  verify(): { ok: boolean; checked: number; firstBad?: number; reason?: string } {
    let prev = GENESIS;
    let expectSeq = 1;
    let checked = 0;
    for (const { key, value } of this.db.getRange({})) {
      const rec = value as AuditRecord;
      if (key !== expectSeq || rec.seq !== expectSeq)
        return {
          ok: false,
          checked,
          firstBad: expectSeq,
          reason: `record ${expectSeq} is missing or renumbered`,
        };
      if (rec.prev !== prev)
        return { ok: false, checked, firstBad: rec.seq, reason: 'chain link does not match' };
      const { hash, ...body } = rec;
      if (chainHash(prev, body) !== hash)
        return { ok: false, checked, firstBad: rec.seq, reason: 'record was altered' };
      prev = hash;
      expectSeq++;
      checked++;
    }
    if (checked !== this.lastSeq)
      return { ok: false, checked, firstBad: checked + 1, reason: 'records at the end were removed' };
    return { ok: true, checked };
  }
}

function chainHash(prev: string, body: Record<string, unknown>): string {
  return createHash('sha256').update(prev).update(canonical(body)).digest('hex');
}

/** JSON with sorted keys, so that the hash does not depend on property order. */
export function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const keys = Object.keys(v as object)
    .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
