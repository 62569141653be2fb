/**
 * What the ZFS subsystem offers the others (agent/ports.ts): zvols — as pipeline effects, so a
 * zvol made for a change is journaled and destroyed again when the change fails. Holds on
 * datasets (a zvol a LUN uses cannot be destroyed) go through the infrastructure's
 * `deps.usage.register('dataset', …)`, which the ZFS methods consult before destroying.
 */
import type { Effect } from '../config-set/types.js';
import { definePort } from '../ports.js';
import type { RunResult } from '../runner.js';

export interface ZvolSpec {
  /** pool/path of the zvol */
  name: string;
  sizeBytes: number;
  /** sparse (thin) */
  thin?: boolean;
  /** `16K` */
  volblocksize?: string;
}

export interface ZvolsPort {
  /** `zfs create -V …` with its undo `zfs destroy`, for ManagedConfig.update's effects. */
  create(spec: ZvolSpec, timeoutMs?: number): Effect;
  /** `zfs destroy` of a zvol (argv; the caller runs or plans it). */
  destroy(name: string): string[];
  /** The zvol's block device exists (/dev/zvol/<name>). */
  exists(name: string): boolean;
  /** Its block device path. */
  device(name: string): string;
  /** `unavailable` with the reason unless ZFS's tools are present. */
  require(): Promise<void>;
}

export const ZVOLS = definePort<ZvolsPort>('zfs.zvols', 'zfs');

export interface ShareDatasetSpec {
  /** pool/calypso/shares/<name> */
  name: string;
  mountpoint: string;
  protocols: ('smb' | 'nfs')[];
  dryRun: boolean;
}

/** A share dataset's space: bytes used and available, and its refquota (undefined: none). */
export interface DatasetSpace {
  used: number;
  available: number;
  quota?: number;
}

/** the argv that reads a dataset's receive resume token (remote's guard allows exactly this read) */
export { zfsResumeToken } from './commands.js';
/** A quota as the zfs subsystem takes sizes (properties.ts `Size`): bytes, or "10G", "1.5T". */
export { Size as SizeSchema } from './properties.js';
/** Bytes of a size as the zfs subsystem takes and prints them ("20M" → 20971520; "none" → undefined). */
export { parseSize as sizeBytes } from './units.js';

export interface DatasetsPort {
  /**
   * The effect that creates a share's dataset with the properties file sharing needs, as far as
   * this ZFS has them (xattr, acltype, aclinherit, casesensitivity), and notes naming what it
   * lacks; an existing dataset is used as it is (no effect) with its differences noted.
   * `snapshotDir`: this ZFS shows snapshots under <mountpoint>/.zfs/snapshot (zfs-fuse does not).
   */
  prepareShare(spec: ShareDatasetSpec): Promise<{ effects: Effect[]; notes: string[]; snapshotDir: boolean }>;
  /**
   * The effect that sets a share dataset's refquota (`null`: none), its undo putting `previous`
   * back. refquota, not quota: snapshots (Previous Versions) do not eat the space users see.
   */
  setQuota(name: string, quota: string | number | null, previous: string | number | null): Effect;
  /** Space of these datasets (one `zfs get` per parent); a dataset gone is left out. */
  space(names: string[]): Promise<Map<string, DatasetSpace>>;
}

export const DATASETS = definePort<DatasetsPort>('zfs.datasets', 'zfs');

export interface SendPipeOptions {
  signal: AbortSignal;
  onBytes: (bytes: number) => void;
  limitBytesPerSec?: number;
}

/**
 * Sending side of replication to another appliance (agent/remote): the local zfs commands and
 * the counting pipe `zfs send | <receive>`, the receive being any argv (ssh … zfs receive).
 */
export interface ZfsSendPort {
  /** `unavailable` unless ZFS's tools are present */
  require(): Promise<void>;
  /** `zfs send [-i from] -- to` (full snapshot names) */
  sendArgv(to: string, from?: string): string[];
  /** `zfs send -t token` */
  resumeArgv(token: string): string[];
  /** estimated stream bytes (`zfs send -nvP`, else from the snapshots' properties) */
  estimate(to: string, from?: string): Promise<number>;
  /** a local zfs command (the dialect's environment); a failure throws `failed` with stderr */
  run(argv: string[], okCodes?: number[]): Promise<RunResult>;
  /** run send | receive, counting bytes; resolves with the bytes moved */
  pipe(send: string[], receive: string[], o: SendPipeOptions): Promise<number>;
}

export const ZFS_SEND = definePort<ZfsSendPort>('zfs.send', 'zfs');
