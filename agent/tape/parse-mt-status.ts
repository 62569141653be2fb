/**
 * Pure parser of `mt -f DEV status` as mt-st prints it (the st driver's MTIOCGET):
 *
 *   SCSI 2 tape drive:
 *   File number=0, block number=0, partition=0.
 *   Tape block size 0 bytes. Density code 0x5a (LTO-6).
 *   Soft error count since last status=0
 *   General status bits on (41010000):
 *    BOT ONLINE IM_REP_EN
 *
 * An empty drive reports file/block -1 and `DR_OPEN`; `WR_PROT` is the cartridge's switch.
 */
import type { MtStatus } from './types.js';

function num(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = s.startsWith('0x') ? Number.parseInt(s, 16) : Number(s);
  return Number.isFinite(n) ? n : undefined;
}

export function parseMtStatus(text: string): MtStatus {
  const out: MtStatus = { flags: [], online: false, writeProtected: false, empty: false, bot: false };
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let m = /^\s*(.*?) tape drive:\s*$/.exec(line) ?? /drive type\s*=\s*(.*)$/i.exec(line);
    if (m) out.driveType = m[1]!.trim();
    m = /File number\s*=\s*(-?\d+),\s*block number\s*=\s*(-?\d+)(?:,\s*partition\s*=\s*(\d+))?/i.exec(line);
    if (m) {
      out.fileNumber = num(m[1]);
      out.blockNumber = num(m[2]);
      if (m[3] !== undefined) out.partition = num(m[3]);
    }
    m = /Tape block size\s+(\d+)\s+bytes/i.exec(line);
    if (m) out.blockSize = num(m[1]);
    m = /Density code\s+(0x[0-9a-f]+|\d+)(?:\s+\((.*)\))?/i.exec(line);
    if (m) {
      out.densityCode = num(m[1]);
      const name = m[2]?.trim();
      if (name && name !== 'default' && name !== 'no translation') out.densityName = name;
    }
    m = /Soft error count since last status\s*=\s*(\d+)/i.exec(line);
    if (m) out.softErrors = num(m[1]);
    if (/General status bits on/i.test(line)) {
      // the names follow on the next non-empty line(s)
      for (let j = i + 1; j < lines.length && /^\s+\S/.test(lines[j]!); j++)
        out.flags.push(...lines[j]!.trim().split(/\s+/));
    }
  }
  const has = (f: string) => out.flags.includes(f);
  out.online = has('ONLINE');
  out.writeProtected = has('WR_PROT');
  out.empty = has('DR_OPEN');
  out.bot = has('BOT');
  return out;
}
