/**
 * Pool health monitoring: poll `zpool status`, compare with the previous poll, and turn pool state
 * changes, device state changes, growing error counters and finished scans into `pool.health` events
 * and alerts persisted in the `alerts` db (keys `zfs/<time>-<seq>`).
 *
 * The diff is pure (diffHealth) so that it is tested on recorded outputs; the monitor only
 * schedules polls, serialises them, and publishes. Mutating pool methods `kick()` it so that a
 * change made through the agent is reported at once rather than at the next poll.
 */
import type { Database } from 'lmdb';
import type { Logger } from 'pino';
import type { AlertPort } from '../alert-engine.js';
import type { EventBus } from '../events.js';
import type { ZfsDriver } from './driver.js';
import { leaves } from './pool-view.js';
import type { PoolStatus } from './types.js';

export type Severity = 'info' | 'warning' | 'critical';

export interface HealthEvent {
  pool: string;
  kind: 'state' | 'device-state' | 'device-errors' | 'scan-finished' | 'data-errors' | 'pool-gone';
  severity: Severity;
  message: string;
  data: Record<string, unknown>;
}

export interface Alert extends HealthEvent {
  id: string;
  time: number;
}

const BAD_STATES = new Set(['FAULTED', 'UNAVAIL', 'SUSPENDED', 'REMOVED']);

function stateSeverity(state: string): Severity {
  if (state === 'ONLINE') return 'info';
  return BAD_STATES.has(state) ? 'critical' : 'warning';
}

/** What changed between two polls of one pool (prev undefined: first sight). */
export function diffHealth(prev: PoolStatus | undefined, cur: PoolStatus): HealthEvent[] {
  const out: HealthEvent[] = [];
  const pool = cur.name;
  if (!prev) {
    if (cur.state !== 'ONLINE') {
      out.push({
        pool,
        kind: 'state',
        severity: stateSeverity(cur.state),
        message: `pool ${pool} is ${cur.state}`,
        data: { to: cur.state, status: cur.status },
      });
    }
    return out;
  }
  if (prev.state !== cur.state) {
    out.push({
      pool,
      kind: 'state',
      severity: stateSeverity(cur.state),
      message: `pool ${pool}: ${prev.state} → ${cur.state}`,
      data: { from: prev.state, to: cur.state, status: cur.status },
    });
  }
  const before = new Map(leaves(prev).map((l) => [l.vdev.path ?? l.vdev.name, l.vdev]));
  for (const { vdev, class: cls } of leaves(cur)) {
    const key = vdev.path ?? vdev.name;
    const old = before.get(key);
    if (!old) continue;
    if (old.state !== vdev.state) {
      out.push({
        pool,
        kind: 'device-state',
        severity: stateSeverity(vdev.state === 'AVAIL' || vdev.state === 'INUSE' ? 'ONLINE' : vdev.state),
        message: `pool ${pool}: device ${key} ${old.state} → ${vdev.state}`,
        data: { device: key, class: cls, from: old.state, to: vdev.state, note: vdev.note },
      });
    }
    const grew = vdev.read > old.read || vdev.write > old.write || vdev.checksum > old.checksum;
    if (grew) {
      out.push({
        pool,
        kind: 'device-errors',
        severity: 'warning',
        message: `pool ${pool}: device ${key} errors read ${vdev.read} write ${vdev.write} checksum ${vdev.checksum}`,
        data: { device: key, read: vdev.read, write: vdev.write, checksum: vdev.checksum, note: vdev.note },
      });
    }
  }
  const ps = prev.scan;
  const cs = cur.scan;
  const ended = (cs.state === 'finished' || cs.state === 'canceled') && cs.endedAt !== undefined;
  if (ended && (ps.state === 'scanning' || ps.endedAt !== cs.endedAt || ps.function !== cs.function)) {
    const errors = cs.errors ?? 0;
    out.push({
      pool,
      kind: 'scan-finished',
      severity: errors > 0 || cur.checksum > 0 ? 'warning' : 'info',
      message: `pool ${pool}: ${cs.function ?? 'scan'} ${cs.state === 'canceled' ? 'stopped' : 'finished'} with ${errors} errors`,
      data: { function: cs.function, state: cs.state, errors, endedAt: cs.endedAt, checksum: cur.checksum },
    });
  }
  const dataErrors = cur.errors?.count ?? 0;
  if (dataErrors > (prev.errors?.count ?? 0)) {
    out.push({
      pool,
      kind: 'data-errors',
      severity: 'critical',
      message: `pool ${pool}: ${dataErrors} permanent data errors`,
      data: { count: dataErrors, files: cur.errors?.files.slice(0, 50) ?? [] },
    });
  }
  return out;
}

