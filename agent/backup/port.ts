/**
 * What the backup subsystem offers the others (agent/ports.ts): a tape library offered to
 * Bacula as a storage and pool (one change of the backup desired state, made in the pipeline's
 * lock with the passwords it needs), the volume commands a library needs (update slots, label
 * barcodes) and the catalog's volumes. The pure pieces a caller needs to build an offer
 * (resource schemas, the state check, the console lines) are published here too.
 */
import type { ApplyOptions, ApplyResult as PipelineResult } from '../config-set/types.js';
import { definePort } from '../ports.js';
import type { Volume } from './catalog-schemas.js';
import type { ApplyResult } from './context.js';
import type { DesiredState, Pool, Storage } from './model.js';

export { labelBarcodesCall, updateSlotsCall } from './console-commands.js';
export { PoolSchema, StorageSchema } from './model.js';
export { checkState } from './render.js';
export type { ApplyResult, DesiredState, Pool, Storage, Volume };

export interface BaculaPort {
  /**
   * Add (or replace) a storage and its pool and apply, as one change read and made in the
   * pipeline's lock. `make` builds the next state from the committed one (throws to refuse).
   */
  offer(
    make: (current: DesiredState) => DesiredState,
    /** `changeOptions(ctx, summary)`: the caller's audit record is committed with the change */
    opts: ApplyOptions,
  ): Promise<{ plan: PipelineResult; applied?: ApplyResult; next: DesiredState }>;
  /** Whether the director answers (`reason` when not). */
  probe(): Promise<{ ok: boolean; reason?: string }>;
  /** `update slots storage=… drive=0`: the console's last lines. */
  updateSlots(a: { storage: string; drive?: number }): Promise<string>;
  /** `label barcodes …` on the given slots. */
  labelBarcodes(a: { storage: string; pool: string; slots?: string; drive?: number }): Promise<string>;
  /** The catalog's volumes; `undefined` when there is no catalog yet. */
  volumes(): Promise<Volume[] | undefined>;
}

export const BACULA = definePort<BaculaPort>('backup.bacula', 'backup');
