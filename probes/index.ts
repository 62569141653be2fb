/**
 * Probes: pure functions of a sysroot (`/` on the appliance, a recorded tree in tests and in
 * `calypsoctl probe --sysroot`). No agent dependency: each takes a path and returns data with
 * the warnings that explain anything missing.
 */
import { HardwareInventory, type Inventory, type InventoryOptions } from './inventory.js';
import type { ProbeResult } from './sysfs.js';
import type { Changer, Disk, Enclosure, Hba, TapeDrive } from './types.js';

export {
  type DiskChanges,
  diffDisks,
  HardwareInventory,
  type Inventory,
  type InventoryOptions,
  type TapeChanges,
} from './inventory.js';
export type { ProbeResult, ProbeWarning } from './sysfs.js';
export type * from './types.js';

/** Everything at once (one pass over the tree). */
export function probeAll(sysroot: string, opts?: InventoryOptions): Inventory {
  return new HardwareInventory(sysroot, opts).refreshAll();
}

function pick<T>(sysroot: string, f: (inv: Inventory) => T[]): ProbeResult<T> {
  const inv = probeAll(sysroot);
  return { items: f(inv), warnings: inv.warnings };
}

export const probeDisks = (sysroot: string): ProbeResult<Disk> => pick(sysroot, (i) => i.disks);
export const probeHbas = (sysroot: string): ProbeResult<Hba> => pick(sysroot, (i) => i.hbas);
export const probeEnclosures = (sysroot: string): ProbeResult<Enclosure> =>
  pick(sysroot, (i) => i.enclosures);
export const probeTapes = (sysroot: string): ProbeResult<TapeDrive> => pick(sysroot, (i) => i.tapes);
export const probeChangers = (sysroot: string): ProbeResult<Changer> => pick(sysroot, (i) => i.changers);
