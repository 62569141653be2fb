/** Result schemas of the ZFS methods (the published shapes in docs/design.md are kept; fields are added). */
import { type Static, Type } from '@sinclair/typebox';

const Bytes = (description: string) => Type.Integer({ minimum: 0, description });
const OptBytes = (description: string) => Type.Optional(Bytes(description));

export const VdevSchema = Type.Recursive(
  (This) =>
    Type.Object({
      name: Type.String({ description: 'as zpool prints it: a path, a device name, a guid, or mirror-0' }),
      type: Type.String({
        description: 'root, mirror, raidz1-3, draid, replacing, spare, disk, file, missing',
      }),
      class: Type.Optional(
        Type.String({ description: 'top-level vdevs: data, log, cache, spare, special, dedup' }),
      ),
      path: Type.Optional(Type.String({ description: 'absolute path of a leaf' })),
      state: Type.String({
        description: 'ONLINE, DEGRADED, FAULTED, OFFLINE, UNAVAIL, REMOVED, AVAIL, INUSE',
      }),
      read: Type.Integer({ description: 'read errors' }),
      write: Type.Integer({ description: 'write errors' }),
      checksum: Type.Integer({ description: 'checksum errors' }),
      note: Type.Optional(Type.String({ description: 'trailing text of the status line' })),
      was: Type.Optional(Type.String({ description: 'path a missing device had' })),
      resilvered: OptBytes('bytes resilvered on this device'),
      repaired: OptBytes('bytes repaired on this device'),
      activity: Type.Optional(Type.String({ description: 'resilvering, repairing, awaiting resilver' })),
      children: Type.Array(This),
    }),
  { $id: 'ZfsVdev', description: 'a vdev and its children' },
);

export const ScanSchema = Type.Object(
  {
    function: Type.Optional(Type.String({ description: 'scrub, resilver or error-scrub' })),
    state: Type.String({ description: 'none, scanning, paused, finished, canceled' }),
    percent: Type.Optional(Type.Number({ description: '0–100' })),
    errors: Type.Optional(Type.Integer({ description: 'errors found by a finished scan' })),
    startedAt: Type.Optional(Type.Number({ description: 'ms since the epoch' })),
    endedAt: Type.Optional(Type.Number({ description: 'ms since the epoch' })),
    elapsedSec: Type.Optional(Type.Number()),
    remainingSec: Type.Optional(Type.Number()),
    scanned: OptBytes('bytes scanned'),
    issued: OptBytes('bytes issued'),
    total: OptBytes('bytes to scan'),
    processed: OptBytes('bytes repaired (scrub) or resilvered (resilver)'),
    text: Type.String({ description: 'the scan line(s) as printed' }),
  },
  { description: 'scrub or resilver status' },
);

export const PoolSchema = Type.Object(
  {
    name: Type.String(),
    health: Type.String({ description: 'ONLINE, DEGRADED, FAULTED, OFFLINE, UNAVAIL, REMOVED, SUSPENDED' }),
    size: Type.Optional(Type.Number({ description: 'bytes' })),
    allocated: Type.Optional(Type.Number({ description: 'bytes' })),
    free: Type.Optional(Type.Number({ description: 'bytes' })),
    capacity: Type.Optional(Type.Number({ description: 'percent used' })),
    fragmentation: Type.Optional(Type.Number({ description: 'percent (OpenZFS)' })),
    dedupratio: Type.Optional(Type.Number()),
    altroot: Type.Optional(Type.String()),
    guid: Type.Optional(Type.String()),
    version: Type.Optional(
      Type.String({ description: 'pool version (legacy pools; feature-flag pools have none)' }),
    ),
    exactSizes: Type.Boolean({ description: 'false when the tool only prints rounded sizes (zfs-fuse)' }),
    status: Type.Optional(Type.String({ description: 'zpool status "status:" text' })),
    action: Type.Optional(Type.String({ description: 'zpool status "action:" text' })),
    scan: ScanSchema,
    errors: Type.Object({
      read: Type.Integer(),
      write: Type.Integer(),
      checksum: Type.Integer(),
      data: Type.Integer({ description: 'files or objects with permanent errors' }),
      files: Type.Array(Type.String(), { description: 'files with permanent errors (zpool status -v)' }),
    }),
    vdevs: Type.Array(VdevSchema, { description: 'top-level vdevs of every class, each with `class`' }),
  },
  { description: 'a pool' },
);
export type Pool = Static<typeof PoolSchema>;

export const DatasetSchema = Type.Object(
  {
    name: Type.String(),
    type: Type.String({ description: 'filesystem or volume' }),
    used: Type.Optional(Type.Number()),
    available: Type.Optional(Type.Number()),
    referenced: Type.Optional(Type.Number()),
    mountpoint: Type.Optional(Type.String()),
    mounted: Type.Optional(Type.Boolean()),
    compression: Type.Optional(Type.String()),
    quota: Type.Optional(Type.Number()),
    reservation: Type.Optional(Type.Number()),
    volsize: Type.Optional(Type.Number()),
    origin: Type.Optional(Type.String({ description: 'snapshot a clone was made from' })),
    creation: Type.Optional(Type.Number({ description: 'ms since the epoch' })),
    properties: Type.Optional(
      Type.Record(Type.String(), Type.Object({ value: Type.String(), source: Type.String() }), {
        description: 'all properties (dataset.get)',
      }),
    ),
  },
  { description: 'a filesystem or volume' },
);

export const DatasetNodeSchema = Type.Recursive(
  (This) => Type.Intersect([DatasetSchema, Type.Object({ children: Type.Array(This) })]),
  { $id: 'ZfsDatasetNode', description: 'a dataset and its children' },
);

export const SnapshotSchema = Type.Object(
  {
    name: Type.String({ description: 'dataset@snapshot' }),
    dataset: Type.String(),
    snapshot: Type.String({ description: 'the part after @' }),
    created: Type.Optional(
      Type.Number({ description: 'ms since the epoch (minute resolution on zfs-fuse)' }),
    ),
    used: Type.Optional(Type.Number()),
    referenced: Type.Optional(Type.Number()),
    holds: Type.Integer({ description: 'number of user holds' }),
  },
  { description: 'a snapshot' },
);

export const AlertSchema = Type.Object({
  id: Type.String(),
  time: Type.Number(),
  severity: Type.String({ description: 'info, warning, critical' }),
  pool: Type.String(),
  kind: Type.String({ description: 'state, device-state, device-errors, scan-finished, data-errors' }),
  message: Type.String(),
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
