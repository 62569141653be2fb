/**
 * The one reader of a sysroot (a directory holding `sys/`, `run/udev/data/`, `dev/disk/by-*`).
 *
 * Every probe reads through a `SysReader`, so the same code runs on `/` and on recorded trees
 * (DESIGN.md principle 5). Paths given to it are relative to the sysroot (`sys/block/sda/size`).
 * Reads never throw: an absent file is `undefined` silently (sysfs attributes come and go by
 * driver and kernel version), any other failure (EACCES, EIO, a directory where a file was
 * expected, bytes that do not parse) is `undefined` plus a warning, so a bad tree gives a
 * partial inventory instead of a crash.
 *
 * Speed matters (1,024 disks in ≤150 ms): attributes are read with open/read/close into one
 * shared buffer (readFileSync adds an fstat and an allocation per file), and callers list a
 * directory once and read only the names it holds, so a missing attribute costs no exception.
 */
import { closeSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import path from 'node:path';

export interface ProbeWarning {
  /** Kernel name of the device the warning is about, when there is one (display only). */
  device?: string;
  /** Path relative to the sysroot. */
  path?: string;
  message: string;
}

/** What every probe returns: what it could read, and why anything is missing. */
export interface ProbeResult<T> {
  items: T[];
  warnings: ProbeWarning[];
}

/** Largest attribute we read. sysfs attributes are at most one page; VPD pages can be larger. */
const MAX_ATTR = 65536;

export class SysReader {
  readonly root: string;
  readonly warnings: ProbeWarning[] = [];
  private readonly buf = Buffer.allocUnsafe(MAX_ATTR);

  constructor(sysroot: string) {
    this.root = path.resolve(sysroot);
  }

  abs(rel: string): string {
    return this.root === '/' ? `/${rel}` : `${this.root}/${rel}`;
  }

  warn(message: string, rel?: string, device?: string): void {
    const w: ProbeWarning = { message };
    if (device !== undefined) w.device = device;
    if (rel !== undefined) w.path = rel;
    this.warnings.push(w);
  }

  /** Read an attribute into the shared buffer; the byte count, or undefined (warned unless absent). */
  private fill(rel: string, device?: string): number | undefined {
    let fd: number;
    try {
      fd = openSync(this.abs(rel), 'r');
    } catch (err) {
      this.failed(err, rel, device);
      return undefined;
    }
    try {
      let n = 0;
      // sysfs hands out an attribute in one read; regular files (recorded trees) may need more.
      for (;;) {
        const got = readSync(fd, this.buf, n, MAX_ATTR - n, n);
        if (got <= 0 || n + got >= MAX_ATTR) return n + got;
        n += got;
      }
    } catch (err) {
      this.failed(err, rel, device);
      return undefined;
    } finally {
      closeSync(fd);
    }
  }

  /** Raw bytes of an attribute (binary VPD pages). */
  bytes(rel: string, device?: string): Buffer | undefined {
    const n = this.fill(rel, device);
    return n === undefined ? undefined : Buffer.from(this.buf.subarray(0, n));
  }

  /**
   * An attribute as text, trailing newline removed. Bytes are decoded as latin1 so that odd
   * bytes survive one to one; `cleanText` decides what to show.
   */
  text(rel: string, device?: string): string | undefined {
    let end = this.fill(rel, device);
    if (end === undefined) return undefined;
    const b = this.buf;
    while (end > 0 && (b[end - 1] === 0x0a || b[end - 1] === 0x00)) end--;
    return b.toString('latin1', 0, end);
  }

  /** A decimal integer attribute; garbage (a truncated write, a recorded tree cut short) warns. */
  int(rel: string, device?: string): number | undefined {
    const t = this.text(rel, device);
    if (t === undefined) return undefined;
    const s = t.trim();
    if (!/^-?\d+$/.test(s)) {
      this.warn(`not a number: ${JSON.stringify(s.slice(0, 40))}`, rel, device);
      return undefined;
    }
    return Number(s);
  }

  /** `0`/`1` attribute as a boolean. */
  flag(rel: string, device?: string): boolean | undefined {
    const n = this.int(rel, device);
    return n === undefined ? undefined : n !== 0;
  }

  /** Names in a directory, or undefined when it does not exist. */
  list(rel: string, device?: string): string[] | undefined {
    try {
      return readdirSync(this.abs(rel));
    } catch (err) {
      this.failed(err, rel, device);
      return undefined;
    }
  }

  /** Raw target of a symlink, or undefined. */
  link(rel: string, device?: string): string | undefined {
    try {
      return readlinkSync(this.abs(rel));
    } catch (err) {
      this.failed(err, rel, device);
      return undefined;
    }
  }

  /**
   * Where a symlink points, as a normalised path relative to the sysroot
   * (`sys/block/sda` → `sys/devices/pci0000:00/.../block/sda`). Absolute targets are taken as
   * rooted at the sysroot, as the kernel and udev write them for the machine they ran on.
   */
  resolveLink(rel: string, device?: string): string | undefined {
    const target = this.link(rel, device);
    if (target === undefined) return undefined;
    const joined = target.startsWith('/') ? target.slice(1) : `${path.posix.dirname(rel)}/${target}`;
    const norm = path.posix.normalize(joined);
    if (norm.startsWith('..')) {
      this.warn(`link escapes the sysroot: ${target}`, rel, device);
      return undefined;
    }
    return norm;
  }

  private failed(err: unknown, rel: string, device?: string): void {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    this.warn(`unreadable (${code ?? String(err)})`, rel, device);
  }
}

/**
 * Text from hardware as it should be shown: SCSI INQUIRY fields are space-padded to a fixed
 * width (SPC-4 §6.4.2: vendor 8, product 16, revision 4 bytes of printable ASCII), ATA strings
 * are padded too, and broken firmware or a truncated record leaves NULs and bytes outside
 * 0x20–0x7e. Padding is trimmed; other odd bytes are replaced by U+FFFD and reported through
 * `odd` so the probe can warn. Empty results are `undefined` (absent, not "").
 */
export function cleanText(raw: string | undefined): { value: string | undefined; odd: boolean } {
  if (raw === undefined) return { value: undefined, odd: false };
  let odd = false;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) out += raw[i];
    else if (c === 0x09 || c === 0x00) out += ' ';
    else {
      odd = true;
      out += '\uFFFD';
    }
  }
  const value = out.trim();
  return { value: value === '' ? undefined : value, odd };
}

/** Decode udev's `\xNN` escapes (ID_MODEL_ENC, ID_VENDOR_ENC, ID_FS_LABEL_ENC). */
export function unescapeUdev(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}
