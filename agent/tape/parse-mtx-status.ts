/**
 * Pure parser of `mtx -f DEV status` (mtx 1.3.x). The shape follows SMC-3's element types:
 * data transfer elements (drives, numbered from 0 by mtx), storage elements (slots, from 1) and
 * import/export elements, which mtx numbers after the storage slots and marks `IMPORT/EXPORT`.
 *
 * Tolerant on purpose (PBS `parse_mtx_status.rs` meets the same outputs): lines before the
 * `Storage Changer` header (sense data mtx prints when a READ ELEMENT STATUS is retried) are
 * ignored; volume tags are trimmed (SMC pads them to 32 bytes with spaces and some libraries
 * leave the padding in); drive tags come as `VolumeTag = X` and slot tags as `VolumeTag=X`;
 * some builds print `Phys Loc <address>` after the element number; a full element without a tag
 * is an unlabelled cartridge.
 */
import type { ChangerStatus, DriveElement, SlotElement } from './types.js';

const HEADER_RE =
  /Storage Changer\s+(.*?):\s*(\d+)\s+Drives?,\s*(\d+)\s+Slots?(?:\s*\(\s*(\d+)\s+Import\/Export\s*\))?/i;
const ELEMENT_RE =
  /^\s*(Data Transfer|Storage) Element\s+(\d+)((?:\s+IMPORT\/EXPORT|\s+Phys(?:ical)?\s+Loc(?:ation)?\s*[:=]?\s*\S+?)*)\s*:\s*(Full|Empty)\b(.*)$/i;
const LOADED_RE = /\(\s*Storage Element\s+(\d+)\s+Loaded\s*\)/i;
const UNKNOWN_LOADED_RE = /\(\s*Unknown Storage Element Loaded\s*\)/i;
const TAG_RE = /:\s*VolumeTag\s*=\s*(.*?)\s*(?=:\s*AlternateVolumeTag|$)/i;
const ALT_TAG_RE = /:\s*AlternateVolumeTag\s*=\s*(.*?)\s*$/i;
const PHYS_RE = /Phys(?:ical)?\s+Loc(?:ation)?\s*[:=]?\s*(\S+?)(?=\s|$)/i;

/** Thrown when the text holds no element line at all (not an `mtx status` output). */
export class MtxParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MtxParseError';
  }
}

function tag(raw: string | undefined): string | undefined {
  const t = raw?.trim();
  return t ? t : undefined;
}

export function parseMtxStatus(text: string): ChangerStatus {
  // The status block starts at the last header: anything before it (sense data, an earlier
  // attempt's partial output) is noise. Without a header, every element line counts.
  let body = text;
  let header: RegExpExecArray | undefined;
  for (
    let at = text.lastIndexOf('Storage Changer');
    at >= 0;
    at = text.lastIndexOf('Storage Changer', at - 1)
  ) {
    const lineStart = text.lastIndexOf('\n', at) + 1;
    const lineEnd = text.indexOf('\n', at);
    const m = HEADER_RE.exec(text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd));
    if (m) {
      header = m;
      body = lineEnd < 0 ? '' : text.slice(lineEnd + 1);
      break;
    }
    if (at === 0) break;
  }
  const lines = body.split(/\r?\n/);
  const start = 0;
  const drives: DriveElement[] = [];
  const slots: SlotElement[] = [];
  for (let i = start; i < lines.length; i++) {
    const m = ELEMENT_RE.exec(lines[i]!);
    if (!m) continue;
    const index = Number(m[2]);
    const mods = m[3] ?? '';
    const full = m[4]!.toLowerCase() === 'full';
    const rest = m[5] ?? '';
    const volumeTag = full ? tag(TAG_RE.exec(rest)?.[1]) : undefined;
    const alternateTag = full ? tag(ALT_TAG_RE.exec(rest)?.[1]) : undefined;
    const phys = PHYS_RE.exec(mods)?.[1];
    if (/^Data Transfer$/i.test(m[1]!)) {
      const loaded = LOADED_RE.exec(rest);
      drives.push({
        index,
        full,
        ...(volumeTag ? { volumeTag } : {}),
        ...(alternateTag ? { alternateTag } : {}),
        ...(full && loaded ? { sourceSlot: Number(loaded[1]) } : {}),
        ...(full && UNKNOWN_LOADED_RE.test(rest) ? { sourceUnknown: true } : {}),
        ...(phys ? { physicalLocation: phys } : {}),
      });
    } else {
      slots.push({
        index,
        full,
        ...(volumeTag ? { volumeTag } : {}),
        ...(alternateTag ? { alternateTag } : {}),
        importExport: /IMPORT\/EXPORT/i.test(mods),
        ...(phys ? { physicalLocation: phys } : {}),
      });
    }
  }
  if (!drives.length && !slots.length)
    throw new MtxParseError('no element lines: not an `mtx status` output');
  return {
    ...(header?.[1] ? { device: header[1].trim() } : {}),
    ...(header
      ? {
          declared: {
            drives: Number(header[2]),
            slots: Number(header[3]),
            importExport: Number(header[4] ?? 0),
          },
        }
      : {}),
    drives,
    slots,
  };
}

/** The published shape of `calypsoctl changer parse --json` (keep it stable). */
export function publicStatus(s: ChangerStatus) {
  return {
    drives: s.drives.map((d) => ({
      index: d.index,
      full: d.full,
      ...(d.volumeTag !== undefined ? { volumeTag: d.volumeTag } : {}),
      ...(d.sourceSlot !== undefined ? { sourceSlot: d.sourceSlot } : {}),
    })),
    slots: s.slots.map((x) => ({
      index: x.index,
      full: x.full,
      ...(x.volumeTag !== undefined ? { volumeTag: x.volumeTag } : {}),
      importExport: x.importExport,
    })),
  };
}
