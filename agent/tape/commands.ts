/**
 * Pure argv builders for mtx, mt-st and tapeinfo. Device paths come from the
 * configuration or the hardware inventory (stable /dev/tape/by-id paths), never from a client;
 * element numbers are integers checked by the method schemas. mtx and mt take no `--`: the
 * device is the argument of `-f`, so it cannot be read as an option.
 */

/** A move of one cartridge, in mtx numbering (drives from 0, slots from 1, mailslots after slots). */
export type Move =
  | { kind: 'load'; slot: number; drive: number }
  | { kind: 'unload'; drive: number; slot: number }
  | { kind: 'transfer'; from: number; to: number };

export const mtxStatus = (changer: string): string[] => ['mtx', '-f', changer, 'status'];

/** SMC INITIALIZE ELEMENT STATUS: the robot scans its barcodes again (minutes on a big library). */
export const mtxInventory = (changer: string): string[] => ['mtx', '-f', changer, 'inventory'];

export function mtxMove(changer: string, m: Move): string[] {
  switch (m.kind) {
    case 'load':
      return ['mtx', '-f', changer, 'load', String(m.slot), String(m.drive)];
    case 'unload':
      return ['mtx', '-f', changer, 'unload', String(m.slot), String(m.drive)];
    case 'transfer':
      return ['mtx', '-f', changer, 'transfer', String(m.from), String(m.to)];
  }
}

export const mtStatus = (drive: string): string[] => ['mt', '-f', drive, 'status'];
export const mtRewind = (drive: string): string[] => ['mt', '-f', drive, 'rewind'];
/** `offline` rewinds and unloads the cartridge from the drive's heads (needed before a robot unload). */
export const mtOffline = (drive: string): string[] => ['mt', '-f', drive, 'offline'];
export const tapeinfo = (sg: string): string[] => ['tapeinfo', '-f', sg];
