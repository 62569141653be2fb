/**
 * Prometheus metrics: `GET /metrics` on the agent's HTTP/WebSocket listener, in Prometheus'
 * text format (prom-client, one registry per agent). It needs a bearer token like every route
 * of that listener (an `auditor` token is enough; Prometheus sends it with
 * `authorization: {type: Bearer, credentials: …}`), so it shares the listener's failed-token
 * rate limit and connection caps; a scraper without one gets 401.
 *
 * Figures are read at scrape time through the agent's own read methods (the same code and
 * caches the UI uses), as an internal auditor; a subsystem that is absent or unavailable just
 * has no series. One scrape's reading is reused for `cacheMs` so that several scrapers do not
 * multiply the work.
 */
import { type Static, Type } from '@sinclair/typebox';
import client from 'prom-client';
import { configOf, defineConfigSlice } from '../config.js';
import type { Service, Subsystem } from '../deps.js';

export const metricsConfig = defineConfigSlice(
  'metrics',
  Type.Object(
    {
      enabled: Type.Boolean({ default: true, description: 'serve /metrics on the WebSocket listener' }),
      cacheMs: Type.Integer({
        minimum: 0,
        maximum: 60_000,
        default: 1000,
        description: 'how long one reading of the subsystems (and its rendered text) serves scrapes',
      }),
      scrapesPerMinute: Type.Integer({
        minimum: 1,
        default: 120,
        description:
          'scrapes per token per minute; more get HTTP 429 (Prometheus scrapes every 15 s by default)',
      }),
    },
    { additionalProperties: false, default: {} },
  ),
);
export type MetricsConfig = Static<typeof metricsConfig.schema>;

export const METRICS_PATH = '/metrics';
const RPC_BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30];

type Call = (method: string, params?: Record<string, unknown>) => Promise<unknown>;

/** Readings of one scrape, by subsystem; a missing one (absent, unavailable) has no series. */
export interface Readings {
  pools?: {
    name: string;
    health: string;
    size?: number;
    allocated?: number;
    free?: number;
    capacity?: number;
    scan?: { state?: string; endedAt?: number; errors?: number };
    errors?: { read?: number; write?: number; checksum?: number; data?: number };
  }[];
  datasets?: { filesystems: number; volumes: number };
  snapshots?: number;
  disks?: { name: string; temperature?: number; reallocated?: number }[];
  jobs?: { state: string }[];
  alerts?: { critical: number; warning: number; info: number; acknowledged: number };
  backups?: { name: string; status: string; bytes: number; endTime?: string }[];
  iscsiSessions?: { target: string }[];
  tapeDrives?: { changer: string; index: number; loaded: boolean }[];
  tapeCartridges?: number;
  buckets?: { name: string; bytes: number; objects: number; quotaBytes?: number }[];
}

interface DatasetNode {
  type?: string;
  children?: DatasetNode[];
}

