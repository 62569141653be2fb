/**
 * The alert engine every subsystem raises and clears alerts through (issue 17). An alert has a
 * stable key; raising the same key again updates it (last seen, count) instead of adding one.
 *
 * This is the contract the subsystems code against (`deps.alerts`); notification routing,
 * rules and metrics grow around it in agent/alerts/.
 */
import type { Database } from 'lmdb';
import type { Logger } from 'pino';
import type { EventBus } from '../events.js';

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

export interface AlertEngineOptions {
  db: Database;
  events: EventBus;
  log: Logger;
  now: () => number;
}

export class AlertEngine implements AlertSink {
  constructor(private o: AlertEngineOptions) {}

  private k(key: string): string {
    return `alert/${key}`;
  }

  get(key: string): Alert | undefined {
    return this.o.db.get(this.k(key)) as Alert | undefined;
  }

  async raise(a: AlertInput): Promise<Alert> {
    const now = new Date(this.o.now()).toISOString();
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
    await this.o.db.put(this.k(a.key), alert);
    if (fresh) {
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
    return alert;
  }

  list(): Alert[] {
    const out: Alert[] = [];
    for (const { value } of this.o.db.getRange({ start: 'alert/', end: 'alert/\uffff' }))
      out.push(value as Alert);
    return out;
  }
}
