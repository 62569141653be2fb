/**
 * Pure decoders of the SCSI VPD pages the kernel exposes as binary sysfs attributes
 * (`vpd_pg80`, `vpd_pg83` in a SCSI device's directory). Used when the udev database has no
 * serial or WWN for a device (udev not running, a recorded tree without run/udev).
 */
import { cleanText } from './sysfs.js';

/** Unit Serial Number page (SPC-4 §7.8.16): 4-byte header, then the serial in ASCII. */
export function decodeVpd80(buf: Buffer | undefined): string | undefined {
  if (!buf || buf.length < 4 || buf[1] !== 0x80) return undefined;
  const len = buf.readUInt16BE(2);
  const end = Math.min(buf.length, 4 + len);
  return cleanText(buf.toString('latin1', 4, end)).value;
}

export interface Vpd83 {
  /** NAA designator of the logical unit, as `0x…` (the WWN). */
  naa?: string;
  /** EUI-64 designator of the logical unit, as `eui.…`. */
  eui?: string;
  /** T10 vendor identification designator (ASCII). */
  t10?: string;
}

/**
 * Device Identification page (SPC-4 §7.8.6). Only designators associated with the logical
 * unit (ASSOCIATION = 00b) are taken: target-port designators differ per path of a dual-ported
 * disk and would split one disk into two.
 */
export function decodeVpd83(buf: Buffer | undefined): Vpd83 {
  const out: Vpd83 = {};
  if (!buf || buf.length < 4 || buf[1] !== 0x83) return out;
  const end = Math.min(buf.length, 4 + buf.readUInt16BE(2));
  let off = 4;
  while (off + 4 <= end) {
    const codeSet = buf[off]! & 0x0f;
    const assoc = (buf[off + 1]! >> 4) & 0x03;
    const type = buf[off + 1]! & 0x0f;
    const len = buf[off + 3]!;
    const d = buf.subarray(off + 4, Math.min(off + 4 + len, end));
    off += 4 + len;
    if (assoc !== 0 || d.length < len) continue;
    if (type === 3 && codeSet === 1 && (len === 8 || len === 16) && !out.naa)
      out.naa = `0x${d.toString('hex')}`;
    else if (type === 2 && codeSet === 1 && len >= 8 && !out.eui) out.eui = `eui.${d.toString('hex')}`;
    else if (type === 1 && !out.t10) out.t10 = cleanText(d.toString('latin1')).value;
  }
  return out;
}
