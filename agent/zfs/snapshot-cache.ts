/**
 * Snapshot listing cache: `snapshot.list` stays fast at tens of thousands of snapshots because the
 * one expensive step — `zfs list -t snapshot` — runs once and later pages, sorts and filters come
 * from memory. Every mutation through the agent invalidates it; changes made outside the agent are
 * picked up after `ttlMs` or with `refresh: true`. A listing that was in flight while an
 * invalidation happened is returned to its caller but not cached (generation check).
 */
import type { SnapshotRow } from './types.js';

export type SnapshotSort = 'name' | 'created' | 'used' | 'referenced';

export interface SnapshotQuery {
  dataset?: string;
  /** include the snapshots of the dataset's descendants */
  recursive?: boolean;
  /** substring of the full snapshot name */
  search?: string;
  createdAfter?: number;
  createdBefore?: number;
  sort?: SnapshotSort;
  order?: 'asc' | 'desc';
  offset?: number;
  limit?: number;
}

export interface SnapshotPage {
  items: SnapshotRow[];
  total: number;
  /** ms since the epoch when the underlying listing was taken */
  listedAt: number;
  cached: boolean;
}

interface Entry {
  rows: SnapshotRow[];
  at: number;
  sorted: Map<string, SnapshotRow[]>;
}

export class SnapshotCache {
  private entries = new Map<string, Entry>();
  private inflight = new Map<string, Promise<SnapshotRow[]>>();
  private generation = 0;

  constructor(
    private list: (dataset?: string) => Promise<SnapshotRow[]>,
    private now: () => number = Date.now,
    private ttlMs = 60_000,
  ) {}

  invalidate(): void {
    this.generation++;
    this.entries.clear();
  }

  /** True when a listing covering `dataset` is cached and fresh. */
  has(dataset?: string): boolean {
    return this.fresh('*') !== undefined || (dataset !== undefined && this.fresh(dataset) !== undefined);
  }

  async query(q: SnapshotQuery, refresh = false): Promise<SnapshotPage> {
    if (refresh) this.invalidate();
    // a recursive or unscoped query needs the full listing; a single dataset can be listed alone
    const scope = q.dataset && !q.recursive ? q.dataset : '*';
    let entry = this.fresh('*') ?? (scope !== '*' ? this.fresh(scope) : undefined);
    const cached = entry !== undefined;
    if (!entry) entry = await this.load(scope);
    const rows = this.sortedRows(entry, q.sort ?? 'name', q.order ?? 'asc');
    const filtered = filter(rows, q);
    const offset = q.offset ?? 0;
    const limit = q.limit ?? 100;
    return {
      items: filtered.slice(offset, offset + limit),
      total: filtered.length,
      listedAt: entry.at,
      cached,
    };
  }

  private fresh(scope: string): Entry | undefined {
    const e = this.entries.get(scope);
    if (e && this.now() - e.at <= this.ttlMs) return e;
    return undefined;
  }

  private async load(scope: string): Promise<Entry> {
    const gen = this.generation;
    let p = this.inflight.get(scope);
    if (!p) {
      p = this.list(scope === '*' ? undefined : scope);
      this.inflight.set(scope, p);
      p.finally(() => this.inflight.delete(scope)).catch(() => {});
    }
    const rows = await p;
    const entry: Entry = { rows, at: this.now(), sorted: new Map() };
    if (gen === this.generation) this.entries.set(scope, entry);
    return entry;
  }

  private sortedRows(e: Entry, sort: SnapshotSort, order: 'asc' | 'desc'): SnapshotRow[] {
    const key = `${sort}/${order}`;
    let s = e.sorted.get(key);
    if (!s) {
      s = sortRows(e.rows, sort, order);
      e.sorted.set(key, s);
    }
    return s;
  }
}

/**
 * Stable sort; the tool's order (dataset, then creation txg) breaks ties, which matters on zfs-fuse
 * where `creation` has minute resolution.
 */
export function sortRows(rows: SnapshotRow[], sort: SnapshotSort, order: 'asc' | 'desc'): SnapshotRow[] {
  const dir = order === 'desc' ? -1 : 1;
  const order_ = rows.map((_, i) => i);
  if (sort === 'name') {
    // dataset first, then creation order within it: what an operator expects from "by name"
    order_.sort((a, b) => dir * (cmpStr(rows[a]!.dataset, rows[b]!.dataset) || a - b));
  } else {
    const field = sort;
    order_.sort((a, b) => dir * ((rows[a]![field] ?? 0) - (rows[b]![field] ?? 0) || a - b));
  }
  return order_.map((i) => rows[i]!);
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function filter(rows: SnapshotRow[], q: SnapshotQuery): SnapshotRow[] {
  const { dataset, recursive, search, createdAfter, createdBefore } = q;
  if (!dataset && !search && createdAfter === undefined && createdBefore === undefined) return rows;
  const prefix = dataset ? `${dataset}/` : '';
  return rows.filter((r) => {
    if (dataset && r.dataset !== dataset && !(recursive && r.dataset.startsWith(prefix))) return false;
    if (search && !r.name.includes(search)) return false;
    if (createdAfter !== undefined && (r.created ?? 0) < createdAfter) return false;
    if (createdBefore !== undefined && (r.created ?? 0) >= createdBefore) return false;
    return true;
  });
}
