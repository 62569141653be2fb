/**
 * The Data protection page's data: remotes and push replication tasks (agent/remote/,
 * docs/replication.md), restore drills (docs/drills.md), the maintenance calendar, buckets with
 * Object Lock (agent/object/) and Bacula copy jobs (backup.job.list, type copy/migrate).
 * Other subsystems add fields to these answers over time: the page reads them as optional.
 */
import type { Item, Methods, Params, Result } from '../generated/api.js';
import type { AgentClient } from '../rpc/client.js';
import { AgentError } from '../rpc/errors.js';
import { type JobSummary, type SeenJobs, watchJobs } from './jobs.js';

type Opts = { signal?: AbortSignal };

export type Remote = Item<'remote.list'>;
export type RemoteTest = Result<'remote.test'>;
export type HostKey = Result<'remote.hostkey'>;
export type ReplicationTask = Item<'replication.task.list'>;
export type ReplicationRun = Methods['replication.task.run']['jobResult'];
export type Drill = Item<'backup.drill.list'>;
export type DrillReport = Result<'backup.drill.report.get'>;
export type ReplicaDrillReport = Result<'replication.drill.report.get'>;
export type CalendarItem = Item<'maintenance.calendar'>;
export type Calendar = Result<'maintenance.calendar'>;
export type BucketLock = Result<'object.bucket.lock.get'>;
export type CopyJob = Item<'backup.job.list'>;

/** Job events of these methods move the page's lists. */
export const REPLICATION_METHOD = 'replication.task.run';
export const DRILL_METHOD = 'backup.drill.run';
export const REPLICA_DRILL_METHOD = 'replication.drill.run';
/** A window event: the replication tasks were created, deleted or ran (the page's sections reload). */
export const TASKS_CHANGED = 'calypso-replication-tasks-changed';

export const listRemotes = (c: AgentClient, o: Opts = {}) => c.items<Remote>('remote.list', {}, o);
export const scanHostKey = (c: AgentClient, host: string, port: number | undefined) =>
  c.call<HostKey>('remote.hostkey', port === undefined ? { host } : { host, port });
export const pairRemote = (c: AgentClient, p: Params<'remote.pair'>) =>
  c.call<Remote>('remote.pair', p as Record<string, unknown>);
export const testRemote = (c: AgentClient, name: string) => c.call<RemoteTest>('remote.test', { name });
export const unpairRemote = (c: AgentClient, name: string) =>
  c.call<{ name: string }>('remote.unpair', { name });

export const listTasks = (c: AgentClient, o: Opts = {}) =>
  c.items<ReplicationTask>('replication.task.list', {}, o);
export const createTask = (c: AgentClient, p: Params<'replication.task.create'>) =>
  c.call<ReplicationTask>('replication.task.create', p as Record<string, unknown>);
export const runTask = (c: AgentClient, id: string) =>
  c.call<{ job: string }>('replication.task.run', { id });
export const deleteTask = (c: AgentClient, id: string) =>
  c.call<{ id: string; notes: string[] }>('replication.task.delete', { id });

export const listDrills = (c: AgentClient, o: Opts = {}) => c.items<Drill>('backup.drill.list', {}, o);
export const drillReport = (c: AgentClient, name: string, o: Opts = {}) =>
  c.call<DrillReport>('backup.drill.report.get', { name }, o);
export const runDrill = (c: AgentClient, name: string) =>
  c.call<{ job: string }>('backup.drill.run', { name });

export const runReplicaDrill = (c: AgentClient, task: string) =>
  c.call<{ job: string }>('replication.drill.run', { task });
/** The latest replica drill report of each task; a task never drilled has none (not an error). */
export async function replicaDrillReports(
  c: AgentClient,
  tasks: readonly string[],
  o: Opts = {},
): Promise<Map<string, ReplicaDrillReport | undefined>> {
  const one = (task: string) =>
    c.call<ReplicaDrillReport>('replication.drill.report.get', { task }, o).catch((e: unknown) => {
      if (e instanceof AgentError && e.kind === 'not_found') return undefined;
      throw e;
    });
  const reports = await Promise.all(tasks.map(one));
  return new Map(tasks.map((t, i) => [t, reports[i]]));
}

export const calendar = (c: AgentClient, o: Opts = {}) => c.call<Calendar>('maintenance.calendar', {}, o);

