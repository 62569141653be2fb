/** A changer status as methods return it: each cartridge with its media type (pure). */
import { mediaOf } from './media.js';
import type { ChangerStatus } from './types.js';

export function statusView(changer: string, s: ChangerStatus, time: string) {
  const media = (tag: string | undefined) => {
    if (!tag) return {};
    const m = mediaOf(tag);
    return { mediaType: m.type, ...(m.cleaning ? { cleaning: true } : {}) };
  };
  return {
    changer,
    time,
    drives: s.drives.map((d) => ({
      index: d.index,
      full: d.full,
      ...(d.volumeTag ? { volumeTag: d.volumeTag } : {}),
      ...(d.sourceSlot !== undefined ? { sourceSlot: d.sourceSlot } : {}),
      ...media(d.volumeTag),
    })),
    slots: s.slots.map((x) => ({
      index: x.index,
      full: x.full,
      ...(x.volumeTag ? { volumeTag: x.volumeTag } : {}),
      importExport: x.importExport,
      ...media(x.volumeTag),
    })),
  };
}
