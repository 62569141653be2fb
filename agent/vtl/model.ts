/**
 * The desired state of the virtual tape libraries and its rendering into mhvtl's files. A
 * library is a personality mhvtl emulates (SMC inquiry strings its vtllibrary answers to),
 * LTO-5…9 drives, slot and mailslot counts, a barcode range and media capacity/compression.
 * Library ids are mhvtl's: 10, 20, … 90; its drives are id+1 … id+n (as mhvtl's own generator
 * numbers them), so at most 9 drives per library.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { DeviceConf, DeviceRecord } from './device-conf.js';
import type { LibraryContents } from './library-contents.js';
import type { MhvtlConf } from './mhvtl-conf.js';

/** Library personalities mhvtl's vtllibrary implements (smc personalities), as INQUIRY strings. */
export const PERSONALITIES = {
  'STK-L700': { vendor: 'STK', product: 'L700', revision: '0104' },
  'STK-L80': { vendor: 'STK', product: 'L80', revision: '0104' },
  'STK-SL150': { vendor: 'STK', product: 'SL150', revision: '0104' },
  'SPECTRA-PYTHON': { vendor: 'SPECTRA', product: 'PYTHON', revision: '5500' },
  'IBM-03584L32': { vendor: 'IBM', product: '03584L32', revision: '0100' },
  'HP-MSL-G3': { vendor: 'HP', product: 'MSL G3 Series', revision: '4.20' },
} as const;
export type Personality = keyof typeof PERSONALITIES;

/** LTO drives mhvtl's vtltape emulates, by generation (IBM ULT3580-TDn personalities). */
export const DRIVE_MODELS: Record<
  number,
  { vendor: string; product: string; revision: string; density: string }
> = {
  5: { vendor: 'IBM', product: 'ULT3580-TD5', revision: 'D8D5', density: 'LTO5' },
  6: { vendor: 'IBM', product: 'ULT3580-TD6', revision: 'G350', density: 'LTO6' },
  7: { vendor: 'IBM', product: 'ULT3580-TD7', revision: 'G9N1', density: 'LTO7' },
  8: { vendor: 'IBM', product: 'ULT3580-TD8', revision: '2160', density: 'LTO8' },
  9: { vendor: 'IBM', product: 'ULT3580-TD9', revision: 'N9M0', density: 'LTO9' },
};

export const LibraryId = Type.Integer({
  minimum: 10,
  maximum: 90,
  multipleOf: 10,
  description: 'mhvtl library id (10, 20, … 90); its drives are id+1 … id+n',
});

export const VtlName = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$',
  description: 'library name: a letter or digit, then letters, digits, _ and - (at most 32)',
});

export const VtlLibrarySchema = Type.Object(
  {
    id: LibraryId,
    name: VtlName,
    personality: Type.Union(
      Object.keys(PERSONALITIES).map((k) => Type.Literal(k)),
      { description: 'the library model mhvtl emulates' },
    ),
    drives: Type.Array(Type.Integer({ minimum: 5, maximum: 9, description: 'LTO generation' }), {
      minItems: 1,
      maxItems: 9,
      description: 'one LTO generation per drive',
    }),
    slots: Type.Integer({ minimum: 1, maximum: 2000, description: 'storage slots' }),
    mailslots: Type.Integer({ minimum: 0, maximum: 255, default: 4, description: 'import/export slots' }),
    barcodePrefix: Type.String({
      pattern: '^[A-Z0-9]{1,3}$',
      description: 'first characters of every barcode (the rest: a number to 6 characters and L<gen>)',
    }),
    tapes: Type.Integer({ minimum: 0, maximum: 2000, description: 'data cartridges placed from slot 1' }),
    cleaningTapes: Type.Integer({
      minimum: 0,
      maximum: 8,
      default: 1,
      description: 'CLN cartridges after them',
    }),
    capacityMB: Type.Integer({
      minimum: 100,
      maximum: 18_000_000,
      default: 5000,
      description: 'capacity of each cartridge',
    }),
    compression: Type.Integer({ minimum: 0, maximum: 9, default: 1, description: 'zlib factor (0: off)' }),
  },
  { additionalProperties: false },
);
export type VtlLibrary = Static<typeof VtlLibrarySchema>;

export interface VtlState {
  libraries: VtlLibrary[];
}

export const EMPTY_VTL: VtlState = { libraries: [] };

/** Media suffix of a generation (LTO labels: L5…L9). */
const suffix = (gen: number) => `L${gen}`;

