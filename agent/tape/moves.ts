/**
 * Checks of a requested move against a fresh status, before any command runs: a move from an
 * empty element or into a full one is `conflict` (SMC-3 would answer with a CHECK CONDITION,
 * ILLEGAL REQUEST, "medium source element empty" / "medium destination element full", but some
 * robots first swing the picker, and a refusal here costs nothing). Pure: status in, move out.
 */
import { conflict, invalid, notFound } from '../../rpc/errors.js';
import type { Move } from './commands.js';
import type { ChangerStatus, DriveElement, SlotElement } from './types.js';

export type MoveRequest =
  | { kind: 'load'; drive: number; slot?: number; barcode?: string }
  | { kind: 'unload'; drive: number; slot?: number }
  | { kind: 'transfer'; from: number; to: number }
  | { kind: 'import'; from: number; to?: number }
  | { kind: 'export'; from?: number; barcode?: string; to?: number };

function drive(s: ChangerStatus, index: number): DriveElement {
  const d = s.drives.find((x) => x.index === index);
  if (!d)
    throw notFound(`drive ${index} does not exist (the changer has ${s.drives.length})`, { drive: index });
  return d;
}

function slot(s: ChangerStatus, index: number): SlotElement {
  const x = s.slots.find((e) => e.index === index);
  if (!x) throw notFound(`slot ${index} does not exist`, { slot: index });
  return x;
}

const what = (x: SlotElement) => `${x.importExport ? 'mailslot' : 'slot'} ${x.index}`;

function mustBeFull(x: SlotElement): void {
  if (!x.full) throw conflict(`${what(x)} is empty`, { slot: x.index });
}

function mustBeEmpty(x: SlotElement): void {
  if (x.full)
    throw conflict(`${what(x)} is full${x.volumeTag ? ` (${x.volumeTag})` : ''}`, {
      slot: x.index,
      ...(x.volumeTag ? { volumeTag: x.volumeTag } : {}),
    });
}

function byBarcode(s: ChangerStatus, barcode: string): SlotElement {
  const x = s.slots.find((e) => e.full && e.volumeTag === barcode);
  if (x) return x;
  const d = s.drives.find((e) => e.full && e.volumeTag === barcode);
  if (d) throw conflict(`${barcode} is in drive ${d.index}`, { barcode, drive: d.index });
  throw notFound(`no cartridge ${barcode} in the changer`, { barcode });
}

function firstEmpty(s: ChangerStatus, mailslot: boolean): SlotElement {
  const x = s.slots.find((e) => e.importExport === mailslot && !e.full);
  if (!x) throw conflict(`no empty ${mailslot ? 'mailslot' : 'storage slot'}`, {});
  return x;
}

/** Where an unload puts the cartridge, and why when that is not the slot it came from. */
export interface Unload {
  move: Move & { kind: 'unload' };
  volumeTag?: string;
  /** the slot it was loaded from, when the changer knows */
  home?: number;
  /** set when the cartridge goes elsewhere than the slot named or its home: the reason, in words */
  elsewhere?: string;
}

/**
 * An unload's destination: the slot the caller named (refused with `conflict` when it is full:
 * the caller meant that slot), else the cartridge's home slot, else — its home has been filled
 * meanwhile — the first empty storage slot, with the reason, so that the answer, the log and
 * the audit record say where the cartridge went. No known home and no slot named: `invalid`.
 */
