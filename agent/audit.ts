/**
 * The audit log: every mutating call and every refusal, in LMDB, hash-chained so that an
 * edited or removed record is detected by `verify()`. Record n stores
 * hash_n = sha256(hash_{n-1} || canonical JSON of record n without its hash).
 *
 * Bounded against its own clients (issue #15 item 2): params above a size are stored as their
 * length, SHA-256 and a head; refusals (denied, invalid) from one peer beyond a budget per
 * window are counted and written as one summary record; old records are pruned by age and
 * count, the chain staying verifiable from an anchor (key 0: the seq and hash of the last
 * pruned record, itself announced by an `audit.prune` record in the chain); query answers are
 * bounded in bytes; verify yields to the event loop and reports progress.
 */
import { createHash } from 'node:crypto';
import type { Database } from 'lmdb';
import {
  ANCHOR_KEY,
  type Anchor,
  type AuditInput,
  type AuditQuery,
  type AuditRecord,
  canonical,
  chainHash,
  collector,
  GENESIS,
  isFiltered,
  scanner,
  type VerifyResult,
  walker,
} from './audit-chain.js';

export type { AuditInput, AuditQuery, AuditRecord, VerifyResult } from './audit-chain.js';
export { canonical };

export interface AuditLimits {
  /** params whose canonical JSON is longer are stored truncated, with their hash */
  maxParamsBytes: number;
  /** refusal records per peer per window; more are summarised */
  refusalsPerWindow: number;
  windowMs: number;
  /** retention: records older than this many days are pruned (0: keep) */
  retentionDays: number;
  /** retention: at most this many records are kept */
  maxRecords: number;
  /** one query answer carries at most this many bytes of records */
  maxAnswerBytes: number;
  /** records one filtered query examines at most (issue #28 item 5: scans are bounded per request) */
  maxScanRecords: number;
  /** milliseconds of scanning between two yields to the event loop */
  sliceMs: number;
}

export const DEFAULT_AUDIT_LIMITS: AuditLimits = {
  maxParamsBytes: 4096,
  refusalsPerWindow: 20,
  windowMs: 60_000,
  retentionDays: 365,
  maxRecords: 1_000_000,
  maxAnswerBytes: 1024 * 1024,
  maxScanRecords: 250_000,
  sliceMs: 4,
};

const HEAD_CHARS = 512;
/** Methods named one by one in a refusal summary (more than any registry holds). */
const MAX_SUMMARY_METHODS = 1000;
const OTHER_METHODS = '(other methods)';

interface PeerBudget {
  windowStart: number;
  written: number;
  suppressed: number;
  methods: Map<string, number>;
  who: Pick<AuditInput, 'user' | 'uid' | 'transport'>;
}

export class AuditLog {
  private lastSeq = 0;
  private lastHash = GENESIS;
  private limits: AuditLimits = { ...DEFAULT_AUDIT_LIMITS };
  private peers = new Map<string, PeerBudget>();
  private summaryTimer: NodeJS.Timeout | undefined;

  constructor(
    private db: Database,
    private now: () => number = Date.now,
  ) {
    for (const { key, value } of db.getRange({ reverse: true, limit: 1 })) {
      if (key === ANCHOR_KEY) {
        this.lastSeq = (value as Anchor).seq;
        this.lastHash = (value as Anchor).hash;
      } else {
        this.lastSeq = key as number;
        this.lastHash = (value as AuditRecord).hash;
      }
    }
  }

  configure(limits: Partial<AuditLimits>): void {
    this.limits = { ...this.limits, ...limits };
  }

  /**
   * Append a record. The write is queued in LMDB's batched transaction, or, called inside a
   * transaction of the same environment (the managed-config pipeline's commit), made in that
   * one; the chain is kept in memory. A refusal beyond its peer's budget is only counted
   * (undefined is returned).
   */
  append(input: AuditInput): AuditRecord | undefined {
    if (input.outcome === 'denied' || input.outcome === 'invalid') {
      if (!this.admitRefusal(input)) return undefined;
    }
    return this.write({ ...input, params: this.boundParams(input.params) });
  }

