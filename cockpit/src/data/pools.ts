/** pool.* — ZFS pools (agent/zfs/schemas.ts). */
import type { DryRunPlan, Item, Params, Result, ZfsVdev } from '../generated/api.js';
import type { AgentClient } from '../rpc/client.js';
import type { JobSummary } from './jobs.js';

export type Vdev = ZfsVdev;

export type Scan = Pool['scan'];

export type Pool = Item<'pool.list'>;

type Create = Params<'pool.create'>;
export type VdevType = Create['topology']['data'][number]['type'];
export const VDEV_TYPES: VdevType[] = ['stripe', 'mirror', 'raidz1', 'raidz2', 'raidz3'];
export const MIN_DISKS: Record<VdevType, number> = { stripe: 1, mirror: 2, raidz1: 2, raidz2: 3, raidz3: 4 };

/** What the wizard sends: data vdevs only (log, cache, spares and properties are not offered). */
export type PoolCreate = Pick<Create, 'name' | 'mountpoint' | 'altroot' | 'force'> & {
  topology: Pick<Create['topology'], 'data'>;
};

export type { DryRunPlan };

export type PoolAlert = Item<'pool.alert.list'>;

type Opts = { signal?: AbortSignal };

export const listPools = (c: AgentClient, o: Opts = {}) => c.items<Pool>('pool.list', {}, o);
export const planPool = (c: AgentClient, p: PoolCreate) =>
  c.call<DryRunPlan>('pool.create', { ...p, dryRun: true });
export const createPool = (c: AgentClient, p: PoolCreate) => c.call<Result<'pool.create'>>('pool.create', p);
export const destroyPool = (c: AgentClient, name: string) =>
  c.call<Result<'pool.destroy'>>('pool.destroy', { name, confirm: name });
/** Start a scrub; resolves with the job as it stands before its first progress event. */
export async function scrubPool(c: AgentClient, name: string): Promise<JobSummary> {
  const { job } = await c.call<Result<'pool.scrub'>>('pool.scrub', { name });
  return {
    id: job,
    method: 'pool.scrub',
    state: 'waiting',
    progress: { percent: 0, description: `scrub ${name}` },
  };
}
export const stopScrub = (c: AgentClient, name: string) =>
  c.call<Result<'pool.scrub.stop'>>('pool.scrub.stop', { name });
export const listPoolAlerts = (c: AgentClient, o: Opts = {}) =>
  c.items<PoolAlert>('pool.alert.list', { limit: 20 }, o);

export const POOL_TOPICS = ['pool.*'];

/** Healthy means ONLINE; anything else deserves attention. */
export const isHealthy = (health: string) => health === 'ONLINE';

/** Leaf device paths of a pool (to mark disks as in use). */
export function poolDevices(p: Pool): string[] {
  const out: string[] = [];
  const walk = (v: Vdev) => {
    if (v.children.length === 0) out.push(v.path ?? v.name);
    for (const c of v.children) walk(c);
  };
  for (const v of p.vdevs) walk(v);
  return out;
}