export interface HealthMonitorOptions {
  driver: ZfsDriver;
  events: EventBus;
  alerts: Database;
  log: Logger;
  now: () => number;
  intervalMs: number;
  timeoutMs: number;
  /** the agent's alert engine: pool health, scan errors and capacity raised and cleared there */
  sink?: AlertPort;
}

/** What to do about a pool state, for the alert's detail. */
function stateAdvice(p: PoolStatus): string {
  const bad = leaves(p)
    .filter((l) => l.vdev.state !== 'ONLINE')
    .map((l) => `${l.vdev.name} is ${l.vdev.state}`);
  const what = bad.length ? ` (${bad.slice(0, 8).join(', ')})` : '';
  if (p.state === 'DEGRADED')
    return `Pool ${p.name} is DEGRADED${what}: it runs without full redundancy. Bring the device back online (pool.online) or replace it (pool.replace); the pool heals by resilvering.${p.action ? ` zpool says: ${p.action}` : ''}`;
  return `Pool ${p.name} is ${p.state}${what}: data may be unavailable. Check the devices and cabling, then pool.clear or pool.replace.${p.action ? ` zpool says: ${p.action}` : ''}`;
}

export class HealthMonitor {
  private last = new Map<string, PoolStatus>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private seq = 0;
  private stopped = false;

  constructor(private o: HealthMonitorOptions) {}

