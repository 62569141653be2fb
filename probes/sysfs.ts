/**
 * The one reader of a sysroot (a directory holding `sys/`, `run/udev/data/`, `dev/disk/by-*`).
 *
 * Every probe reads through a `SysReader`, so the same code runs on `/` and on recorded trees
 * (docs/design.md principle 5). Paths given to it are relative to the sysroot (`sys/block/sda/size`).
 * Reads never throw: an absent file is `undefined` silently (sysfs attributes come and go by
 * driver and kernel version), any other failure (EACCES, EIO, a directory where a file was
 * expected, bytes that do not parse) is `undefined` plus a warning, so a bad tree gives a
 * partial inventory instead of a crash.
 *
 * Speed matters (1,024 disks in ≤150 ms): attributes are read with open/read/close into one
 * shared buffer (readFileSync adds an fstat and an allocation per file), and callers list a
 * directory once and read only the names it holds, so a missing attribute costs no exception.
 * A probe of many devices first `prefetch`es what it will read, in batches made by the native
 * batch reader (probes/native.ts); reads of prefetched paths are then answered from memory,
 * with the same results and warnings as a direct read.
 */
import { closeSync, openSync, readdirSync, readlinkSync, readSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { BATCH_LINK, BATCH_LIST, BATCH_READ, batchFlags, loadSysread } from './native.js';

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

/** errno number → code (ENOENT), for batch results that carry a negative errno. */
const ERRNO_CODE = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v, k]));

type Prefetched<T> = Map<string, T | number>;

export class SysReader {
  readonly root: string;
  readonly warnings: ProbeWarning[] = [];
  /** Read buffer, allocated on the first direct read (a read-ahead probe may make none). */
  private buffer: Buffer | undefined;
  private get buf(): Buffer {
    this.buffer ??= Buffer.allocUnsafe(MAX_ATTR);
    return this.buffer;
  }
  /** Prefetched files: directory → name ('' for a whole path) → text or negative errno. */
  private readonly files = new Map<string, Map<string, string | number>>();
  private readonly lists: Prefetched<string[]> = new Map();
  private readonly links: Prefetched<string> = new Map();
  private readonly resolved = new Map<string, string>();
  /** Reads, listings and readlinks made one by one (not answered from a prefetch). */
  direct = 0;

  constructor(sysroot: string) {
    this.root = path.resolve(sysroot);
  }

  /**
   * Read these files (`read`), directories (`list`) or symlinks (`link`), paths relative to the
   * sysroot, in one batch through the native reader; later reads of them are answered from
   * memory. With `names`, file i is `paths[i]/names[i]`, read back with `attr(dir, name)`.
   * False (nothing done) when the native reader is not available.
   */
  prefetch(kind: 'read' | 'list' | 'link', paths: string[], names?: string[]): boolean {
    const native = loadSysread();
    if (!native || paths.length === 0) return !!native;
    const code = kind === 'read' ? BATCH_READ : kind === 'list' ? BATCH_LIST : BATCH_LINK;
    const out = native.batch(
      code,
      this.root,
      paths,
      kind === 'read' ? (names ?? null) : null,
      MAX_ATTR,
      batchFlags(),
    );
    if (kind === 'read') {
      let dir: string | undefined;
      let m: Map<string, string | number> | undefined;
      for (let i = 0; i < paths.length; i++) {
        const d = paths[i]!;
        if (d !== dir) {
          dir = d;
          m = this.files.get(d);
          if (!m) {
            m = new Map();
            this.files.set(d, m);
          }
        }
        m!.set(names?.[i] ?? '', out[i] as string | number);
      }
    } else {
      const into = (kind === 'list' ? this.lists : this.links) as Prefetched<string | string[]>;
      for (let i = 0; i < paths.length; i++) into.set(paths[i]!, out[i]!);
    }
    return true;
  }

  /** Drop what was prefetched. */
  forget(): void {
    this.files.clear();
    this.lists.clear();
    this.links.clear();
    this.resolved.clear();
  }