  private write(input: AuditInput): AuditRecord {
    const seq = this.lastSeq + 1;
    const body = { seq, time: this.now(), ...stripUndefined(input), prev: this.lastHash };
    const hash = chainHash(this.lastHash, body);
    const rec = { ...body, hash } as AuditRecord;
    void this.db.put(seq, rec);
    this.lastSeq = seq;
    this.lastHash = hash;
    return rec;
  }

  /**
   * Run `fn`, which may append, inside a transaction the caller commits (the managed-config
   * pipeline's commit): when `fn` throws, that transaction is aborted, and the chain kept in
   * memory goes back to where it was, so the next record links to the last one written. `fn` is
   * synchronous: nothing else appends while it runs.
   */
  atomic<T>(fn: () => T): T {
    const { lastSeq, lastHash } = this;
    try {
      return fn();
    } catch (err) {
      this.lastSeq = lastSeq;
      this.lastHash = lastHash;
      throw err;
    }
  }

  /** Params as stored: as given when small, else their size, hash and head. */
  private boundParams(params: unknown): unknown {
    if (params === undefined) return undefined;
    const text = canonical(params);
    if (text.length <= this.limits.maxParamsBytes) return params;
    return {
      truncated: true,
      bytes: Buffer.byteLength(text, 'utf8'),
      sha256: createHash('sha256').update(text).digest('hex'),
      head: text.slice(0, HEAD_CHARS),
    };
  }

  /** Whether a refusal gets its own record; past the budget it is counted for the summary. */
  private admitRefusal(input: AuditInput): boolean {
    const key = `${input.transport}|${input.uid ?? ''}|${input.user}`;
    const t = this.now();
    let b = this.peers.get(key);
    if (b && t - b.windowStart >= this.limits.windowMs) {
      this.summarise(b);
      b = undefined;
    }
    if (!b) {
      b = {
        windowStart: t,
        written: 0,
        suppressed: 0,
        methods: new Map(),
        who: { user: input.user, uid: input.uid, transport: input.transport },
      };
      this.peers.set(key, b);
    }
    if (b.written < this.limits.refusalsPerWindow) {
      b.written++;
      return true;
    }
    b.suppressed++;
    // a count per method (issue #28 item 15: 30 of ~200 denied methods were named). Refused
    // calls name registered methods only, so the map is bounded by the registry; the cap is
    // a safety net, past it the rest are counted together.
    const name =
      b.methods.size < MAX_SUMMARY_METHODS || b.methods.has(input.method) ? input.method : OTHER_METHODS;
    b.methods.set(name, (b.methods.get(name) ?? 0) + 1);
    this.summaryTimer ??= setInterval(() => this.summariseDue(false), this.limits.windowMs).unref();
    return false;
  }

  private summarise(b: PeerBudget) {
    if (b.suppressed === 0) return;
    this.write({
      ...b.who,
      method: 'audit.refusals',
      outcome: 'denied',
      detail: {
        suppressed: b.suppressed,
        since: b.windowStart,
        until: this.now(),
        methods: Object.fromEntries(b.methods),
      },
    });
    b.suppressed = 0;
    b.methods.clear();
  }

  /** Write the summaries of ended windows (all of them with `all`), and forget idle peers. */
  private summariseDue(all: boolean) {
    const t = this.now();
    for (const [key, b] of this.peers) {
      if (all || t - b.windowStart >= this.limits.windowMs) {
        this.summarise(b);
        this.peers.delete(key);
      }
    }
    if (this.peers.size === 0 && this.summaryTimer) {
      clearInterval(this.summaryTimer);
      this.summaryTimer = undefined;
    }
  }

  /** Resolves once everything appended so far is committed (the core awaits it before answering). */
  committed(): Promise<unknown> {
    return this.db.committed as unknown as Promise<unknown>;
  }

  /** Writes pending refusal summaries, then resolves once everything is committed (shutdown, queries). */
  flushed(): Promise<unknown> {
    this.summariseDue(true);
    return this.db.flushed;
  }

  count(): number {
    return this.lastSeq;
  }

  /** The seq of the oldest record kept (1 unless pruned). */
  firstSeq(): number {
    const a = this.db.get(ANCHOR_KEY) as Anchor | undefined;
    return a ? a.seq + 1 : 1;
  }

