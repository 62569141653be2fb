/**
 * Offering a library (physical or virtual) to Bacula in one call: the storage daemon's
 * Autochanger and Device resources (Bacula's `mtx-changer`, the drives' stable nst paths, one
 * Drive Index per mtx drive number), a tape pool on it, then `update slots` and
 * `label barcodes` from the agent. The resources are the backup subsystem's own model
 * (agent/backup/model.ts), checked with its schemas and its consistency check, so what is
 * rendered is exactly what `backup.storage.*` would render.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { invalid } from '../../rpc/errors.js';
import {
  checkState,
  type DesiredState,
  labelBarcodesCall,
  type Pool,
  PoolSchema,
  type Storage,
  StorageSchema,
  updateSlotsCall,
} from '../backup/port.js';
import type { ChangerRef } from './libraries.js';
import { mediaOf } from './media.js';
import type { ChangerStatus } from './types.js';

const checkStorage = TypeCompiler.Compile(StorageSchema);
const checkPool = TypeCompiler.Compile(PoolSchema);

export interface OfferRequest {
  storage: string;
  pool: string;
  mediaType?: string;
  changerCommand?: string;
}

/** The media type most of the library's data cartridges carry (Bacula matches volumes on it). */
export function dominantMediaType(s: ChangerStatus | undefined): string | undefined {
  const count = new Map<string, number>();
  for (const e of [...(s?.slots ?? []), ...(s?.drives ?? [])]) {
    if (!e.volumeTag) continue;
    const m = mediaOf(e.volumeTag);
    if (m.cleaning || m.type === 'unknown') continue;
    const t = m.type.replace(/ WORM$/, '');
    count.set(t, (count.get(t) ?? 0) + 1);
  }
  return [...count.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

export function offerResources(ref: ChangerRef, req: OfferRequest, status?: ChangerStatus) {
  if (!ref.drives.length) throw invalid(`changer ${ref.id} has no drives to offer`, { changer: ref.id });
  const storage = Value.Default(StorageSchema, {
    name: req.storage,
    type: 'tape',
    mediaType: (req.mediaType ?? dominantMediaType(status) ?? 'LTO').replace(/\s+/g, '-'),
    changerDevice: ref.device,
    changerId: ref.id,
    ...(req.changerCommand ? { changerCommand: req.changerCommand } : {}),
    drives: ref.drives.map((d) => ({ device: d.device, index: d.index })),
    maxConcurrentJobs: ref.drives.length,
  }) as Storage;
  const pool = Value.Default(PoolSchema, { name: req.pool, kind: 'tape', storage: req.storage }) as Pool;
  const bad = checkStorage.Errors(storage).First() ?? checkPool.Errors(pool).First();
  if (bad) throw invalid(`bacula resource: ${bad.path} ${bad.message}`, { path: bad.path });
  return { storage, pool };
}

/** The backup desired state with the storage and pool added or replaced. */
export function withOffer(state: DesiredState, storage: Storage, pool: Pool): DesiredState {
  const next: DesiredState = {
    ...state,
    storages: [...state.storages.filter((s) => s.name !== storage.name), storage],
    pools: [...state.pools.filter((p) => p.name !== pool.name), pool],
  };
  const problems = checkState(next);
  if (problems.length)
    throw invalid(
      `bacula configuration: ${problems.map((p) => `${p.kind} ${p.name}: ${p.message}`).join('; ')}`,
      {
        problems,
      },
    );
  return next;
}

/**
 * The console lines, as agent/backup/ops-admin.ts `updateSlots` and `labelBarcodes` send them
 * (dry runs list them; the real run calls those functions).
 */
export function offerConsole(storage: string, pool: string, slots: string | undefined, drive = 0): string[] {
  const label = slots ? labelBarcodesCall({ storage, pool, slots, drive }) : undefined;
  return [
    ...updateSlotsCall({ storage, drive }).lines,
    ...(label ? [...label.lines, ...(label.answers ?? [])] : []),
  ];
}

/**
 * The storage slots holding data cartridges, as a bconsole slot list (`1-3,5`): cleaning
 * cartridges and mailslots are left out, so `label barcodes` never writes a label on a CLN tape
 * even where the pool has no Cleaning Prefix.
 */
export function dataSlots(s: ChangerStatus): string | undefined {
  const n = s.slots
    .filter((x) => x.full && !x.importExport && x.volumeTag && !mediaOf(x.volumeTag).cleaning)
    .map((x) => x.index)
    .sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < n.length; ) {
    let j = i;
    while (j + 1 < n.length && n[j + 1] === n[j]! + 1) j++;
    parts.push(i === j ? String(n[i]) : `${n[i]}-${n[j]}`);
    i = j + 1;
  }
  return parts.length ? parts.join(',') : undefined;
}