  /** A prefetched listing, file or link target, without warnings (undefined if absent or not prefetched). */
  peekList(rel: string): string[] | undefined {
    const v = this.lists.get(rel);
    return typeof v === 'number' ? undefined : v;
  }

  peekAttr(dir: string, name: string): string | undefined {
    const v = this.files.get(dir)?.get(name);
    return typeof v === 'number' ? undefined : v;
  }

  peekLink(rel: string): string | undefined {
    const v = this.links.get(rel);
    return typeof v === 'number' ? undefined : v;
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
    this.direct++;
    let fd: number;
    try {
      fd = openSync(this.abs(rel), 'r');
    } catch (err) {
      this.failed(err, rel, device);
      return undefined;
    }
    try {
      let n = 0;
      // sysfs hands out an attribute in one read, and a regular file (a recorded tree) gives
      // all it has up to the count asked: a short read is the end. Reading on until a read
      // returns 0 cost one more system call per attribute, a fifth of a full probe.
      for (;;) {
        const want = MAX_ATTR - n;
        const got = readSync(fd, this.buf, n, want, n);
        if (got <= 0) return n;
        n += got;
        if (got < want || n >= MAX_ATTR) return n;
      }
    } catch (err) {
      this.failed(err, rel, device);
      return undefined;
    } finally {
      closeSync(fd);
    }
  }

  /** A prefetched file: its text, undefined after warning as a direct read would, null if not prefetched. */
  private cached(dir: string, name: string, device: string | undefined): string | undefined | null {
    const v = this.files.get(dir)?.get(name);
    if (v === undefined) return null;
    if (typeof v === 'number') {
      this.failedErrno(v, name ? `${dir}/${name}` : dir, device);
      return undefined;
    }
    return v;
  }

  /** Raw bytes of an attribute (binary VPD pages). */
  bytes(rel: string, device?: string): Buffer | undefined {
    const c = this.cached(rel, '', device);
    if (c !== null) return c === undefined ? undefined : Buffer.from(c, 'latin1');
    const n = this.fill(rel, device);
    return n === undefined ? undefined : Buffer.from(this.buf.subarray(0, n));
  }

  /**
   * An attribute as text, trailing newline removed. Bytes are decoded as latin1 so that odd
   * bytes survive one to one; `cleanText` decides what to show.
   */
  text(rel: string, device?: string): string | undefined {
    const c = this.cached(rel, '', device);
    if (c !== null) return c === undefined ? undefined : chomp(c);
    let end = this.fill(rel, device);
    if (end === undefined) return undefined;
    const b = this.buf;
    while (end > 0 && (b[end - 1] === 0x0a || b[end - 1] === 0x00)) end--;
    return b.toString('latin1', 0, end);
  }

  /** `text(`${dir}/${name}`)`, answered without building the path when it was prefetched. */
  attr(dir: string, name: string, device?: string): string | undefined {
    const c = this.cached(dir, name, device);
    if (c !== null) return c === undefined ? undefined : chomp(c);
    return this.text(`${dir}/${name}`, device);
  }

  /** A decimal integer attribute; garbage (a truncated write, a recorded tree cut short) warns. */
  int(rel: string, device?: string): number | undefined {
    return this.toInt(this.text(rel, device), rel, undefined, device);
  }

  attrInt(dir: string, name: string, device?: string): number | undefined {
    return this.toInt(this.attr(dir, name, device), dir, name, device);
  }

  /** `0`/`1` attribute as a boolean. */
  flag(rel: string, device?: string): boolean | undefined {
    const n = this.int(rel, device);
    return n === undefined ? undefined : n !== 0;
  }

  attrFlag(dir: string, name: string, device?: string): boolean | undefined {
    const n = this.attrInt(dir, name, device);
    return n === undefined ? undefined : n !== 0;
  }

  private toInt(
    t: string | undefined,
    dir: string,
    name: string | undefined,
    device?: string,
  ): number | undefined {
    if (t === undefined) return undefined;
    const n = decimal(t);
    if (n === undefined) {
      const rel = name === undefined ? dir : `${dir}/${name}`;
      this.warn(`not a number: ${JSON.stringify(t.trim().slice(0, 40))}`, rel, device);
      return undefined;
    }
    return n;
  }

