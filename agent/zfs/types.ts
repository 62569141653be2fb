/** Typed results of the ZFS parsers (pure data; the RPC schemas in schemas.ts mirror them). */

export type VdevClass = 'data' | 'log' | 'cache' | 'spare' | 'special' | 'dedup';

export type VdevType =
  | 'root'
  | 'mirror'
  | 'raidz1'
  | 'raidz2'
  | 'raidz3'
  | 'draid'
  | 'replacing'
  | 'spare'
  | 'indirect'
  | 'disk'
  | 'file'
  | 'missing';

export interface Vdev {
  /** As printed: a path, a short device name, a guid (missing device) or `mirror-0`. */
  name: string;
  type: VdevType;
  /** Absolute path of a leaf when the tool printed one. */
  path?: string;
  /** ONLINE, DEGRADED, FAULTED, OFFLINE, UNAVAIL, REMOVED, AVAIL, INUSE, … */
  state: string;
  read: number;
  write: number;
  checksum: number;
  /** Trailing text of the line ("cannot open", "currently in use", "296M repaired"). */
  note?: string;
  /** Path a missing device had (`was /dev/sdc`). */
  was?: string;
  /** Bytes resilvered or repaired on this device by the current or last scan. */
  resilvered?: number;
  repaired?: number;
  /** OpenZFS marks the device being worked on: resilvering, repairing, awaiting resilver. */
  activity?: string;
  children: Vdev[];
}

export type VdevTree = Record<VdevClass, Vdev[]>;

export type ScanFunction = 'scrub' | 'resilver' | 'error-scrub';
export type ScanState = 'none' | 'scanning' | 'paused' | 'finished' | 'canceled';

export interface ScanStatus {
  function?: ScanFunction;
  state: ScanState;
  /** 0–100 while scanning or paused; 100 when finished. */
  percent?: number;
  /** Errors found by a finished scan. */
  errors?: number;
  startedAt?: number;
  endedAt?: number;
  /** Seconds the scan took (finished) or has been running (zfs-fuse prints only this). */
  elapsedSec?: number;
  /** Estimated seconds to completion. */
  remainingSec?: number;
  scanned?: number;
  issued?: number;
  total?: number;
  /** Bytes repaired (scrub) or resilvered (resilver). */
  processed?: number;
  /** The scan line(s) as printed. */
  text: string;
}

export interface DataErrors {
  count: number;
  files: string[];
  text: string;
}

export interface PoolStatus {
  name: string;
  /** Pool health: ONLINE, DEGRADED, FAULTED, OFFLINE, UNAVAIL, REMOVED, SUSPENDED. */
  state: string;
  /** numeric pool id (import listings). */
  id?: string;
  status?: string;
  action?: string;
  see?: string;
  scan: ScanStatus;
  vdevs: VdevTree;
  /** Counters of the pool's own (root) row. */
  read: number;
  write: number;
  checksum: number;
  errors?: DataErrors;
}

export interface PoolListRow {
  name: string;
  size?: number;
  allocated?: number;
  free?: number;
  capacity?: number;
  fragmentation?: number;
  dedupratio?: number;
  health: string;
  altroot?: string;
  guid?: string;
  version?: string;
}

export interface DatasetRow {
  name: string;
  type: 'filesystem' | 'volume' | 'snapshot' | 'bookmark';
  used?: number;
  available?: number;
  referenced?: number;
  mountpoint?: string;
  compression?: string;
  quota?: number;
  reservation?: number;
  volsize?: number;
  origin?: string;
  mounted?: boolean;
  creation?: number;
}

export interface SnapshotRow {
  name: string;
  dataset: string;
  snapshot: string;
  /** ms since the epoch (minute resolution on zfs-fuse). */
  created?: number;
  used?: number;
  referenced?: number;
  /** number of holds (`userrefs`). */
  holds: number;
}

export interface PropertyValue {
  value: string;
  source: string;
}
