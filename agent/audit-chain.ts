/**
 * Reading the audit log's chain (agent/audit.ts writes it): the filtered scan behind
 * audit.query, the chain walk behind audit.verify, and the record format both rely on — record
 * n stores hash_n = sha256(hash_{n-1} || canonical JSON of record n without its hash), key 0
 * holds the anchor left by pruning.
 */
import { createHash } from 'node:crypto';
import type { Database } from 'lmdb';
import type { AuditEntry } from '../rpc/core.js';

export type AuditInput = AuditEntry;

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

export interface VerifyResult {
  ok: boolean;
  checked: number;
  firstBad?: number;
  reason?: string;
  /** seq of the first record checked, when older ones were pruned */
  anchoredAt?: number;
}

/** Key 0: where the chain resumes after pruning. */
export interface Anchor {
  seq: number;
  hash: string;
  time: number;
}
export const ANCHOR_KEY = 0;
export const GENESIS = '0'.repeat(64);

/** Collects one answer's records up to its byte bound (then `truncated`). */
export function collector(maxBytes: number) {
  const c = {
    items: [] as AuditRecord[],
    bytes: 0,
    truncated: false,
    take(r: AuditRecord) {
      if (c.truncated) return;
      const size = JSON.stringify(r).length;
      if (c.items.length > 0 && c.bytes + size > maxBytes) {
        c.truncated = true;
        return;
      }
      c.bytes += size;
      c.items.push(r);
    },
  };
  return c;
}

/** A filtered scan, newest first, resumable: each step runs for at most `ms`. */
export function scanner(db: Database, q: AuditQuery, take: (r: AuditRecord) => void, maxScan: number) {
  const offset = q.offset ?? 0;
  const limit = q.limit ?? 50;
  let taken = 0;
  let total = 0;
  let scanned = 0;
  let next: number | undefined;
  let limitedAt: number | undefined;
  const s = {
    done: false,
    step(ms: number) {
      const t0 = performance.now();
      const range = db.getRange(next === undefined ? { reverse: true } : { reverse: true, start: next });
      for (const { key, value } of range) {
        if (key === ANCHOR_KEY) continue;
        if ((scanned & 63) === 0 && performance.now() - t0 > ms) {
          next = key as number;
          return;
        }
        if (scanned >= maxScan) {
          limitedAt = key as number;
          break;
        }
        scanned++;
        const r = value as AuditRecord;
        if (!matches(r, q)) continue;
        if (total >= offset && taken < limit) {
          take(r);
          taken++;
        }
        total++;
      }
      s.done = true;
    },
    result(items: AuditRecord[], truncated: boolean) {
      return {
        items,
        total,
        ...(truncated ? { truncated } : {}),
        ...(limitedAt !== undefined ? { scanLimited: true, scannedTo: limitedAt + 1 } : {}),
      };
    },
  };
  return s;
}

/** The chain walked from the anchor (or genesis) to `lastSeq`, in steps. */
export function walker(db: Database, lastSeq: number) {
  const anchor = db.get(ANCHOR_KEY) as Anchor | undefined;
  let prev = anchor?.hash ?? GENESIS;
  let expectSeq = (anchor?.seq ?? 0) + 1;
  const firstSeq = expectSeq;
  const w = {
    done: false,
    checked: 0,
    total: lastSeq - firstSeq + 1,
    result: undefined as VerifyResult | undefined,
    step(max: number, ms = Number.POSITIVE_INFINITY) {
      let n = 0;
      const t0 = performance.now();
      const anchored = anchor ? { anchoredAt: firstSeq } : {};
      const end = (r: VerifyResult) => {
        w.done = true;
        w.result = { ...r, ...anchored };
      };
      for (const { key, value } of db.getRange({ start: expectSeq, end: lastSeq + 1 })) {
        const rec = value as AuditRecord;
        if (key !== expectSeq || rec.seq !== expectSeq)
          return end({
            ok: false,
            checked: w.checked,
            firstBad: expectSeq,
            reason: `record ${expectSeq} is missing or renumbered`,
          });
        if (rec.prev !== prev)
          return end({
            ok: false,
            checked: w.checked,
            firstBad: rec.seq,
            reason: 'chain link does not match',
          });
        const { hash, ...body } = rec;
        if (chainHash(prev, body) !== hash)
          return end({ ok: false, checked: w.checked, firstBad: rec.seq, reason: 'record was altered' });
        prev = hash;
        expectSeq++;
        w.checked++;
        if (++n >= max || ((n & 63) === 0 && performance.now() - t0 > ms)) return;
      }
      if (expectSeq <= lastSeq)
        return end({
          ok: false,
          checked: w.checked,
          firstBad: expectSeq,
          reason: 'records at the end were removed',
        });
      end({ ok: true, checked: w.checked });
    },
  };
  return w;
}

export function isFiltered(q: AuditQuery): boolean {
  return Boolean(q.method || q.user || q.outcome || q.since !== undefined || q.until !== undefined);
}

export function matches(r: AuditRecord, q: AuditQuery): boolean {
  if (
    q.method &&
    r.method !== q.method &&
    !(q.method.endsWith('*') && r.method.startsWith(q.method.slice(0, -1)))
  )
    return false;
  if (q.user && r.user !== q.user) return false;
  if (q.outcome && r.outcome !== q.outcome) return false;
  if (q.since !== undefined && r.time < q.since) return false;
  if (q.until !== undefined && r.time > q.until) return false;
  return true;
}

export function chainHash(prev: string, body: Record<string, unknown>): string {
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