/** Read everything a scrape shows, each subsystem on its own (one failing leaves the others). */
export async function readAll(call: Call, now: () => number, smart?: SmartSampler): Promise<Readings> {
  const r: Readings = {};
  const tryRead = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch {
      return undefined;
    }
  };
  await Promise.all([
    tryRead(async () => {
      r.pools = ((await call('pool.list')) as { items: Readings['pools'] }).items;
    }),
    tryRead(async () => {
      const forest = ((await call('dataset.list')) as { items: DatasetNode[] }).items;
      const c = { filesystems: 0, volumes: 0 };
      const walk = (n: DatasetNode) => {
        if (n.type === 'volume') c.volumes++;
        else c.filesystems++;
        for (const ch of n.children ?? []) walk(ch);
      };
      for (const n of forest) walk(n);
      r.datasets = c;
    }),
    tryRead(async () => {
      const disks = ((await call('disk.list')) as { items: { id: string; name: string }[] }).items;
      smart?.refresh(disks.map((d) => d.id));
      r.disks = disks.map((d) => ({ name: d.name, ...smart?.get(d.id) }));
    }),
    tryRead(async () => {
      r.snapshots = ((await call('snapshot.list', { limit: 1 })) as { total: number }).total;
    }),
    tryRead(async () => {
      r.jobs = ((await call('job.list', { limit: 1000 })) as { items?: { state: string }[] }).items ?? [];
    }),
    tryRead(async () => {
      r.alerts = (await call('alert.count')) as Readings['alerts'];
    }),
    tryRead(async () => {
      const h = (await call('backup.history', { limit: 200, type: 'backup' })) as {
        items: { name: string; status: string; bytes: number; endTime?: string }[];
      };
      const last = new Map<string, Readings['backups'] extends (infer E)[] | undefined ? E : never>();
      for (const j of h.items) if (!last.has(j.name)) last.set(j.name, j);
      r.backups = [...last.values()];
    }),
    tryRead(async () => {
      const drives = (
        (await call('drive.list')) as { items: { id: string; changer: string; index: number }[] }
      ).items;
      const media = (await call('media.list')) as {
        items: { changer: string; where: string; index: number }[];
      };
      r.tapeDrives = drives.map((d) => ({
        changer: d.changer,
        index: d.index,
        loaded: media.items.some(
          (m) => m.changer === d.changer && m.where === 'drive' && m.index === d.index,
        ),
      }));
      r.tapeCartridges = media.items.length;
    }),
    tryRead(async () => {
      r.iscsiSessions = ((await call('iscsi.session.list')) as { items: { target: string }[] }).items;
    }),
    tryRead(async () => {
      const b = (
        (await call('object.bucket.list')) as {
          items: {
            name: string;
            usage?: { bytes?: number; objects?: number };
            quota?: { enabled?: boolean; maxSize?: number };
          }[];
        }
      ).items;
      r.buckets = b.map((x) => ({
        name: x.name,
        bytes: x.usage?.bytes ?? 0,
        objects: x.usage?.objects ?? 0,
        ...(x.quota?.enabled && x.quota.maxSize ? { quotaBytes: x.quota.maxSize } : {}),
      }));
    }),
  ]);
  void now;
  return r;
}

/**
 * SMART figures for the disk gauges: smartctl is too slow to run on every scrape (and wakes
 * sleeping disks), so each disk is read in the background at most every `everyMs`, one at a
 * time, and scrapes show the last reading.
 */
export class SmartSampler {
  private last = new Map<string, { temperature?: number; reallocated?: number }>();
  private at = 0;
  private busy = false;

  constructor(
    private call: () => Call | undefined,
    private now: () => number,
    private everyMs = 15 * 60_000,
  ) {}

  get(id: string) {
    return this.last.get(id);
  }

  refresh(ids: string[]): void {
    const call = this.call();
    if (!call || this.busy || this.now() - this.at < this.everyMs) return;
    this.busy = true;
    this.at = this.now();
    void (async () => {
      for (const id of ids) {
        try {
          const s = (await call('disk.smart', { disk: id })) as { temperature?: number; raw?: unknown };
          this.last.set(id, {
            ...(s.temperature !== undefined ? { temperature: s.temperature } : {}),
            ...reallocatedOf(s.raw),
          });
        } catch {
          this.last.delete(id);
        }
      }
    })().finally(() => {
      this.busy = false;
    });
  }
}

/** ATA attribute 5 (Reallocated_Sector_Ct) raw value, or SCSI grown defects, from smartctl's JSON. */
function reallocatedOf(raw: unknown): { reallocated?: number } {
  const j = raw as {
    ata_smart_attributes?: { table?: { id: number; raw?: { value?: number } }[] };
    scsi_grown_defect_list?: number;
  };
  const a = j?.ata_smart_attributes?.table?.find((x) => x.id === 5)?.raw?.value;
  if (typeof a === 'number') return { reallocated: a };
  if (typeof j?.scsi_grown_defect_list === 'number') return { reallocated: j.scsi_grown_defect_list };
  return {};
}

/**
 * The registry of one agent: the RPC counters and histogram (fed per call), process figures,
 * and gauges filled from a reading at scrape time. Exported for the benchmark.
 */