  /** Whether a directory exists (without listing it). */
  isDir(rel: string): boolean {
    this.direct++;
    try {
      return statSync(this.abs(rel), { throwIfNoEntry: false })?.isDirectory() ?? false;
    } catch {
      return false;
    }
  }

  /** Names in a directory, or undefined when it does not exist. */
  list(rel: string, device?: string): string[] | undefined {
    return this.fromCache(this.lists, rel, device, (p) => readdirSync(p));
  }

  /** Raw target of a symlink, or undefined. */
  link(rel: string, device?: string): string | undefined {
    return this.fromCache(this.links, rel, device, (p) => readlinkSync(p));
  }

  /** What was prefetched for `rel`, else a direct read; failures warn alike. */
  private fromCache<T>(
    cache: Prefetched<T>,
    rel: string,
    device: string | undefined,
    read: (abs: string) => T,
  ): T | undefined {
    const v = cache.get(rel);
    if (v !== undefined) {
      if (typeof v !== 'number') return v;
      this.failedErrno(v, rel, device);
      return undefined;
    }
    this.direct++;
    try {
      return read(this.abs(rel));
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
    const known = this.resolved.get(rel);
    if (known !== undefined) return known;
    const target = this.link(rel, device);
    if (target === undefined) return undefined;
    const norm = linkTarget(rel, target);
    if (norm === undefined) this.warn(`link escapes the sysroot: ${target}`, rel, device);
    return norm;
  }

  /** resolveLink of a prefetched link, without warnings (remembered for resolveLink). */
  peekResolved(rel: string): string | undefined {
    const target = this.peekLink(rel);
    const norm = target === undefined ? undefined : linkTarget(rel, target);
    if (norm !== undefined) this.resolved.set(rel, norm);
    return norm;
  }

  private failed(err: unknown, rel: string, device?: string): void {
    this.failedCode((err as NodeJS.ErrnoException).code ?? String(err), rel, device);
  }

  /** A batch result's negative errno, warned as the same failure of a direct read would be. */
  private failedErrno(negErrno: number, rel: string, device?: string): void {
    this.failedCode(ERRNO_CODE.get(-negErrno) ?? `errno ${-negErrno}`, rel, device);
  }

  private failedCode(code: string, rel: string, device?: string): void {
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    this.warn(`unreadable (${code})`, rel, device);
  }
}

/** Text without its trailing newlines and NULs. */
function chomp(c: string): string {
  let e = c.length;
  while (e > 0 && (c.charCodeAt(e - 1) === 0x0a || c.charCodeAt(e - 1) === 0x00)) e--;
  return e === c.length ? c : c.slice(0, e);
}

/**
 * A decimal integer with optional sign and surrounding white space (`4096\n`), or undefined.
 * By hand rather than trim + regex + Number: it runs for most attributes of every disk.
 */
function decimal(t: string): number | undefined {
  let i = 0;
  let end = t.length;
  while (i < end && isSpace(t.charCodeAt(i))) i++;
  while (end > i && isSpace(t.charCodeAt(end - 1))) end--;
  let neg = false;
  if (i < end && t.charCodeAt(i) === 0x2d) {
    neg = true;
    i++;
  }
  if (i === end) return undefined;
  let n = 0;
  for (let k = i; k < end; k++) {
    const c = t.charCodeAt(k) - 0x30;
    if (c < 0 || c > 9) return undefined;
    n = n * 10 + c;
  }
  // beyond 2^53 the running product rounds differently from Number(): leave it to Number
  if (n > Number.MAX_SAFE_INTEGER) n = Number(t.slice(i, end));
  return neg ? -n : n;
}

const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0xfeff;

/** A link's target as a normalised path relative to the sysroot; undefined if it leaves it. */
function linkTarget(rel: string, target: string): string | undefined {
  const joined = target.startsWith('/') ? target.slice(1) : `${path.posix.dirname(rel)}/${target}`;
  const norm = path.posix.normalize(joined);
  return norm.startsWith('..') ? undefined : norm;
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
