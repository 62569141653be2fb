/**
 * Pure parser of `lsscsi -g` / `lsscsi --generic` output: one line per SCSI device,
 * `[H:C:T:L]  type  vendor(8) model(16) rev(4)  /dev/node  /dev/sgN`. The INQUIRY fields have
 * fixed widths (lsscsi prints them with %-8s %-16s %-4s), so vendor and model may hold spaces.
 * Used to check the probes against real lsscsi captures; the agent itself reads sysfs.
 */
export interface LsscsiDevice {
  hctl: string;
  /** lsscsi's type name: disk, tape, mediumx, cd/dvd, enclosu, … */
  type: string;
  vendor: string;
  model: string;
  revision: string;
  /** Primary node (`/dev/sda`, `/dev/st0`, `/dev/sch0`), absent when lsscsi shows `-`. */
  node?: string;
  sg?: string;
}

const LINE_RE = /^\[(\d+:\d+:\d+:\d+)\]\s+(\S+)\s+(.{8}) (.{16}) (.{1,4})\s+(\S+)(?:\s+(\S+))?\s*$/;

export function parseLsscsi(text: string): LsscsiDevice[] {
  const out: LsscsiDevice[] = [];
  for (const line of text.split('\n')) {
    const m = LINE_RE.exec(line.replace(/\r$/, ''));
    if (!m) continue;
    const d: LsscsiDevice = {
      hctl: m[1]!,
      type: m[2]!,
      vendor: m[3]!.trim(),
      model: m[4]!.trim(),
      revision: m[5]!.trim(),
    };
    if (m[6] && m[6] !== '-') d.node = m[6];
    if (m[7] && m[7] !== '-') d.sg = m[7];
    out.push(d);
  }
  return out;
}
