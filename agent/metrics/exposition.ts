/**
 * The exposition of one agent's metrics (prom-client, one registry per agent): the process's own
 * figures, the RPC counters and histogram, and the families the subsystems contribute
 * (agent/metrics-registry.ts), each filled from one reading of its source at scrape time.
 */
import client from 'prom-client';
import type { MetricsSource } from '../metrics-registry.js';

const RPC_BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30];

/** One scrape's readings by source name; a source that failed (absent, unavailable) is missing. */
export type Reading = Map<string, unknown>;

/** Read every source, each on its own (one failing leaves the others). */
export async function readSources(sources: readonly MetricsSource<unknown>[]): Promise<Reading> {
  const r: Reading = new Map();
  await Promise.all(
    sources.map(async (s) => {
      try {
        r.set(s.name, await s.read());
      } catch {
        /* no series for this source */
      }
    }),
  );
  return r;
}

/**
 * The registry of one agent: the RPC counters and histogram (fed per call), process figures,
 * and the contributed families filled from a reading at scrape time. Exported for the benchmark.
 */
export function createMetrics(
  sources: () => readonly MetricsSource<unknown>[],
  read: () => Promise<Reading>,
  now: () => number,
) {
  const register = new client.Registry();
  // The process's own figures, read at scrape time. Not prom-client's collectDefaultMetrics:
  // its GC observer alone added about 10 MB of RSS under the core bench's load.
  const startedAt = Date.now() / 1000 - process.uptime();
  new client.Gauge({
    name: 'calypso_process_resident_memory_bytes',
    help: 'Resident set size of the agent',
    registers: [register],
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new client.Gauge({
    name: 'calypso_process_heap_used_bytes',
    help: 'V8 heap in use',
    registers: [register],
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
  new client.Counter({
    name: 'calypso_process_cpu_seconds_total',
    help: 'CPU time of the agent (user and system)',
    registers: [register],
    collect() {
      const u = process.cpuUsage();
      this.reset();
      this.inc((u.user + u.system) / 1e6);
    },
  });
  new client.Gauge({
    name: 'calypso_process_start_time_seconds',
    help: 'When the agent started (Unix time)',
    registers: [register],
    collect() {
      this.set(startedAt);
    },
  });
  // Per call the agent only bumps plain numbers (prom-client's labelled inc/observe hash their
  // labels on every call, which showed in the p99 of the core bench); they become the counter
  // and the histogram at scrape time.
  const acc = new Map<string, { ok: number; error: number; counts: number[]; sum: number; n: number }>();
  new client.Counter({
    name: 'calypso_rpc_requests_total',
    help: 'JSON-RPC calls answered, by method and outcome',
    labelNames: ['method', 'outcome'] as const,
    registers: [register],
    collect() {
      this.reset();
      for (const [method, a] of acc) {
        if (a.ok) this.inc({ method, outcome: 'ok' }, a.ok);
        if (a.error) this.inc({ method, outcome: 'error' }, a.error);
      }
    },
  });
  const H = 'calypso_rpc_duration_seconds';
  const HELP = 'Time to answer a JSON-RPC call, by method';
  register.registerMetric({
    name: H,
    help: HELP,
    type: 'histogram',
    aggregator: 'sum',
    get: async () => ({
      name: H,
      help: HELP,
      type: 'histogram',
      aggregator: 'sum',
      values: [...acc].flatMap(([method, a]) => {
        let cum = 0;
        return [
          ...RPC_BUCKETS.map((le, i) => {
            cum += a.counts[i] ?? 0;
            return { metricName: `${H}_bucket`, labels: { le, method }, value: cum };
          }),
          { metricName: `${H}_bucket`, labels: { le: '+Inf', method }, value: a.n },
          { metricName: `${H}_sum`, labels: { method }, value: a.sum },
          { metricName: `${H}_count`, labels: { method }, value: a.n },
        ];
      }),
    }),
    reset: () => acc.clear(),
  } as never);
  let reading: Reading = new Map();
  // The families are registered at the first scrape (services contribute while the agent is
  // built, after this registry exists), each gauge filled from its source's reading.
  const registered = new Set<string>();
  const registerFamilies = () => {
    for (const s of sources()) {
      if (registered.has(s.name)) continue;
      registered.add(s.name);
      for (const f of s.families)
        new client.Gauge({
          name: f.name,
          help: f.help,
          labelNames: [...f.labels],
          registers: [register],
          collect() {
            this.reset();
            if (!reading.has(s.name)) return;
            const set = f.labels.length
              ? (labels: Record<string, string>, v: number) => this.set(labels, v)
              : (_: Record<string, string>, v: number) => this.set(v);
            f.collect(reading.get(s.name), set, now());
          },
        });
    }
  };

  return {
    register,
    /** Per call: a map lookup and a few increments, nothing allocated. */
    observe(method: string, seconds: number, ok: boolean) {
      let a = acc.get(method);
      if (!a) {
        a = { ok: 0, error: 0, counts: RPC_BUCKETS.map(() => 0), sum: 0, n: 0 };
        acc.set(method, a);
      }
      if (ok) a.ok++;
      else a.error++;
      a.sum += seconds;
      a.n++;
      for (let i = 0; i < RPC_BUCKETS.length; i++)
        if (seconds <= (RPC_BUCKETS[i] ?? 0)) {
          a.counts[i] = (a.counts[i] ?? 0) + 1;
          break;
        }
    },
    /** The exposition text, after one reading of the sources. */
    async scrape(): Promise<string> {
      registerFamilies();
      reading = await read();
      return register.metrics();
    },
  };
}
