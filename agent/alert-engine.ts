/**
 * The alert engine every subsystem raises and clears alerts through (issue 17). An alert has a
 * stable key; raising the same key again updates it (last seen, count) instead of adding one.
 *
 * This is the contract the subsystems code against (`deps.alerts`); notification routing,
 * rules and metrics grow around it in agent/alerts/.
 */
import type { Database } from 'lmdb';
import type { Logger } from 'pino';
import { defaultRules, type Rules } from './alert-rules.js';
import type { EventBus } from './events.js';

export type AlertLevel = 'info' | 'warning' | 'critical';
export type AlertState = 'active' | 'cleared' | 'acknowledged';

export interface AlertInput {
  /** stable key, e.g. `zfs.pool.health:tank`, `tape.tapealert:<drive-id>:20` */
  key: string;
  level: AlertLevel;
  /** subsystem: zfs, hardware, backup, tape, iscsi, object, release, audit, notify */
  source: string;
  /** one line, plain words */
  title: string;
  /** what happened and what to do */
  detail?: string;
  data?: Record<string, unknown>;
}

export interface Alert extends AlertInput {
  state: AlertState;
  firstSeen: string;
  lastSeen: string;
  count: number;
  clearedAt?: string;
  ackedBy?: string;
  ackedAt?: string;
}

/** What a subsystem needs: raise and clear by key. */
export interface AlertSink {
  raise(a: AlertInput): Promise<Alert>;
  clear(key: string): Promise<Alert | undefined>;
}

/**
 * The alert port: what a subsystem raising its own alerts uses (`deps.alerts` is one). Raise and
 * clear by key, and the rules, where every threshold lives (alert.rules): a subsystem reads its
 * thresholds here and keeps none of its own.
 */
export interface AlertPort extends AlertSink {
  rules(): Rules;
}

export interface AlertEngineOptions {
  db: Database;
  events: EventBus;
  log: Logger;
  now: () => number;
  /** cleared alerts kept (history); the oldest go first (default 10,000) */
  keepCleared?: number;
  /** cleared alerts older than this are dropped (default 90 days) */
  keepClearedMs?: number;
}

export interface AlertFilter {
  state?: AlertState | 'open';
  level?: AlertLevel;
  source?: string;
  /** last seen at or after (ISO time) */
  since?: string;
}

const RANK: Record<AlertLevel, number> = { critical: 0, warning: 1, info: 2 };
const STATE_RANK: Record<AlertState, number> = { active: 0, acknowledged: 1, cleared: 2 };

/** Active first, then acknowledged, then cleared; within each, critical first, newest first. */
export function alertOrder(a: Alert, b: Alert): number {
  return (
    STATE_RANK[a.state] - STATE_RANK[b.state] ||
    RANK[a.level] - RANK[b.level] ||
    (a.lastSeen < b.lastSeen ? 1 : a.lastSeen > b.lastSeen ? -1 : 0) ||
    (a.key < b.key ? -1 : 1)
  );
}

export function matches(a: Alert, f: AlertFilter): boolean {
  if (f.state === 'open' ? a.state === 'cleared' : f.state && a.state !== f.state) return false;
  if (f.level && a.level !== f.level) return false;
  if (f.source && a.source !== f.source) return false;
  if (f.since && a.lastSeen < f.since) return false;
  return true;
}

export class AlertEngine implements AlertPort {
  private disabled = new Set<string>();
  private clears = 0;
  private current: Rules;

  constructor(private o: AlertEngineOptions) {
    const stored = o.db.get('rules') as Rules | undefined;
    this.current = stored
      ? { ...defaultRules(), ...stored, thresholds: { ...defaultRules().thresholds, ...stored.thresholds } }
      : defaultRules();
    this.disabled = new Set(this.current.disabledSources);
  }

  /** Thresholds and disabled sources (alert.rules). */
  rules(): Rules {
    return this.current;
  }

  /** Store new rules (validated by the caller); alerts of newly disabled sources are cleared. */
  async setRules(r: Rules): Promise<void> {
    await this.o.db.put('rules', r);
    this.current = r;
    await this.setDisabledSources(r.disabledSources);
  }

  private k(key: string): string {
    return `alert/${key}`;
  }

  /** Sources whose alerts are not raised (alert.rules); their open alerts are cleared. */
  async setDisabledSources(sources: string[]): Promise<void> {
    this.disabled = new Set(sources);
    for (const a of this.list())
      if (a.state !== 'cleared' && this.disabled.has(a.source)) await this.clear(a.key);
  }

  isEnabled(source: string): boolean {
    return !this.disabled.has(source);
  }

  get(key: string): Alert | undefined {
    return this.o.db.get(this.k(key)) as Alert | undefined;
  }