export function resolveUnload(
  s: ChangerStatus,
  driveIndex: number,
  named?: number,
  /** the slot the agent loaded this cartridge from; preferred to the changer's own idea (below) */
  recordedHome?: number,
): Unload {
  const d = drive(s, driveIndex);
  if (!d.full) throw conflict(`drive ${d.index} is empty`, { drive: d.index });
  const tag = d.volumeTag;
  const cart = tag ? `cartridge ${tag}` : 'the cartridge';
  // Some changers report a drive's source element as the first empty slot rather than the slot
  // the cartridge came from (tgt's emulation does): a home the agent recorded when it loaded the
  // cartridge wins over the reported one.
  const homeSlot = recordedHome ?? d.sourceSlot;
  const base = { ...(tag ? { volumeTag: tag } : {}), ...(homeSlot !== undefined ? { home: homeSlot } : {}) };
  const move = (to: number) => ({ kind: 'unload' as const, drive: d.index, slot: to });
  if (named !== undefined) {
    const x = slot(s, named);
    if (x.full)
      throw conflict(
        `${what(x)} is full${x.volumeTag ? ` (${x.volumeTag})` : ''}: ${cart} in drive ${d.index} was not unloaded; ` +
          'name an empty slot, or leave slot out to unload it to the slot it came from',
        { slot: x.index, drive: d.index, ...(x.volumeTag ? { volumeTag: x.volumeTag } : {}) },
      );
    return { ...base, move: move(x.index) };
  }
  if (homeSlot === undefined)
    throw invalid(`drive ${d.index}: the changer does not know where the cartridge came from; give slot`, {
      drive: d.index,
    });
  const home = s.slots.find((e) => e.index === homeSlot);
  if (home && !home.full) return { ...base, move: move(home.index) };
  const why = home
    ? `its home slot ${home.index} has been filled meanwhile${home.volumeTag ? ` (by ${home.volumeTag})` : ''}`
    : `its home slot ${homeSlot} does not exist`;
  const free = s.slots.find((e) => !e.importExport && !e.full);
  if (!free)
    throw conflict(`${cart} in drive ${d.index} cannot be unloaded: ${why} and no storage slot is empty`, {
      drive: d.index,
    });
  return {
    ...base,
    move: move(free.index),
    elsewhere: `${cart} from drive ${d.index} goes to slot ${free.index}, not to its home: ${why}`,
  };
}

/** The mtx move for a request, or the refusal; `status` must be fresh (read under the lock). */
export function resolveMove(s: ChangerStatus, r: MoveRequest): Move {
  switch (r.kind) {
    case 'load': {
      if ((r.slot === undefined) === (r.barcode === undefined))
        throw invalid('give either slot or barcode', {});
      const src = r.barcode !== undefined ? byBarcode(s, r.barcode) : slot(s, r.slot!);
      const d = drive(s, r.drive);
      mustBeFull(src);
      if (d.full)
        throw conflict(`drive ${d.index} is full${d.volumeTag ? ` (${d.volumeTag})` : ''}`, {
          drive: d.index,
        });
      return { kind: 'load', slot: src.index, drive: d.index };
    }
    case 'unload':
      return resolveUnload(s, r.drive, r.slot).move;
    case 'transfer': {
      if (r.from === r.to) throw invalid('from and to are the same slot', { slot: r.from });
      const a = slot(s, r.from);
      const b = slot(s, r.to);
      mustBeFull(a);
      mustBeEmpty(b);
      return { kind: 'transfer', from: a.index, to: b.index };
    }
    case 'import': {
      const a = slot(s, r.from);
      if (!a.importExport) throw invalid(`slot ${a.index} is not a mailslot`, { slot: a.index });
      mustBeFull(a);
      const b = r.to !== undefined ? slot(s, r.to) : firstEmpty(s, false);
      if (b.importExport)
        throw invalid(`slot ${b.index} is a mailslot; import into a storage slot`, { slot: b.index });
      mustBeEmpty(b);
      return { kind: 'transfer', from: a.index, to: b.index };
    }
    case 'export': {
      if ((r.from === undefined) === (r.barcode === undefined))
        throw invalid('give either from or barcode', {});
      const a = r.barcode !== undefined ? byBarcode(s, r.barcode) : slot(s, r.from!);
      if (a.importExport) throw invalid(`slot ${a.index} is already a mailslot`, { slot: a.index });
      mustBeFull(a);
      const b = r.to !== undefined ? slot(s, r.to) : firstEmpty(s, true);
      if (!b.importExport) throw invalid(`slot ${b.index} is not a mailslot`, { slot: b.index });
      mustBeEmpty(b);
      return { kind: 'transfer', from: a.index, to: b.index };
    }
  }
}
