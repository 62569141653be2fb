/**
 * Metrics contributed by the subsystems (infrastructure layer): each subsystem registers, from its
 * own folder, typed readers and the gauge families that turn one reading into series
 * (`deps.metrics.contribute(...)`); the metrics subsystem (agent/metrics/) serves them on
 * `/metrics`. A reader that throws (its tool missing, its daemon down) leaves its families
 * without series for that scrape; the others are unaffected.
 */

/** A series' labels: name → value. */
export type Labels = Record<string, string>;

/** One gauge family, filled from one reading of its source. */
export interface MetricFamily<R> {
  /** `calypso_<subsystem>_<what>[_<unit>]` */
  name: string;
  help: string;
  labels: readonly string[];
  /** The series of one reading; `now` is ms since the epoch. */
  collect(reading: R, set: (labels: Labels, value: number) => void, now: number): void;
}

/** A reader and the families it feeds. */
export interface MetricsSource<R> {
  /** `zfs.pools`: unique per agent */
  name: string;
  read(): Promise<R>;
  families: MetricFamily<R>[];
}

/** Typing helper: infers R from the reader. */
export function defineMetrics<R>(source: MetricsSource<R>): MetricsSource<R> {
  return source;
}

/** Typing helper for one family of a source's reading. */
export function family<R>(f: MetricFamily<R>): MetricFamily<R> {
  return f;
}

export class MetricsRegistry {
  private sources: MetricsSource<unknown>[] = [];

  contribute(...sources: MetricsSource<unknown>[]): void {
    for (const s of sources) {
      if (this.sources.some((x) => x.name === s.name))
        throw new Error(`metrics: ${s.name} contributed twice`);
      const names = new Set(this.sources.flatMap((x) => x.families.map((f) => f.name)));
      for (const f of s.families)
        if (names.has(f.name)) throw new Error(`metrics: family ${f.name} contributed twice`);
      this.sources.push(s);
    }
  }

  list(): readonly MetricsSource<unknown>[] {
    return this.sources;
  }
}