export function createMetrics(read: () => Promise<Readings>, now: () => number) {
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
  let reading: Readings = {};
  const g = (name: string, help: string, labelNames: string[], set: (m: client.Gauge) => void) =>
    new client.Gauge({
      name,
      help,
      labelNames,
      registers: [register],
      collect() {
        this.reset();
        set(this);
      },
    });
  g('calypso_jobs', 'Jobs the agent knows, by state (last 1,000)', ['state'], (m) => {
    const by = new Map<string, number>();
    for (const j of reading.jobs ?? []) by.set(j.state, (by.get(j.state) ?? 0) + 1);
    for (const [state, n] of by) m.set({ state }, n);
  });
  g('calypso_alerts_active', 'Active (not acknowledged) alerts by level', ['level'], (m) => {
    const a = reading.alerts;
    if (a) for (const level of ['critical', 'warning', 'info'] as const) m.set({ level }, a[level]);
  });
  const pool = (
    name: string,
    help: string,
    v: (p: NonNullable<Readings['pools']>[number]) => number | undefined,
  ) =>
    g(name, help, ['pool'], (m) => {
      for (const p of reading.pools ?? []) {
        const x = v(p);
        if (x !== undefined && Number.isFinite(x)) m.set({ pool: p.name }, x);
      }
    });
  pool('calypso_zfs_pool_size_bytes', 'Pool size', (p) => p.size);
  pool('calypso_zfs_pool_allocated_bytes', 'Pool space allocated', (p) => p.allocated);
  pool('calypso_zfs_pool_free_bytes', 'Pool space free', (p) => p.free);
  pool('calypso_zfs_pool_capacity_ratio', 'Allocated / size', (p) =>
    p.size && p.allocated !== undefined ? p.allocated / p.size : undefined,
  );
  pool('calypso_zfs_pool_scrub_age_seconds', 'Seconds since the last finished scan', (p) =>
    p.scan?.state === 'finished' && p.scan.endedAt ? Math.max(0, now() / 1000 - p.scan.endedAt) : undefined,
  );
  pool('calypso_zfs_pool_scan_errors', 'Errors the last finished scan found', (p) =>
    p.scan?.state === 'finished' ? (p.scan.errors ?? 0) : undefined,
  );
  g(
    'calypso_zfs_pool_errors',
    'Error counters of the pool (read, write, checksum, permanent data errors)',
    ['pool', 'kind'],
    (m) => {
      for (const p of reading.pools ?? [])
        for (const kind of ['read', 'write', 'checksum', 'data'] as const) {
          const x = p.errors?.[kind];
          if (typeof x === 'number') m.set({ pool: p.name, kind }, x);
        }
    },
  );
  g('calypso_zfs_pool_health', 'Pool health: 1 for its current state', ['pool', 'state'], (m) => {
    for (const p of reading.pools ?? []) m.set({ pool: p.name, state: p.health }, 1);
  });
  g('calypso_disks', 'Disks in the inventory', [], (m) => {
    if (reading.disks) m.set(reading.disks.length);
  });
  g('calypso_disk_temperature_celsius', 'SMART temperature (sampled every 15 min)', ['disk'], (m) => {
    for (const d of reading.disks ?? [])
      if (d.temperature !== undefined) m.set({ disk: d.name }, d.temperature);
  });
  g('calypso_disk_reallocated_sectors', 'Reallocated sectors / grown defects (sampled)', ['disk'], (m) => {
    for (const d of reading.disks ?? [])
      if (d.reallocated !== undefined) m.set({ disk: d.name }, d.reallocated);
  });
  g('calypso_zfs_datasets', 'Datasets by type', ['type'], (m) => {
    const d = reading.datasets;
    if (d) {
      m.set({ type: 'filesystem' }, d.filesystems);
      m.set({ type: 'volume' }, d.volumes);
    }
  });
  g('calypso_zfs_snapshots', 'Snapshots', [], (m) => {
    if (reading.snapshots !== undefined) m.set(reading.snapshots);
  });
  g('calypso_backup_last_job_success', 'Last backup of each job: 1 when it ended OK', ['job'], (m) => {
    for (const b of reading.backups ?? []) m.set({ job: b.name }, b.status === 'success' ? 1 : 0);
  });
  g('calypso_backup_last_job_bytes', 'Bytes written by the last backup of each job', ['job'], (m) => {
    for (const b of reading.backups ?? []) m.set({ job: b.name }, b.bytes);
  });
  g('calypso_iscsi_sessions', 'Connected initiators per target', ['target'], (m) => {
    const by = new Map<string, number>();
    for (const s of reading.iscsiSessions ?? []) by.set(s.target, (by.get(s.target) ?? 0) + 1);
    for (const [target, n] of by) m.set({ target }, n);
  });
  g(
    'calypso_tape_drive_loaded',
    'A cartridge is in the drive (1) or not (0), from the changer’s last status',
    ['changer', 'drive'],
    (m) => {
      for (const d of reading.tapeDrives ?? [])
        m.set({ changer: d.changer, drive: String(d.index) }, d.loaded ? 1 : 0);
    },
  );
  g('calypso_tape_cartridges', 'Cartridges in the libraries (slots, mailslots and drives)', [], (m) => {
    if (reading.tapeCartridges !== undefined) m.set(reading.tapeCartridges);
  });
  g('calypso_object_bucket_bytes', 'Bytes stored per bucket (sampled)', ['bucket'], (m) => {
    for (const b of reading.buckets ?? []) m.set({ bucket: b.name }, b.bytes);
  });
  g('calypso_object_bucket_objects', 'Objects per bucket (sampled)', ['bucket'], (m) => {
    for (const b of reading.buckets ?? []) m.set({ bucket: b.name }, b.objects);
  });
  g('calypso_object_bucket_quota_bytes', 'Bucket quota', ['bucket'], (m) => {
    for (const b of reading.buckets ?? []) if (b.quotaBytes) m.set({ bucket: b.name }, b.quotaBytes);
  });

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
    /** The exposition text, after one reading of the subsystems. */
    async scrape(): Promise<string> {
      reading = await read();
      return register.metrics();
    },
  };
}

