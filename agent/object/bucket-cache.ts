/**
 * The bucket listing with usage, cached. Reading usage costs one bucket-index read per index
 * shard of every bucket (RGW's default is 11 shards): 1,000 buckets take about 3 s through
 * radosgw-admin and 1.5 s through the admin-ops API on the lab. RGW itself treats usage as
 * sampled (its quota checks use cached stats), and so does the listing: fresh for a few
 * seconds, then served stale while one refresh runs in the background, and dropped outright by
 * any change the agent makes. `object.bucket.get` and `.usage` always read the bucket itself.
 */
import type { Bucket } from './model.js';

export interface BucketCacheOptions {
  /** served without refresh for this long */
  freshMs?: number;
  /** served (while refreshing) up to this age; older waits for the refresh */
  staleMs?: number;
  now?: () => number;
}

export class BucketCache {
  private value: { at: number; buckets: Bucket[] } | undefined;
  private inflight: Promise<Bucket[]> | undefined;
  /** bumped by invalidate(): a refresh begun before a change must not store its result */
  private generation = 0;
  private freshMs: number;
  private staleMs: number;
  private now: () => number;

  constructor(
    private load: () => Promise<Bucket[]>,
    o: BucketCacheOptions = {},
  ) {
    this.freshMs = o.freshMs ?? 5_000;
    this.staleMs = o.staleMs ?? 300_000;
    this.now = o.now ?? Date.now;
  }

  invalidate(): void {
    this.generation++;
    this.value = undefined;
  }

  /** The buckets, and when their usage was read. */
  async list(): Promise<{ buckets: Bucket[]; at: number }> {
    const v = this.value;
    const age = v ? this.now() - v.at : Number.POSITIVE_INFINITY;
    if (v && age < this.freshMs) return v;
    const refresh = this.refresh();
    if (v && age < this.staleMs) {
      refresh.catch(() => {}); // a failed background refresh leaves the old sample
      return v;
    }
    const buckets = await refresh;
    return this.value ?? { buckets, at: this.now() };
  }

  private refresh(): Promise<Bucket[]> {
    if (this.inflight) return this.inflight;
    const gen = this.generation;
    const started = this.now();
    const p = this.load()
      .then((buckets) => {
        if (gen === this.generation) this.value = { at: started, buckets };
        return buckets;
      })
      .finally(() => {
        if (this.inflight === p) this.inflight = undefined;
      });
    this.inflight = p;
    return p;
  }
}
