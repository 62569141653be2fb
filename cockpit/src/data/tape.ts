/** changer.*, drive.*, media.*, vtl.* — tape libraries and virtual tape (agent/tape/, agent/vtl/). */
import type { DryRunPlan, Item, Params, Result } from '../generated/api.js';
import type { AgentClient } from '../rpc/client.js';
import type { JobSummary } from './jobs.js';

type Opts = { signal?: AbortSignal };

export type ChangerInfo = Item<'changer.list'>;
export type DriveRef = ChangerInfo['drives'][number];

export type ChangerStatus = Result<'changer.status'>;
export type DriveElement = ChangerStatus['drives'][number];
export type SlotElement = ChangerStatus['slots'][number];

export type DriveStatus = Result<'drive.status'>;
export type TapeAlert = DriveStatus['alerts'][number];

/** A virtual library with every setting given: what the wizard fills in, and what vtl.library.list answers (with more). */
export type VtlLibrary = Required<Omit<Params<'vtl.library.create'>, 'dryRun'>>;

export type VtlStatus = Result<'vtl.status'>;

export type VtlPlan = DryRunPlan;

/** An element the user clicked: a slot (storage or mailslot) or a drive. */
export type Pick = { kind: 'slot'; index: number; importExport: boolean } | { kind: 'drive'; index: number };

/** The move a first click (source, full) and a second click (destination, empty) ask for. */
export function moveFor(
  from: Pick,
  to: Pick,
): { method: string; params: Record<string, number> } | undefined {
  if (from.kind === 'slot' && to.kind === 'drive')
    return { method: 'changer.load', params: { slot: from.index, drive: to.index } };
  if (from.kind === 'drive' && to.kind === 'slot')
    return { method: 'changer.unload', params: { drive: from.index, slot: to.index } };
  if (from.kind === 'slot' && to.kind === 'slot') {
    if (from.importExport && !to.importExport)
      return { method: 'changer.import', params: { from: from.index, to: to.index } };
    if (!from.importExport && to.importExport)
      return { method: 'changer.export', params: { from: from.index, to: to.index } };
    return { method: 'changer.transfer', params: { from: from.index, to: to.index } };
  }
  return undefined;
}

/** Published after every move and inventory with the changer's new status. */
export const TAPE_TOPICS = ['changer.changed'];

export const listChangers = (c: AgentClient, o: Opts = {}) => c.items<ChangerInfo>('changer.list', {}, o);
export const changerStatus = (c: AgentClient, changer: string, o: Opts = {}) =>
  c.call<ChangerStatus>('changer.status', { changer }, o);
export const driveStatus = (c: AgentClient, drive: string, o: Opts = {}) =>
  c.call<DriveStatus>('drive.status', { drive }, o);

export async function move(c: AgentClient, changer: string, from: Pick, to: Pick): Promise<ChangerStatus> {
  const m = moveFor(from, to);
  if (!m) throw new Error('no such move');
  return c.call<ChangerStatus>(m.method, { changer, ...m.params });
}

export async function startInventory(c: AgentClient, changer: string): Promise<JobSummary> {
  const r = await c.call<Result<'changer.inventory'>>('changer.inventory', { changer });
  return {
    id: r.job,
    method: 'changer.inventory',
    state: 'waiting',
    progress: { percent: 0, description: 'starting' },
  };
}

export const vtlStatus = (c: AgentClient, o: Opts = {}) => c.call<VtlStatus>('vtl.status', {}, o);
export const listVtl = (c: AgentClient, o: Opts = {}) =>
  c.items<Item<'vtl.library.list'>>('vtl.library.list', {}, o);
export const planVtl = (c: AgentClient, lib: VtlLibrary) =>
  c.call<VtlPlan>('vtl.library.create', { ...lib, dryRun: true });
export const createVtl = (c: AgentClient, lib: VtlLibrary) =>
  c.call<Result<'vtl.library.create'>>('vtl.library.create', { ...lib });