function metricsService(deps: Parameters<Subsystem['service']>[0]): Service {
  const cfg: MetricsConfig = configOf(deps.config, metricsConfig);
  let call: Call | undefined;
  const smart = new SmartSampler(() => call, deps.clock.now);
  let cached: { at: number; value: Promise<Readings> } | undefined;
  const read = () => {
    const now = deps.clock.now();
    if (!cached || now - cached.at > cfg.cacheMs) {
      const value = call ? readAll(call, deps.clock.now, smart) : Promise.resolve({});
      cached = { at: now, value };
    }
    return cached.value;
  };
  const m = createMetrics(read, deps.clock.now);
  // One rendered text per cache period, shared by every scrape meanwhile; a rendering still
  // running serves the scrapes that arrive, however long it takes (readings cannot pile up).
  let rendered: { at: number; done: boolean; text: Promise<string> } | undefined;
  const render = (): Promise<string> => {
    if (rendered && (!rendered.done || deps.clock.now() - rendered.at <= cfg.cacheMs)) return rendered.text;
    const r = { at: deps.clock.now(), done: false, text: m.scrape() };
    r.text.then(
      () => {
        r.done = true;
        r.at = deps.clock.now();
      },
      () => {
        r.done = true;
        r.at = Number.NEGATIVE_INFINITY; // a failed rendering is not reused
      },
    );
    rendered = r;
    return r.text;
  };
  const limiter = new ScrapeLimiter(cfg.scrapesPerMinute, deps.clock.now);
  return {
    name: 'metrics',
    methods: [],
    observeRpc: (method, seconds, ok) => m.observe(method, seconds, ok),
    attach: (c) => {
      call = c;
    },
    wsRoutes: (app, authenticate) => {
      if (!cfg.enabled) return;
      app.get(METRICS_PATH, async (req, reply) => {
        // the listener already refused requests without a valid token; belt and braces
        const who = authenticate(req.raw);
        if (!who) {
          await reply.code(401).send({ error: 'a valid bearer token is required' });
          return;
        }
        const wait = limiter.refusal(who.tokenId ?? who.user);
        if (wait !== undefined) {
          await reply
            .code(429)
            .header('retry-after', String(wait))
            .send({
              error: `more than ${cfg.scrapesPerMinute} scrapes a minute with this token (metrics.scrapesPerMinute); try again in ${wait} s`,
              kind: 'limit',
            });
          return;
        }
        const text = await render();
        await reply.header('content-type', m.register.contentType).send(text);
      });
    },
  };
}

export const metricsSubsystem: Subsystem = {
  name: 'metrics',
  service: metricsService,
  config: metricsConfig,
};

/** Scrapes per token per minute (issue #28 item 3: 64 scrapers reached 98 scrapes/s). */
class ScrapeLimiter {
  private windows = new Map<string, { since: number; n: number }>();
  constructor(
    private perMinute: number,
    private now: () => number,
  ) {}

  /** Seconds to wait when this scrape is over the limit, else undefined (and it is counted). */
  refusal(key: string): number | undefined {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || now - w.since >= 60_000) {
      if (this.windows.size > 1000)
        for (const [k, v] of this.windows) if (now - v.since >= 60_000) this.windows.delete(k);
      w = { since: now, n: 0 };
      this.windows.set(key, w);
    }
    if (w.n >= this.perMinute) return Math.max(1, Math.ceil((w.since + 60_000 - now) / 1000));
    w.n++;
    return undefined;
  }
}
