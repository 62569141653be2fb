/** Shapes shared by the tape parsers, drivers and service (no behaviour here). */

/** A data transfer element (drive) as the changer reports it; mtx numbers drives from 0. */
export interface DriveElement {
  index: number;
  full: boolean;
  volumeTag?: string;
  alternateTag?: string;
  /** the storage element the cartridge came from (SMC-3 source element address, as mtx maps it) */
  sourceSlot?: number;
  /** full, but the changer did not say which slot the cartridge came from */
  sourceUnknown?: boolean;
  physicalLocation?: string;
}

/** A storage or import/export element; mtx numbers slots from 1, mailslots after the storage slots. */
export interface SlotElement {
  index: number;
  full: boolean;
  volumeTag?: string;
  alternateTag?: string;
  importExport: boolean;
  physicalLocation?: string;
}

export interface ChangerStatus {
  /** the device named in the header */
  device?: string;
  /** counts from the header line, when present */
  declared?: { drives: number; slots: number; importExport: number };
  drives: DriveElement[];
  slots: SlotElement[];
}

/** What `mt status` (mt-st) says about a drive. */
export interface MtStatus {
  driveType?: string;
  fileNumber?: number;
  blockNumber?: number;
  partition?: number;
  blockSize?: number;
  densityCode?: number;
  densityName?: string;
  softErrors?: number;
  /** General status bits by name: BOT, EOF, EOT, ONLINE, DR_OPEN, WR_PROT, IM_REP_EN, ... */
  flags: string[];
  online: boolean;
  writeProtected: boolean;
  /** DR_OPEN: no cartridge in the drive */
  empty: boolean;
  bot: boolean;
}

/** `tapeinfo -f DEV` fields the agent uses. */
export interface TapeInfo {
  productType?: string;
  vendor?: string;
  product?: string;
  revision?: string;
  serial?: string;
  ready?: boolean;
  densityCode?: number;
  mediumType?: number;
  blockSize?: number;
  blockPosition?: number;
  minBlock?: number;
  maxBlock?: number;
  compression?: boolean;
  writeProtect?: boolean;
  remainingKbytes?: number;
  sizeKbytes?: number;
  /** TapeAlert flags set (numbers 1–64, SSC-4 Annex / TapeAlert specification) */
  tapeAlerts: { flag: number; text: string }[];
}
