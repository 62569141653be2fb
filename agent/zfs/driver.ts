/**
 * The ZFS driver: argv (commands.ts) → runner → parse. No RPC here; the service calls these
 * functions and dry runs return the same argv lists the `exec*` functions run.
 *
 * Tool failures are mapped once (mapZfsError) from the tools' own messages to the error catalogue,
 * keeping argv, exit code and stderr tail in `data`.
 */
import { conflict, failed, invalid, notFound, RpcError, unavailable } from '../../rpc/errors.js';
import type { Runner, RunOptions, RunResult } from '../runner.js';
import * as cmd from './commands.js';
import { type Dialect, detectDialect, OPENZFS, parseZfsVersion } from './dialect.js';
import { parseDatasetList, parseSnapshotList, parseZfsGet } from './parse-zfs-list.js';
import { parseZpoolList } from './parse-zpool-list.js';
import { parseZpoolStatus } from './parse-zpool-status.js';
import type { DatasetRow, PoolListRow, PoolStatus, PropertyValue, SnapshotRow } from './types.js';

/** Default deadline of a zpool/zfs command; long operations run as jobs with their own. */
export const COMMAND_TIMEOUT_MS = 120_000;

export interface ZfsDriverOptions {
  runner: Runner;
  /** Pin a dialect (tests); otherwise detected on first use. */
  dialect?: Dialect;
  timeoutMs?: number;
}

export class ZfsDriver {
  readonly runner: Runner;
  private dialectP: Promise<Dialect> | undefined;
  private timeoutMs: number;

  constructor(opts: ZfsDriverOptions) {
    this.runner = opts.runner;
    this.timeoutMs = opts.timeoutMs ?? COMMAND_TIMEOUT_MS;
    if (opts.dialect) this.dialectP = Promise.resolve(opts.dialect);
  }

  /**
   * Settle the dialect from a version the agent already read (the capability probe's `zpool version`, which
   * prints `zfs-2.1.11-1` on OpenZFS only): the first command then needs no `zfs version` of its own.
   * Without a version it changes nothing (detection runs as before).
   */
  knownVersion(text: string | undefined): void {
    const version = text ? parseZfsVersion(`zfs-${text}`) : undefined;
    if (!this.dialectP && version) this.dialectP = Promise.resolve({ ...OPENZFS, version });
  }

  dialect(): Promise<Dialect> {
    if (!this.dialectP) {
      this.dialectP = detectDialect(this.runner);
      // a failed detection is retried next time
      this.dialectP.catch(() => {
        this.dialectP = undefined;
      });
    }
    return this.dialectP;
  }

  /** Run one command; tool failures become catalogue errors. */
  async run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    const d = await this.dialect();
    try {
      return await this.runner.run(argv, {
        timeoutMs: this.timeoutMs,
        ...opts,
        env: { ...d.env, ...opts.env },
      });
    } catch (err) {
      throw mapZfsError(err);
    }
  }

  /** Run a plan in order; stops at the first failure. */
  async exec(
    plan: string[][],
    opts: RunOptions & { tolerate?: (argv: string[], err: RpcError) => boolean } = {},
  ) {
    for (const argv of plan) {
      try {
        await this.run(argv, opts);
      } catch (err) {
        if (err instanceof RpcError && opts.tolerate?.(argv, err)) continue;
        throw err;
      }
    }
  }

  // ------------------------------------------------------------ reads

  async listPools(signal?: AbortSignal): Promise<PoolListRow[]> {
    const d = await this.dialect();
    const r = await this.run(cmd.zpoolList(d), { signal });
    return parseZpoolList(r.stdout, cmd.poolListColumns(d));
  }

  async status(
    name?: string,
    opts: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<PoolStatus[]> {
    const d = await this.dialect();
    const r = await this.run(cmd.zpoolStatus(d, name), opts);
    return parseZpoolStatus(r.stdout);
  }

  async poolStatus(
    name: string,
    opts: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<PoolStatus> {
    const [s] = await this.status(name, opts);
    if (!s) throw notFound(`pool ${name} does not exist`, { pool: name });
    return s;
  }

  async listDatasets(root?: string, depth?: number): Promise<DatasetRow[]> {
    const d = await this.dialect();
    const r = await this.run(cmd.zfsListDatasets(d, root, depth));
    return parseDatasetList(r.stdout);
  }

  async datasetExists(name: string): Promise<boolean> {
    try {
      await this.run(['zfs', 'list', '-H', '-o', 'name', '--', name]);
      return true;
    } catch (err) {
      if (err instanceof RpcError && err.kind === 'not_found') return false;
      throw err;
    }
  }

  async getProperties(name: string): Promise<Map<string, PropertyValue>> {
    const r = await this.run(cmd.zfsGetAll(name));
    return parseZfsGet(r.stdout).get(name) ?? new Map();
  }

  async getProps(names: string[], props: string[]): Promise<Map<string, Map<string, PropertyValue>>> {
    const r = await this.run(cmd.zfsGet(names, props));
    return parseZfsGet(r.stdout);
  }

  async listSnapshots(dataset?: string, signal?: AbortSignal): Promise<SnapshotRow[]> {
    const d = await this.dialect();
    const r = await this.run(cmd.zfsListSnapshots(d, dataset), { signal });
    return parseSnapshotList(r.stdout);
  }
}

const NOT_FOUND = [
  /no such pool/i,
  /dataset does not exist/i,
  /no such device in pool/i,
  /could not find any snapshots/i,
  /no such file or directory/i,
  /does not exist/i,
  /no pools available to import/i,
];
const CONFLICT = [
  /already exists/i,
  /is busy/i,
  /is part of (?:active|exported|potentially active) pool/i,
  /currently in use/i,
  /in use by/i,
  /has children/i,
  /has dependent clones/i,
  /more recent snapshots/i,
  /is not currently mounted/i,
  /destination .* exists/i,
  /has been modified/i,
  /no valid replicas/i,
  /can only attach to mirrors and top-level disks/i,
  /only applicable to mirror and replacing vdevs/i,
];
const INVALID = [
  /invalid property/i,
  /must be one of/i,
  /bad property/i,
  /invalid vdev specification/i,
  /mismatched replication level/i,
  /too small/i,
  /must be at least/i,
  /invalid option/i,
  /not supported/i,
  /cannot be changed/i,
  /read-only property/i,
];
const DOWN = [/zfs-fuse daemon is running/i, /failed to initialize ZFS library/i, /\/dev\/zfs/];

/** The tools' messages → the catalogue (one mapping point for the area). */
export function mapZfsError(err: unknown): unknown {
  if (!(err instanceof RpcError) || err.kind !== 'failed') return err;
  const stderr = String(err.data.stderr ?? '');
  const { kind: _k, ...data } = err.data;
  const message = err.message;
  if (DOWN.some((r) => r.test(stderr))) return unavailable(`zfs: ${lastLine(stderr)}`, data);
  if (INVALID.some((r) => r.test(stderr))) return invalid(message, data);
  if (CONFLICT.some((r) => r.test(stderr))) return conflict(message, data);
  if (NOT_FOUND.some((r) => r.test(stderr))) return notFound(message, data);
  return failed(message, data);
}

function lastLine(s: string): string {
  return (
    s
      .trim()
      .split('\n')
      .filter((l) => l.trim())
      .pop() ?? 'failed'
  );
}
