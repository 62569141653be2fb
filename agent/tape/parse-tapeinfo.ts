/**
 * Pure parser of `tapeinfo -f DEV` (from the mtx package): `Key: value` lines, INQUIRY strings
 * quoted with their padding, numbers in decimal or 0x hex, and `TapeAlert[N]: text` lines for
 * every TapeAlert flag set (log page 2Eh).
 */
import { inquiryField } from '../../probes/parse-inquiry.js';
import type { TapeInfo } from './types.js';

function num(v: string): number | undefined {
  const s = v.trim();
  const n = /^0x[0-9a-f]+$/i.test(s) ? Number.parseInt(s, 16) : /^-?\d+$/.test(s) ? Number(s) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}
const yes = (v: string) => /^(yes|true|1)$/i.test(v.trim());

export function parseTapeinfo(text: string): TapeInfo {
  const out: TapeInfo = { tapeAlerts: [] };
  for (const raw of text.split(/\r?\n/)) {
    const alert = /^\s*TapeAlert\[(\d+)\]:\s*(.*)$/.exec(raw);
    if (alert) {
      out.tapeAlerts.push({ flag: Number(alert[1]), text: alert[2]!.trim() });
      continue;
    }
    const m = /^\s*([A-Za-z][A-Za-z0-9 ]*?):\s*(.*)$/.exec(raw);
    if (!m) continue;
    const key = m[1]!;
    const v = m[2]!.replace(/^'(.*)'\s*$/, '$1').trim();
    if (inquiryField(out, key, v)) continue;
    switch (key) {
      case 'SerialNumber': {
        // tgt's virtual drives (seen in the kernel lab) report a serial of NUL bytes: no serial
        const serial = v.replace(/[\u0000-\u001f]/g, '').trim();
        if (serial) out.serial = serial;
        break;
      }
      case 'Ready':
        out.ready = yes(v);
        break;
      case 'Density Code':
        out.densityCode = num(v);
        break;
      case 'Medium Type':
        out.mediumType = num(v);
        break;
      case 'BlockSize':
        out.blockSize = num(v);
        break;
      case 'Block Position':
        out.blockPosition = num(v);
        break;
      case 'MinBlock':
        out.minBlock = num(v);
        break;
      case 'MaxBlock':
        out.maxBlock = num(v);
        break;
      case 'DataCompEnabled':
        out.compression = yes(v);
        break;
      case 'WriteProtect':
        out.writeProtect = yes(v);
        break;
      case 'Partition 0 Remaining Kbytes':
        out.remainingKbytes = num(v);
        break;
      case 'Partition 0 Size in Kbytes':
        out.sizeKbytes = num(v);
        break;
    }
  }
  return out;
}
