/** Remotes and replication tasks: schemas and their records in LMDB (`config` db). */
import { type Static, Type } from '@sinclair/typebox';
import type { Database } from 'lmdb';
import { CRON_PATTERN } from '../util/cron.js';

export const RemoteName = Type.String({
  pattern: '^[a-z][a-z0-9-]{0,31}$',
  description: 'a remote’s name: lower-case letters, digits and -, up to 32',
  examples: ['dr-site'],
});
export const Host = Type.String({
  // a host name, IPv4 or IPv6 address: never an option (no leading -), no spaces or quotes
  pattern: '^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|[0-9A-Fa-f:.]{2,45})$',
  description: 'host name or address of the other appliance',
  examples: ['192.0.2.10'],
});
export const UserName = Type.String({
  pattern: '^[a-z_][a-z0-9_-]{0,31}$',
  description: 'the user the key logs in as on the remote (default root)',
});
/** the dataset schema of the ZFS names (agent/zfs/names.ts), restated: subsystems meet only through ports */
export const RemoteDataset = Type.String({
  pattern: '^[A-Za-z][A-Za-z0-9_.:-]*(/[A-Za-z0-9_.:-]+)*$',
  minLength: 1,
  maxLength: 255,
  description: 'dataset name: pool[/component]*; components use letters, digits, _ . : -',
  examples: ['backup/calypso'],
});
export const TaskId = Type.String({
  pattern: '^[a-z0-9][a-z0-9-]{0,62}$',
  description: 'a replication task’s id: lower-case letters, digits and -',
});

export const RemoteSchema = Type.Object({
  name: RemoteName,
  host: Host,
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  user: UserName,
  prefix: Type.String({ description: 'the dataset prefix the remote allows this key to receive into' }),
  hostKey: Type.String({ description: 'the host key pinned at pairing (known_hosts line)' }),
  hostKeyFingerprint: Type.String(),
  publicKey: Type.String({
    description: 'this appliance’s key, to authorize on the remote (remote.authorize)',
  }),
  createdAt: Type.Number(),
});
export type RemoteRecord = Static<typeof RemoteSchema>;

const Keep = Type.Object(
  { keep: Type.Integer({ minimum: 1, maximum: 10000, description: 'snapshots kept, the newest first' }) },
  { additionalProperties: false },
);
export const RetentionSchema = Type.Object(
  {
    source: Type.Optional(Keep),
    target: Type.Optional(Keep),
  },
  {
    additionalProperties: false,
    description:
      'after a good run, each side keeps its newest `keep` snapshots of the task’s datasets; only snapshots older ' +
      'than the held last common one are destroyed, never the held one',
  },
);
export const TaskOptions = {
  direction: Type.Optional(
    Type.Union([Type.Literal('push'), Type.Literal('pull')], {
      description:
        'push (default): source here, target on the remote; pull: source on the remote, target here',
    }),
  ),
  recursive: Type.Optional(
    Type.Boolean({ description: 'the source’s descendants too, each sent on its own (default false)' }),
  ),
  schedule: Type.Optional(
    Type.String({ pattern: CRON_PATTERN, description: 'five-field cron expression (UTC) or @daily etc.' }),
  ),
  onSnapshotPolicy: Type.Optional(
    Type.String({
      pattern: '^[a-z0-9][a-z0-9-]{0,62}$',
      description: 'run after this snapshot policy’s run creates a snapshot (push tasks)',
    }),
  ),
  enabled: Type.Optional(Type.Boolean({ description: 'scheduled runs happen (default true)' })),
  retention: Type.Optional(RetentionSchema),
  bandwidthLimit: Type.Optional(
    Type.Integer({ minimum: 1024, description: 'bytes per second (none: no limit)' }),
  ),
  drillSchedule: Type.Optional(
    Type.String({
      pattern: CRON_PATTERN,
      description:
        'when its replica drill runs (replication.drill.run): five-field cron (UTC) or @weekly etc.',
    }),
  ),
};

export const ChildRunSchema = Type.Object({
  dataset: Type.String({ description: 'the source dataset' }),
  target: Type.String(),
  mode: Type.String({
    description: 'full, incremental (a restart from the last common snapshot), resume or none',
  }),
  snapshot: Type.Optional(Type.String()),
  from: Type.Optional(Type.String()),
  bytes: Type.Integer(),
});

export const LastRunSchema = Type.Object({
  time: Type.Number(),
  ok: Type.Boolean(),
  mode: Type.Optional(Type.String()),
  snapshot: Type.Optional(Type.String()),
  bytes: Type.Optional(Type.Integer()),
  error: Type.Optional(Type.String()),
});

export const TaskSchema = Type.Object({
  ...TaskOptions,
  id: TaskId,
  remote: RemoteName,
  direction: Type.Union([Type.Literal('push'), Type.Literal('pull')]),
  source: RemoteDataset,
  target: RemoteDataset,
  createdAt: Type.Number(),
  /** the newest snapshot both sides have, held on both (zfs hold calypso-repl:<id>) */
  common: Type.Optional(
    Type.String({ description: 'the last common snapshot (short name), held on both sides' }),
  ),
  commons: Type.Optional(
    Type.Record(Type.String(), Type.String(), {
      description:
        'recursive: each dataset’s last common snapshot, by its path below the source ("" the source)',
    }),
  ),
  lastSlot: Type.Optional(Type.Number({ description: 'the minute of the last scheduled run (ms)' })),
  lastDrillSlot: Type.Optional(
    Type.Number({ description: 'the minute of the last scheduled replica drill (ms)' }),
  ),
  lastRun: Type.Optional(LastRunSchema),
});
export type TaskRecord = Static<typeof TaskSchema>;

const REMOTE = (name: string) => `remote/remote/${name}`;
const TASK = (id: string) => `remote/task/${id}`;

export class RemoteStore {
  constructor(private db: Database) {}
  private range<T>(start: string): T[] {
    const out: T[] = [];
    for (const { value } of this.db.getRange({ start, end: `${start}\uffff` })) out.push(value as T);
    return out;
  }
  remotes = () => this.range<RemoteRecord>('remote/remote/');
  remote = (name: string) => this.db.get(REMOTE(name)) as RemoteRecord | undefined;
  putRemote = (r: RemoteRecord) => this.db.put(REMOTE(r.name), r);
  deleteRemote = (name: string) => this.db.remove(REMOTE(name));
  tasks = () => this.range<TaskRecord>('remote/task/');
  task = (id: string) => this.db.get(TASK(id)) as TaskRecord | undefined;
  putTask = (t: TaskRecord) => this.db.put(TASK(t.id), t);
  deleteTask = (id: string) => this.db.remove(TASK(id));
  /** read-change-write of one task in one LMDB transaction (a concurrent change is not lost) */
  updateTask(id: string, fn: (t: TaskRecord) => TaskRecord): Promise<boolean> {
    return this.db.transaction(() => {
      const t = this.task(id);
      if (t) this.db.put(TASK(id), fn(t));
      return !!t;
    });
  }
}

/** secrets.env key of a remote's private key (base64 of the OpenSSH key file) */
export const keySecret = (name: string) => `REMOTE_${name.toUpperCase().replace(/-/g, '_')}_SSH_KEY`;
