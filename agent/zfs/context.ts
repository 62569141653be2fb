/**
 * What the ZFS method modules share: the driver, the snapshot cache, the health monitor and the
 * tunables. Built once per agent by the service factory (no module-level state).
 */
import type { RpcError } from '../../rpc/errors.js';
import type { DryRunPlan } from '../../rpc/registry.js';
import type { AgentDeps } from '../deps.js';
import type { Runner } from '../runner.js';
import type { Dialect } from './dialect.js';
import { ZfsDriver } from './driver.js';
import { HealthMonitor } from './health.js';
import { SnapshotCache } from './snapshot-cache.js';

export interface ZfsOptions {
  /** Pin the dialect instead of detecting it (tests with fake runners). */
  dialect?: Dialect;
  /** Use this runner for ZFS commands instead of deps.runner. */
  runner?: Runner;
  /** Poll interval of scrub/resilver jobs. */
  scanPollMs: number;
  /**
   * How long a job whose command may cause no resilver (online, attach, replace) watches for one before it
   * says none was needed; unset: the kernel's transaction group timeout and a second (methods-scan.ts).
   */
  scanSettleMs?: number;
  /** Deadline of each `zpool status` poll inside a job. */
  statusTimeoutMs: number;
  /** Deadline of ordinary zpool/zfs commands. */
  commandTimeoutMs: number;
  /** Health monitor poll interval; 0 disables the timer (kicks still poll). */
  healthIntervalMs: number;
  /** Snapshot scheduler tick; 0 disables it. */
  schedulerTickMs: number;
  /** Snapshot listing cache lifetime for changes made outside the agent. */
  snapshotCacheTtlMs: number;
}

export const DEFAULT_OPTIONS: ZfsOptions = {
  scanPollMs: 1000,
  statusTimeoutMs: 60_000,
  commandTimeoutMs: 120_000,
  healthIntervalMs: 30_000,
  schedulerTickMs: 15_000,
  snapshotCacheTtlMs: 60_000,
};

export interface ZfsContext {
  deps: AgentDeps;
  options: ZfsOptions;
  driver: ZfsDriver;
  cache: SnapshotCache;
  monitor: HealthMonitor;
  /** `unavailable` unless zpool/zfs are installed; then the detected dialect. */
  ready(): Promise<Dialect>;
  /** Return the plan for a dry run, else run it. Invalidates the snapshot cache after a run. */
  apply(plan: string[][], dryRun: boolean, opts?: ApplyOptions): Promise<DryRunPlan | undefined>;
}

export interface ApplyOptions {
  signal?: AbortSignal;
  notes?: string[];
  /** e.g. tolerate `zfs unmount` of a dataset that is not mounted */
  tolerate?: (argv: string[], err: RpcError) => boolean;
}

export function createZfsContext(deps: AgentDeps, partial: Partial<ZfsOptions> = {}): ZfsContext {
  const options = { ...DEFAULT_OPTIONS, ...partial };
  const driver = new ZfsDriver({
    runner: options.runner ?? deps.runner,
    dialect: options.dialect,
    timeoutMs: options.commandTimeoutMs,
  });
  const cache = new SnapshotCache(
    (ds) => driver.listSnapshots(ds),
    deps.clock.now,
    options.snapshotCacheTtlMs,
  );
  const monitor = new HealthMonitor({
    driver,
    events: deps.events,
    alerts: deps.store.db('alerts'),
    log: deps.log.child({ area: 'zfs-health' }),
    now: deps.clock.now,
    intervalMs: options.healthIntervalMs,
    timeoutMs: options.statusTimeoutMs,
    sink: deps.alerts,
  });
  return {
    deps,
    options,
    driver,
    cache,
    monitor,
    async ready() {
      // a pinned dialect or runner means a test double: there is nothing to detect
      // the probe's `zpool version` already tells OpenZFS and its version: no second process for the dialect
      if (!options.dialect && !options.runner)
        driver.knownVersion((await deps.capabilities.require('zfs')).version);
      return driver.dialect();
    },
    async apply(plan, dryRun, opts = {}) {
      if (dryRun) return { dryRun: true, commands: plan, ...(opts.notes ? { notes: opts.notes } : {}) };
      try {
        await driver.exec(plan, { signal: opts.signal, tolerate: opts.tolerate });
      } finally {
        cache.invalidate();
      }
      return undefined;
    },
  };
}

/** `zfs unmount` of something not mounted is fine before a destroy. */
export const tolerateNotMounted: ApplyOptions['tolerate'] = (argv, err) =>
  argv[1] === 'unmount' && /not currently mounted|not mounted/i.test(String(err.data.stderr ?? err.message));