  /**
   * Raise or repeat: a new key (or one cleared before) is a fresh active alert, published as
   * `alert.raised`; a repeat updates last seen, count, level and text and keeps its state (an
   * acknowledged alert stays acknowledged). A disabled source raises nothing (the would-be
   * alert is returned, cleared and not stored).
   */
  async raise(a: AlertInput): Promise<Alert> {
    const now = new Date(this.o.now()).toISOString();
    if (this.disabled.has(a.source))
      return { ...a, state: 'cleared', firstSeen: now, lastSeen: now, count: 0, clearedAt: now };
    const prev = this.get(a.key);
    const fresh = !prev || prev.state === 'cleared';
    const alert: Alert = {
      ...a,
      state: fresh ? 'active' : prev.state,
      firstSeen: fresh ? now : prev.firstSeen,
      lastSeen: now,
      count: fresh ? 1 : prev.count + 1,
    };
    if (!fresh && prev.ackedBy) {
      alert.ackedBy = prev.ackedBy;
      alert.ackedAt = prev.ackedAt;
    }
    // a repeat that is worse than what was acknowledged is news again
    if (!fresh && prev.state === 'acknowledged' && RANK[a.level] < RANK[prev.level]) {
      alert.state = 'active';
      delete alert.ackedBy;
      delete alert.ackedAt;
    }
    await this.o.db.put(this.k(a.key), alert);
    if (fresh || alert.state !== prev.state) {
      this.o.log.warn({ alert: a.key, level: a.level }, `${a.source}: ${a.title}`);
      this.o.events.publish('alert.raised', alert);
    }
    return alert;
  }

  async clear(key: string): Promise<Alert | undefined> {
    const prev = this.get(key);
    if (!prev || prev.state === 'cleared') return prev;
    const alert: Alert = { ...prev, state: 'cleared', clearedAt: new Date(this.o.now()).toISOString() };
    await this.o.db.put(this.k(key), alert);
    this.o.log.info({ alert: key }, `${prev.source}: cleared: ${prev.title}`);
    this.o.events.publish('alert.cleared', alert);
    if (++this.clears % 100 === 0) await this.prune();
    return alert;
  }

  /** Acknowledge open alerts: they stay until cleared, but no longer count as news. */
  async ack(keys: string[], user: string): Promise<{ acked: Alert[]; missing: string[] }> {
    const acked: Alert[] = [];
    const missing: string[] = [];
    const at = new Date(this.o.now()).toISOString();
    for (const key of keys) {
      const prev = this.get(key);
      if (!prev || prev.state === 'cleared') {
        missing.push(key);
        continue;
      }
      if (prev.state === 'acknowledged') {
        acked.push(prev);
        continue;
      }
      const alert: Alert = { ...prev, state: 'acknowledged', ackedBy: user, ackedAt: at };
      await this.o.db.put(this.k(key), alert);
      this.o.events.publish('alert.acknowledged', alert);
      acked.push(alert);
    }
    return { acked, missing };
  }

  /** Every alert, unsorted. */
  list(): Alert[] {
    const out: Alert[] = [];
    for (const { value } of this.o.db.getRange({ start: 'alert/', end: 'alert/\uffff' }))
      out.push(value as Alert);
    return out;
  }

  /** Filtered, sorted (alertOrder) and paged; `cursor` is the offset the previous page returned. */
  query(
    f: AlertFilter,
    page: { limit: number; cursor?: string },
  ): { alerts: Alert[]; total: number; next?: string } {
    const all = this.list().filter((a) => matches(a, f));
    all.sort(alertOrder);
    const from = page.cursor ? Number(page.cursor) : 0;
    const alerts = all.slice(from, from + page.limit);
    const next = from + page.limit < all.length ? String(from + page.limit) : undefined;
    return { alerts, total: all.length, ...(next ? { next } : {}) };
  }

  /** Open alerts by level (active only: acknowledged ones are known already). */
  count(): { critical: number; warning: number; info: number; acknowledged: number } {
    const c = { critical: 0, warning: 0, info: 0, acknowledged: 0 };
    for (const a of this.list()) {
      if (a.state === 'active') c[a.level]++;
      else if (a.state === 'acknowledged') c.acknowledged++;
    }
    return c;
  }

  /** Bound the history: cleared alerts beyond `keepCleared` or older than `keepClearedMs` go. */
  async prune(): Promise<number> {
    const keep = this.o.keepCleared ?? 10_000;
    const oldest = new Date(this.o.now() - (this.o.keepClearedMs ?? 90 * 86_400_000)).toISOString();
    const cleared = this.list()
      .filter((a) => a.state === 'cleared')
      .sort((a, b) => ((a.clearedAt ?? '') < (b.clearedAt ?? '') ? 1 : -1));
    const drop = cleared.filter((a, i) => i >= keep || (a.clearedAt ?? '') < oldest);
    for (const a of drop) await this.o.db.remove(this.k(a.key));
    return drop.length;
  }
}