/** Copy and migrate jobs of the Bacula configuration (a second copy of backups, elsewhere). */
export const listCopyJobs = async (c: AgentClient, o: Opts = {}) =>
  (await c.items<CopyJob>('backup.job.list', {}, o)).filter((j) => j.type === 'copy' || j.type === 'migrate');

/**
 * Buckets created with Object Lock, with their default retention: object.bucket.lock.get per
 * bucket (the list does not carry the lock). A bucket whose lock cannot be read is left out.
 */
export async function listImmutable(c: AgentClient, o: Opts = {}): Promise<BucketLock[]> {
  const buckets = await c.items<{ name: string }>('object.bucket.list', {}, o);
  const locks = await Promise.all(
    buckets.map((b) =>
      c.call<BucketLock>('object.bucket.lock.get', { name: b.name }, o).catch(() => undefined),
    ),
  );
  return locks.filter((l): l is BucketLock => l?.enabled === true);
}

/** The pair dialog's fields, as typed. */
export interface PairDraft {
  name: string;
  host: string;
  port: string;
  user: string;
  prefix: string;
}
export const newPairDraft = (): PairDraft => ({ name: '', host: '', port: '22', user: 'root', prefix: '' });

/** What is wrong with the draft before asking the agent (the agent checks again with its schema). */
export function pairProblems(d: PairDraft): string[] {
  const out: string[] = [];
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(d.name))
    out.push('The name is lower-case letters, digits and -, up to 32.');
  if (!d.host) out.push('Give the host name or address of the other appliance.');
  const port = Number(d.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) out.push('The port is a number from 1 to 65535.');
  if (!/^[A-Za-z0-9_.:-]+(\/[A-Za-z0-9_.:-]+)*$/.test(d.prefix))
    out.push('The prefix is a dataset on the remote (pool/backup).');
  return out;
}

export const pairParams = (d: PairDraft, hostKeyFingerprint: string): Params<'remote.pair'> => ({
  name: d.name,
  host: d.host,
  port: Number(d.port),
  user: d.user || undefined,
  prefix: d.prefix,
  hostKeyFingerprint,
});

/**
 * Which task or drill a job works on. Job events carry no params, so a run started elsewhere
 * (calypsoctl, the drill scheduler, another browser) is recognised by its lock, read once per
 * job with job.get: `replication-task:<id>` (agent/remote/methods-task.ts) and
 * `backup.drill.run:<name>` (agent/backup/drill-scheduler.ts).
 */
export class JobOwners {
  /** job id → owner; null: not ours, or still being asked */
  private known = new Map<string, string | null>();
  constructor(
    private readonly client: AgentClient,
    private readonly method: string,
    private readonly lockPrefix: string,
  ) {}

  set(jobId: string, owner: string) {
    this.known.set(jobId, owner);
  }

  /** The owner (at once when known); undefined for other methods' jobs and while asking. */
  owner(j: { id: string; method: string }, then: (owner: string) => void): string | undefined {
    if (j.method !== this.method) return undefined;
    if (this.known.has(j.id)) return this.known.get(j.id) ?? undefined;
    if (this.known.size > 200) this.known.delete(this.known.keys().next().value!);
    this.known.set(j.id, null);
    void this.client
      .call<{ lock?: string }>('job.get', { id: j.id })
      .then((job) => {
        if (!job.lock?.startsWith(this.lockPrefix)) return;
        const owner = job.lock.slice(this.lockPrefix.length);
        this.known.set(j.id, owner);
        then(owner);
      })
      .catch(() => {});
    return undefined;
  }
}

export const REPLICATION_LOCK = 'replication-task:';
export const DRILL_LOCK = 'backup.drill.run:';

/**
 * Follow the runs of the jobs `owners` recognises, started here or anywhere else: `track(owner,
 * job)` on every event (once the owner is known, with the newest event seen). Answers the unsubscribe.
 */
export function followOwnedJobs(
  client: AgentClient,
  owners: JobOwners,
  seen: SeenJobs,
  track: (owner: string, j: JobSummary) => void,
): () => void {
  return watchJobs(client, seen, (j) => {
    const owner = owners.owner(j, (o) => track(o, seen.latest(j)));
    if (owner) track(owner, j);
  });
}
