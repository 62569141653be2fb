/**
 * Decode the catalog's File.LStat: Bacula's encode_stat() writes the stat fields as
 * space-separated numbers in its own base64 (most significant digit first, `-` for negatives),
 * in this order: dev ino mode nlink uid gid rdev size blksize blocks atime mtime ctime LinkFI
 * [flags [data_stream]] (bacula src/findlib/attribs.c, src/lib/base64.c).
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const MAP = new Map([...ALPHABET].map((c, i) => [c, i]));

export function fromBase64(s: string): number {
  let neg = false;
  let i = 0;
  if (s[0] === '-') {
    neg = true;
    i = 1;
  }
  let v = 0;
  for (; i < s.length; i++) {
    const d = MAP.get(s[i]!);
    if (d === undefined) throw new Error(`lstat: bad digit ${JSON.stringify(s[i])}`);
    v = v * 64 + d; // multiplication, not <<: values exceed 32 bits
  }
  return neg ? -v : v;
}

export interface LStat {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atime: number;
  mtime: number;
  ctime: number;
  /** FileIndex of the first copy of a hard-linked file (0 when not a link) */
  linkFi: number;
}

export function decodeLStat(lstat: string): LStat {
  const f = lstat.trim().split(/\s+/).map(fromBase64);
  if (f.length < 14) throw new Error(`lstat: ${f.length} fields, expected at least 14`);
  const [dev, ino, mode, nlink, uid, gid, rdev, size, blksize, blocks, atime, mtime, ctime, linkFi] = f as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { dev, ino, mode, nlink, uid, gid, rdev, size, blksize, blocks, atime, mtime, ctime, linkFi };
}

export type EntryType = 'file' | 'dir' | 'link' | 'fifo' | 'socket' | 'block' | 'char' | 'other';

/** File type from st_mode (S_IFMT bits). */
export function entryType(mode: number): EntryType {
  switch (mode & 0o170000) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'dir';
    case 0o120000:
      return 'link';
    case 0o010000:
      return 'fifo';
    case 0o140000:
      return 'socket';
    case 0o060000:
      return 'block';
    case 0o020000:
      return 'char';
    default:
      return 'other';
  }
}
