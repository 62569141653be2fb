/**
 * Pure, streaming parser of `udevadm monitor --udev --property` (and `--kernel`) output:
 *
 *   UDEV  [2417.843265] add      /devices/…/block/sdb (block)
 *   ACTION=add
 *   DEVPATH=/devices/…/block/sdb
 *   SUBSYSTEM=block
 *   …
 *   <blank line>
 *
 * Text arrives in arbitrary chunks from a pipe; `push` keeps the partial last line. An event
 * ends at a blank line or at the next header. Header-only events (without --property) are
 * reported with the header's fields.
 */
export interface UdevEvent {
  source: 'udev' | 'kernel';
  /** Seconds since boot, from the header. */
  time: number;
  action: string;
  /** sysfs device path (`/devices/…`). */
  devpath: string;
  subsystem: string;
  props: Record<string, string>;
}

const HEADER_RE = /^(UDEV|KERNEL)\s*\[\s*([\d.]+)\]\s+(\S+)\s+(\S+)\s+\(([^)]*)\)\s*$/;

export class MonitorParser {
  private partial = '';
  private current: UdevEvent | undefined;
  /** Lines that were neither a header, a property nor blank (banner lines are not counted). */
  bad = 0;

  push(chunk: string): UdevEvent[] {
    const out: UdevEvent[] = [];
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line.replace(/\r$/, ''), out);
    return out;
  }

  /** Flush at end of stream. */
  end(): UdevEvent[] {
    const out: UdevEvent[] = [];
    if (this.partial) this.line(this.partial, out);
    this.partial = '';
    this.flush(out);
    return out;
  }

  private line(line: string, out: UdevEvent[]): void {
    if (line.trim() === '') {
      this.flush(out);
      return;
    }
    const h = HEADER_RE.exec(line);
    if (h) {
      this.flush(out);
      this.current = {
        source: h[1] === 'UDEV' ? 'udev' : 'kernel',
        time: Number(h[2]),
        action: h[3]!,
        devpath: h[4]!,
        subsystem: h[5]!,
        props: {},
      };
      return;
    }
    const eq = line.indexOf('=');
    if (this.current && eq > 0) {
      this.current.props[line.slice(0, eq)] = line.slice(eq + 1);
      return;
    }
    // udevadm's banner ("monitor will print the received events for:", "UDEV - the event …").
    if (!this.current && /^(monitor will print|UDEV - |KERNEL - )/.test(line)) return;
    this.bad++;
  }

  private flush(out: UdevEvent[]): void {
    const e = this.current;
    if (!e) return;
    this.current = undefined;
    // Properties are authoritative where present (the header is truncated for long paths).
    if (e.props['ACTION']) e.action = e.props['ACTION'];
    if (e.props['DEVPATH']) e.devpath = e.props['DEVPATH'];
    if (e.props['SUBSYSTEM']) e.subsystem = e.props['SUBSYSTEM'];
    out.push(e);
  }
}

/** Parse a whole recorded text at once. */
export function parseMonitorText(text: string): UdevEvent[] {
  const p = new MonitorParser();
  return [...p.push(text), ...p.end()];
}
