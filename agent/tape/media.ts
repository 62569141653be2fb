/**
 * What a barcode says about its cartridge. LTO labels are six characters of volume serial and a
 * two-character media identifier (LTO Ultrium cartridge label specification): `L1`…`L9` data,
 * `LT`…`LZ` WORM of LTO-3…9, `M8` LTO-7 Type M, `CU` a universal cleaning cartridge. Other
 * families use the suffixes mhvtl documents (library_contents: S3, X4, TA, JA…). A `CLN` prefix
 * is a cleaning cartridge whatever the suffix; (mhvtl also reads a `W` prefix as WORM; real labels do not, so the suffix decides here).
 */
export interface MediaInfo {
  /** LTO-8, LTO-5 WORM, SDLT600, T10000, 3592, … or `unknown` */
  type: string;
  /** LTO generation when the barcode names one */
  generation?: number;
  cleaning: boolean;
  worm: boolean;
}

const LTO_WORM: Record<string, number> = { LT: 3, LU: 4, LV: 5, LW: 6, LX: 7, LY: 8, LZ: 9 };
const OTHER: Record<string, { type: string; worm?: boolean }> = {
  S3: { type: 'SDLT600' },
  X4: { type: 'AIT-4' },
  TA: { type: 'T10000' },
  TZ: { type: '9840A' },
  TY: { type: '9840B' },
  TX: { type: '9840C' },
  TW: { type: '9840D' },
  TV: { type: '9940A' },
  TU: { type: '9940B' },
  JA: { type: '3592' },
  JB: { type: '3592E05' },
  JC: { type: '3592E06' },
  JK: { type: '3592E07' },
  JW: { type: '3592', worm: true },
  JX: { type: '3592E05', worm: true },
  JY: { type: '3592E07', worm: true },
  D7: { type: 'DLT7000' },
};

export function mediaOf(barcode: string | undefined): MediaInfo {
  const b = (barcode ?? '').trim().toUpperCase();
  const cleaning = b.startsWith('CLN') || (b.length >= 8 && b.endsWith('CU'));
  const suffix = b.length >= 8 ? b.slice(-2) : '';
  let m: MediaInfo = { type: 'unknown', cleaning, worm: false };
  const lto = /^L([1-9])$/.exec(suffix);
  if (lto) m = { type: `LTO-${lto[1]}`, generation: Number(lto[1]), cleaning, worm: false };
  else if (suffix in LTO_WORM)
    m = { type: `LTO-${LTO_WORM[suffix]} WORM`, generation: LTO_WORM[suffix], cleaning, worm: true };
  else if (suffix === 'M8') m = { type: 'LTO-7 Type M', generation: 7, cleaning, worm: false };
  else if (suffix === 'CU') m = { type: 'LTO cleaning', cleaning: true, worm: false };
  else if (suffix in OTHER) m = { type: OTHER[suffix]!.type, cleaning, worm: !!OTHER[suffix]!.worm };
  return m;
}

export function isCleaning(barcode: string | undefined): boolean {
  return mediaOf(barcode).cleaning;
}