  start(): void {
    this.stopped = false;
    void this.kick();
    this.timer = setInterval(() => void this.kick(), this.o.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Poll now (coalesced: at most one poll runs, and at most one more is queued). */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.check().catch((err) => this.o.log.debug({ err }, 'zfs health: poll failed'));
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async check(): Promise<void> {
    const pools = await this.o.driver.status(undefined, { timeoutMs: this.o.timeoutMs });
    const seen = new Set<string>();
    for (const cur of pools) {
      seen.add(cur.name);
      for (const ev of diffHealth(this.last.get(cur.name), cur)) await this.emit(ev);
      await this.sync(cur, this.last.get(cur.name));
      this.last.set(cur.name, cur);
    }
    if (this.o.sink) await this.capacity();
    for (const name of [...this.last.keys()]) {
      if (!seen.has(name)) this.last.delete(name); // destroyed or exported through the agent: not an alert
    }
  }

  /** The engine's alerts for one pool: health (raised on a change, cleared when ONLINE), scan errors. */
  private async sync(cur: PoolStatus, prev: PoolStatus | undefined): Promise<void> {
    const sink = this.o.sink;
    if (!sink) return;
    const key = `zfs.pool.health:${cur.name}`;
    if (cur.state === 'ONLINE') await sink.clear(key);
    else if (!prev || prev.state !== cur.state)
      await sink.raise({
        key,
        // DEGRADED too: the pool runs without redundancy until someone acts
        level: 'critical',
        source: 'zfs',
        title: `pool ${cur.name} is ${cur.state}`,
        detail: stateAdvice(cur),
        data: { pool: cur.name, state: cur.state },
      });
    const scanKey = `zfs.pool.scan-errors:${cur.name}`;
    const errs = cur.scan.state === 'finished' ? (cur.scan.errors ?? 0) : 0;
    if (errs > 0 && (!prev || prev.scan.errors !== cur.scan.errors || prev.scan.state !== 'finished'))
      await sink.raise({
        key: scanKey,
        level: 'critical',
        source: 'zfs',
        title: `pool ${cur.name}: the last ${cur.scan.function ?? 'scan'} found ${errs} error(s)`,
        detail: `Run pool.status ${cur.name} for the damaged files, restore them from a backup, then pool.clear and scrub again.`,
        data: { pool: cur.name, errors: errs },
      });
    else if (cur.scan.state === 'finished' && errs === 0) await sink.clear(scanKey);
    // a pool not scrubbed for longer than the rules allow (a pool never scrubbed is left alone)
    const ageKey = `zfs.pool.scrub-age:${cur.name}`;
    const maxDays = sink.rules().thresholds.scrubAgeDays;
    const ended = cur.scan.state === 'finished' ? cur.scan.endedAt : undefined;
    if (ended !== undefined) {
      const days = Math.floor((this.o.now() / 1000 - ended) / 86_400);
      if (days > maxDays)
        await sink.raise({
          key: ageKey,
          level: 'warning',
          source: 'zfs',
          title: `pool ${cur.name} was last scrubbed ${days} days ago`,
          detail: `More than ${maxDays} days: silent corruption goes unnoticed until a scrub reads every block. Run pool.scrub or a scrub schedule.`,
          data: { pool: cur.name, days },
        });
      else await sink.clear(ageKey);
    }
  }

  /** Capacity against the rules' thresholds (one `zpool list` per poll). */
  private async capacity(): Promise<void> {
    const sink = this.o.sink;
    if (!sink) return;
    const t = sink.rules().thresholds;
    for (const p of await this.o.driver.listPools()) {
      const key = `zfs.pool.capacity:${p.name}`;
      const pct =
        p.capacity ?? (p.size && p.allocated !== undefined ? Math.round((p.allocated / p.size) * 100) : 0);
      if (pct >= t.poolCapacityWarning)
        await sink.raise({
          key,
          level: pct >= t.poolCapacityCritical ? 'critical' : 'warning',
          source: 'zfs',
          title: `pool ${p.name} is ${pct} % full`,
          detail: `Above ${pct >= t.poolCapacityCritical ? t.poolCapacityCritical : t.poolCapacityWarning} %: ZFS slows down and may stop writing when full. Delete snapshots or data, or add a vdev.`,
          data: { pool: p.name, capacity: pct },
        });
      else await sink.clear(key);
    }
  }

  /** Forget a pool (after destroy/export through the agent); its open alerts go with it. */
  forget(pool: string): void {
    this.last.delete(pool);
    const sink = this.o.sink;
    if (sink)
      for (const k of ['health', 'scan-errors', 'capacity', 'scrub-age'])
        void sink.clear(`zfs.pool.${k}:${pool}`).catch(() => {});
  }

  private async emit(ev: HealthEvent): Promise<void> {
    const time = this.o.now();
    const id = `${String(time).padStart(15, '0')}-${String(this.seq++ % 1e6).padStart(6, '0')}`;
    const alert: Alert = { id, time, ...ev };
    if (ev.severity === 'critical') this.o.log.error(ev.message);
    else if (ev.severity === 'warning') this.o.log.warn(ev.message);
    else this.o.log.info(ev.message);
    await this.o.alerts.put(`zfs/${id}`, alert);
    this.o.events.publish('pool.health', alert);
  }

  /** Newest first. */
  list(filter: { pool?: string; limit?: number } = {}): Alert[] {
    const out: Alert[] = [];
    for (const { value } of this.o.alerts.getRange({ start: 'zfs/\uffff', end: 'zfs/', reverse: true })) {
      const a = value as Alert;
      if (filter.pool && a.pool !== filter.pool) continue;
      out.push(a);
      if (out.length >= (filter.limit ?? 100)) break;
    }
    return out;
  }
}
