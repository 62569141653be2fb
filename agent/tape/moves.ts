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
    case 'unload': {
      const d = drive(s, r.drive);
      if (!d.full) throw conflict(`drive ${d.index} is empty`, { drive: d.index });
      const to = r.slot ?? d.sourceSlot;
      if (to === undefined)
        throw invalid(
          `drive ${d.index}: the changer does not know where the cartridge came from; give slot`,
          {
            drive: d.index,
          },
        );
      mustBeEmpty(slot(s, to));
      return { kind: 'unload', drive: d.index, slot: to };
    }
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
