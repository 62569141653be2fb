/**
 * Records the parts of a live sysroot that the probes read, for the block devices named, into
 * a fixture directory (as lsblk's test dumps do): each device's sysfs directory with its small
 * attribute files and `queue/` basics, every ancestor directory up to /sys/devices with its
 * attributes and `driver`/`subsystem` links (kept as dangling links: only their names matter),
 * the class and /sys/dev links, the udev database records and the /dev/disk/by-* links.
 *
 *   node --import tsx test/hardware/record-tree.ts DEST vda zram0 loop0
 *
 * Reads the live tree, writes only under DEST.
 */
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Attributes never recorded: binary blobs, triggers, or too revealing/large to be useful. */
const SKIP = new Set([
  'config',
  'rom',
  'remove',
  'rescan',
  'reset',
  'new_id',
  'remove_id',
  'bind',
  'unbind',
  'stat',
  'inflight',
  'trace',
  'events_poll_msecs',
]);
const QUEUE = [
  'rotational',
  'logical_block_size',
  'physical_block_size',
  'minimum_io_size',
  'optimal_io_size',
];

export function readSmall(p: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(p, 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(8192);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

export function copyLink(src: string, dst: string): void {
  mkdirSync(path.dirname(dst), { recursive: true });
  if (!existsSync(dst) && !isLink(dst)) symlinkSync(readlinkSync(src), dst);
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Copy one directory's attribute files and links (not its subdirectories). */
export function copyDir(root: string, rel: string, dest: string, opts: { links?: string[] } = {}): string[] {
  const src = path.join(root, rel);
  const out = path.join(dest, rel);
  mkdirSync(out, { recursive: true });
  const subdirs: string[] = [];
  for (const e of readdirSync(src, { withFileTypes: true })) {
    if (SKIP.has(e.name) || e.name.startsWith('resource')) continue;
    const s = path.join(src, e.name);
    if (e.isSymbolicLink()) {
      if (['driver', 'subsystem', 'device', ...(opts.links ?? [])].includes(e.name))
        copyLink(s, path.join(out, e.name));
    } else if (e.isDirectory()) subdirs.push(e.name);
    else if (e.isFile()) {
      const b = readSmall(s);
      if (b !== undefined) writeFileSync(path.join(out, e.name), b);
    }
  }
  return subdirs;
}

export function recordTree(root: string, dest: string, names: string[]): void {
  for (const name of names) {
    const classRel = `sys/block/${name}`;
    copyLink(path.join(root, classRel), path.join(dest, classRel));
    copyLink(path.join(root, 'sys/class/block', name), path.join(dest, 'sys/class/block', name));
    const real = path.relative(
      root,
      path.resolve(path.join(root, 'sys/block'), readlinkSync(path.join(root, classRel))),
    );
    const subdirs = copyDir(root, real, dest);
    const dev = readSmall(path.join(root, real, 'dev'))
      ?.toString()
      .trim();
    if (dev) {
      copyLink(path.join(root, 'sys/dev/block', dev), path.join(dest, 'sys/dev/block', dev));
      const udev = readSmall(path.join(root, 'run/udev/data', `b${dev}`));
      if (udev) {
        mkdirSync(path.join(dest, 'run/udev/data'), { recursive: true });
        writeFileSync(path.join(dest, 'run/udev/data', `b${dev}`), udev);
      }
    }
    for (const d of ['holders', 'slaves']) mkdirSync(path.join(dest, real, d), { recursive: true });
    if (subdirs.includes('queue')) {
      mkdirSync(path.join(dest, real, 'queue'), { recursive: true });
      for (const q of QUEUE) {
        const b = readSmall(path.join(root, real, 'queue', q));
        if (b) writeFileSync(path.join(dest, real, 'queue', q), b);
      }
    }
    for (const sd of subdirs) {
      if (sd.startsWith(name)) copyDir(root, `${real}/${sd}`, dest); // partitions
      if (sd === 'loop') copyDir(root, `${real}/loop`, dest);
    }
    // Ancestors up to sys/devices: the device, its bus device, the PCI functions.
    let up = path.dirname(path.dirname(real));
    while (up.startsWith('sys/devices/') && up !== 'sys/devices/virtual') {
      copyDir(root, up, dest);
      up = path.dirname(up);
    }
  }
  for (const d of ['disk/by-id', 'disk/by-path']) {
    const dir = path.join(root, 'dev', d);
    if (!existsSync(dir)) continue;
    for (const l of readdirSync(dir)) {
      const target = readlinkSync(path.join(dir, l));
      if (names.some((n) => target.endsWith(`/${n}`) || new RegExp(`/${n}p?\\d+$`).test(target))) {
        copyLink(path.join(dir, l), path.join(dest, 'dev', d, l));
      }
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [dest, ...names] = process.argv.slice(2);
  if (!dest || !names.length) {
    console.error('usage: record-tree.ts DEST NAME...');
    process.exit(2);
  }
  recordTree(process.env['SYSROOT'] ?? '/', dest, names);
}
