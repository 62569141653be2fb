/**
 * Which changers and drives the agent manages: those in `tape.changers` when it is set, else
 * those the hardware inventory finds (probes/tape.ts), keyed by their stable ids. A drive found
 * at the changer's SCSI target belongs to it; with a single changer every drive does. The order
 * of drives is the mtx drive number: SMC-3 gives the element ↔ device mapping only through
 * DVCID, which mtx does not print, so for multi-drive libraries set `tape.changers`.
 */
import { probeAll } from '../../probes/index.js';
import type { Changer, TapeDrive } from '../../probes/types.js';
import type { TapeConfig } from './config.js';

export interface DriveRef {
  id: string;
  index: number;
  /** the non-rewinding node mt and Bacula use */
  device: string;
  sg?: string;
}

export interface ChangerRef {
  id: string;
  device: string;
  source: 'config' | 'inventory';
  vendor?: string;
  model?: string;
  serial?: string;
  drives: DriveRef[];
}

export function fromConfig(cfg: TapeConfig): ChangerRef[] {
  return (cfg.changers ?? []).map((c) => ({
    id: c.id,
    device: c.device,
    source: 'config' as const,
    drives: c.drives.map((d, index) => ({
      id: d.id ?? `${c.id}:${index}`,
      index,
      device: d.device,
      ...(d.sg ? { sg: d.sg } : {}),
    })),
  }));
}

const target = (hctl: string) => hctl.slice(0, hctl.lastIndexOf(':'));

export function fromInventory(changers: Changer[], drives: TapeDrive[]): ChangerRef[] {
  return changers
    .map((c): ChangerRef | undefined => {
      const mine = drives
        .filter((d) => d.changer === c.id || target(d.hctl) === target(c.hctl) || changers.length === 1)
        .sort((a, b) => a.hctl.localeCompare(b.hctl, undefined, { numeric: true }));
      const device = c.byId[0] ?? c.sg;
      if (!device) return undefined;
      return {
        id: c.id,
        device,
        source: 'inventory' as const,
        ...(c.vendor ? { vendor: c.vendor } : {}),
        ...(c.model ? { model: c.model } : {}),
        ...(c.serial ? { serial: c.serial } : {}),
        drives: mine.flatMap((d, index) => {
          const node = d.byId.find((p) => p.endsWith('-nst')) ?? d.nst ?? d.st;
          return node ? [{ id: d.id, index, device: node, ...(d.sg ? { sg: d.sg } : {}) }] : [];
        }),
      };
    })
    .filter((c): c is ChangerRef => !!c);
}

export function discover(cfg: TapeConfig, sysroot: string): ChangerRef[] {
  if (cfg.changers) return fromConfig(cfg);
  const inv = probeAll(sysroot);
  return fromInventory(inv.changers, inv.tapes);
}
