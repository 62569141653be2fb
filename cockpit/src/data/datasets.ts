/** dataset.*, snapshot.* and snapshot.policy.* (agent/zfs). */
import type { Item, Params, Result, ZfsDatasetNode } from '../generated/api.js';
import type { AgentClient } from '../rpc/client.js';

export type Dataset = Omit<ZfsDatasetNode, 'children'>;

export type DatasetNode = ZfsDatasetNode;

export type Snapshot = SnapshotPage['items'][number];

export type SnapshotPage = Result<'snapshot.list'>;

export type Policy = Item<'snapshot.policy.list'>;

type Opts = { signal?: AbortSignal };

export const listDatasets = (c: AgentClient, o: Opts = {}) => c.items<DatasetNode>('dataset.list', {}, o);
export const getDataset = (c: AgentClient, name: string, o: Opts = {}) =>
  c.call<Dataset>('dataset.get', { name }, o);
export const createDataset = (c: AgentClient, name: string, properties: Record<string, string> = {}) =>
  c.call<Dataset>('dataset.create', Object.keys(properties).length ? { name, properties } : { name });

export function listSnapshots(
  c: AgentClient,
  q: { dataset?: string; offset: number; limit: number; search?: string },
  o: Opts = {},
) {
  const params: Record<string, unknown> = {
    offset: q.offset,
    limit: q.limit,
    sort: 'created',
    order: 'desc',
  };
  if (q.dataset) params.dataset = q.dataset;
  if (q.search) params.search = q.search;
  return c.call<SnapshotPage>('snapshot.list', params, o);
}
export const createSnapshot = (c: AgentClient, dataset: string, name: string) =>
  c.call<Snapshot>('snapshot.create', { dataset, name });
export const rollbackSnapshot = (c: AgentClient, snapshot: string, destroyNewer: boolean) =>
  c.call<Result<'snapshot.rollback'>>('snapshot.rollback', { snapshot, destroyNewer });

export const listPolicies = (c: AgentClient, o: Opts = {}) => c.items<Policy>('snapshot.policy.list', {}, o);
export const setPolicy = (c: AgentClient, p: Omit<Params<'snapshot.policy.set'>, 'dryRun'>) =>
  c.call<Policy>('snapshot.policy.set', p);
export const deletePolicy = (c: AgentClient, id: string) =>
  c.call<Result<'snapshot.policy.delete'>>('snapshot.policy.delete', { id });
export const runPolicy = (c: AgentClient, id: string) =>
  c.call<Result<'snapshot.policy.run'>>('snapshot.policy.run', { id });

/** Flatten a tree for display with depth. */
export function flattenTree(nodes: DatasetNode[], depth = 0): { node: DatasetNode; depth: number }[] {
  return nodes.flatMap((n) => [{ node: n, depth }, ...flattenTree(n.children, depth + 1)]);
}