  /**
   * Prune by age and count. The anchor keeps the seq and hash of the last pruned record, and an
   * `audit.prune` record in the chain says what was pruned, so that a removal by anyone else
   * still shows as a break.
   */
  async prune(): Promise<{ pruned: number; anchor?: number }> {
    const first = this.firstSeq();
    const keep = this.limits.maxRecords;
    const cutoff =
      this.limits.retentionDays > 0 ? this.now() - this.limits.retentionDays * 86_400_000 : -Infinity;
    let last = first - 1;
    let lastHash: string | undefined;
    for (const { key, value } of this.db.getRange({ start: first })) {
      const rec = value as AuditRecord;
      const overCount = this.lastSeq - (key as number) >= keep;
      if (!overCount && rec.time >= cutoff) break;
      last = key as number;
      lastHash = rec.hash;
    }
    if (lastHash === undefined) return { pruned: 0 };
    const pruned = last - first + 1;
    await this.db.transaction(() => {
      for (let k = first; k <= last; k++) this.db.remove(k);
      this.db.put(ANCHOR_KEY, { seq: last, hash: lastHash, time: this.now() } satisfies Anchor);
    });
    this.write({
      user: 'agent',
      transport: 'internal',
      method: 'audit.prune',
      outcome: 'ok',
      detail: { pruned, from: first, to: last, anchorHash: lastHash },
    });
    await this.committed();
    return { pruned, anchor: last };
  }

  query(q: AuditQuery = {}): { items: AuditRecord[]; total: number; truncated?: boolean } {
    const limit = q.limit ?? 50;
    const offset = q.offset ?? 0;
    const c = collector(this.limits.maxAnswerBytes);
    if (!isFiltered(q)) {
      // newest first, straight from the key range: no scan of the whole log
      for (const { key, value } of this.db.getRange({ reverse: true, offset, limit: limit + 1 })) {
        if (key === ANCHOR_KEY || c.items.length >= limit) continue;
        c.take(value as AuditRecord);
        if (c.truncated) break;
      }
      return {
        items: c.items,
        total: this.lastSeq - this.firstSeq() + 1,
        ...(c.truncated ? { truncated: true } : {}),
      };
    }
    const scan = scanner(this.db, q, c.take, this.limits.maxScanRecords);
    while (!scan.done) scan.step(Number.POSITIVE_INFINITY);
    return scan.result(c.items, c.truncated);
  }

  /**
   * audit.query as the agent serves it: a filtered scan runs in slices of `sliceMs`, yielding
   * to the event loop between them (one filtered query over 150,000 records blocked the agent
   * for 469 ms), examines at most `maxScanRecords` records (`scanLimited: true`, `scannedTo`:
   * page on with `until`), and stops when the signal aborts.
   */
  async queryAsync(
    q: AuditQuery = {},
    opts: { signal?: AbortSignal } = {},
  ): Promise<{ items: AuditRecord[]; total: number; truncated?: boolean }> {
    if (!isFiltered(q)) return this.query(q);
    const c = collector(this.limits.maxAnswerBytes);
    const scan = scanner(this.db, q, c.take, this.limits.maxScanRecords);
    for (;;) {
      opts.signal?.throwIfAborted();
      scan.step(this.limits.sliceMs);
      if (scan.done) break;
      await new Promise((r) => setImmediate(r));
    }
    return scan.result(c.items, c.truncated);
  }

  /** Walk the whole chain (synchronously: small logs and tests). */
  verify(): VerifyResult {
    const w = walker(this.db, this.lastSeq);
    while (!w.done) w.step(Number.POSITIVE_INFINITY);
    return w.result!;
  }

  /**
   * Walk the chain in slices, yielding to the event loop between them so that other clients
   * are served; progress(checked, total) after each slice; stops when the signal aborts.
   */
  async verifyAsync(
    opts: { signal?: AbortSignal; progress?: (checked: number, total: number) => void } = {},
  ) {
    const w = walker(this.db, this.lastSeq);
    while (!w.done) {
      opts.signal?.throwIfAborted();
      w.step(2000, this.limits.sliceMs);
      opts.progress?.(w.checked, w.total);
      await new Promise((r) => setImmediate(r));
    }
    return w.result!;
  }
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