export function barcodesOf(
  l: VtlLibrary,
): { slot: number; barcode: string; kind: 'data' | 'clean'; gen: number }[] {
  const gen = Math.max(...l.drives);
  const width = 6 - l.barcodePrefix.length;
  const out: { slot: number; barcode: string; kind: 'data' | 'clean'; gen: number }[] = [];
  for (let i = 0; i < l.tapes; i++)
    out.push({
      slot: i + 1,
      barcode: `${l.barcodePrefix}${String(i + 1).padStart(width, '0')}${suffix(gen)}`,
      kind: 'data',
      gen,
    });
  for (let i = 0; i < l.cleaningTapes; i++)
    out.push({
      slot: l.tapes + i + 1,
      barcode: `CLN${String(l.id + i).padStart(3, '0')}${suffix(gen)}`,
      kind: 'clean',
      gen,
    });
  return out;
}

/** Problems that the schema cannot see; empty when the state is consistent. */
export function checkVtl(s: VtlState): string[] {
  const out: string[] = [];
  const ids = new Set<number>();
  const names = new Set<string>();
  const prefixes = new Set<string>();
  for (const l of s.libraries) {
    if (ids.has(l.id)) out.push(`library id ${l.id} is used twice`);
    if (names.has(l.name)) out.push(`library name ${l.name} is used twice`);
    if (prefixes.has(l.barcodePrefix)) out.push(`barcode prefix ${l.barcodePrefix} is used by two libraries`);
    ids.add(l.id);
    names.add(l.name);
    prefixes.add(l.barcodePrefix);
    if (l.tapes + l.cleaningTapes > l.slots)
      out.push(`${l.name}: ${l.tapes + l.cleaningTapes} cartridges do not fit in ${l.slots} slots`);
    if (l.tapes >= 10 ** (6 - l.barcodePrefix.length))
      out.push(`${l.name}: ${l.tapes} barcodes do not fit after the prefix ${l.barcodePrefix}`);
  }
  return out;
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');
const pad2 = (n: number) => String(n).padStart(2, '0');

export function deviceConfOf(s: VtlState, home: string): DeviceConf {
  const records: DeviceRecord[] = [];
  let target = 0;
  for (const l of [...s.libraries].sort((a, b) => a.id - b.id)) {
    const p = PERSONALITIES[l.personality as Personality];
    records.push({
      kind: 'Library',
      id: l.id,
      channel: '00',
      target: pad2(target),
      lun: '00',
      lines: [
        { key: 'Vendor identification', value: p.vendor },
        { key: 'Product identification', value: p.product },
        { key: 'Product revision level', value: p.revision },
        { key: 'Unit serial number', value: `CAL${l.id}` },
        { key: 'NAA', value: `${hex2(l.id)}:22:33:44:ab:00:${hex2(target)}:00` },
        { key: 'Home directory', value: home },
        { key: 'PERSIST', value: 'True' },
        { key: 'Backoff', value: '400' },
      ],
    });
    target++;
    l.drives.forEach((gen, i) => {
      const d = DRIVE_MODELS[gen]!;
      records.push({
        kind: 'Drive',
        id: l.id + i + 1,
        channel: '00',
        target: pad2(target),
        lun: '00',
        lines: [
          { key: 'Library ID', value: `${l.id} Slot: ${pad2(i + 1)}` },
          { key: 'Vendor identification', value: d.vendor },
          { key: 'Product identification', value: d.product },
          { key: 'Product revision level', value: d.revision },
          { key: 'Unit serial number', value: `CAL${l.id}D${i + 1}` },
          { key: 'NAA', value: `${hex2(l.id)}:22:33:44:ab:00:${hex2(target)}:00` },
          {
            key: 'Compression',
            value: `factor ${Math.max(1, l.compression)} enabled ${l.compression > 0 ? 1 : 0}`,
          },
          { key: 'Compression type', value: 'lzo' },
          { key: 'Backoff', value: '400' },
        ],
      });
      target++;
    });
  }
  return { version: 5, records };
}

export function libraryContentsOf(l: VtlLibrary): LibraryContents {
  const placed = new Map(barcodesOf(l).map((b) => [b.slot, b.barcode]));
  return {
    version: 2,
    drives: l.drives.map((_, i) => i + 1),
    pickers: [1],
    maps: Array.from({ length: l.mailslots }, (_, i) => i + 1),
    slots: Array.from({ length: l.slots }, (_, i) => {
      const b = placed.get(i + 1);
      return { index: i + 1, ...(b ? { barcode: b } : {}) };
    }),
  };
}

export function mhvtlConfOf(configDir: string, capacityMB = 5000): MhvtlConf {
  return [
    ['MHVTL_CONFIG_PATH', configDir],
    ['CAPACITY', String(capacityMB)],
    ['VERBOSE', '0'],
    ['VTL_DEBUG', '0'],
  ];
}
