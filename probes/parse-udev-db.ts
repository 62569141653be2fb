/**
 * Pure parser of one udev database record (`/run/udev/data/b8:0`, `c21:4`, `+scsi:0:0:0:0`).
 *
 * The format is systemd's (src/libsystemd/sd-device/device-private.c, `device_read_db`): one
 * `X:value` per line, where S is a /dev symlink relative to /dev, E an `ID=value` property,
 * G/Q tags, I the initialisation time (µs), W the watch handle, L the link priority, V the
 * version. Unknown keys are ignored; a line without `:` is counted as damage.
 */
export interface UdevRecord {
  /** Symlinks relative to /dev (`disk/by-id/wwn-0x…`). */
  links: string[];
  props: Record<string, string>;
  tags: string[];
  /** Lines that did not parse (a truncated or corrupted record). */
  bad: number;
}

export function parseUdevDb(text: string): UdevRecord {
  const rec: UdevRecord = { links: [], props: {}, tags: [], bad: 0 };
  let start = 0;
  const n = text.length;
  while (start < n) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    if (end > start) {
      const line = text.slice(start, end);
      if (line.length < 2 || line[1] !== ':') rec.bad++;
      else {
        const v = line.slice(2);
        switch (line[0]) {
          case 'S':
            rec.links.push(v);
            break;
          case 'E': {
            const eq = v.indexOf('=');
            if (eq > 0) rec.props[v.slice(0, eq)] = v.slice(eq + 1);
            else rec.bad++;
            break;
          }
          case 'G':
            rec.tags.push(v);
            break;
          default:
            break;
        }
      }
    }
    start = end + 1;
  }
  return rec;
}
