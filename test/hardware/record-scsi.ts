/**
 * Records the SCSI devices of a live sysroot (tape drives, medium changers, disks, a target's controller LUN) in
 * the layout the probes read (probes/tape.ts, probes/hba.ts), next to what record-tree.ts records for block
 * devices: each device's directory under /sys/devices with its attributes (VPD pages included), its class
 * children (scsi_tape, scsi_generic, scsi_changer, scsi_device) with their `dev` files, the /sys/bus/scsi,
 * /sys/class and /sys/dev/char links, every ancestor up to /sys/devices, the hosts' scsi_host class (and the
 * transport class the host is in), the udev database records of the char devices and /dev/tape/by-* links.
 *
 *   node dist/test/hardware/record-scsi.js DEST            # every SCSI device of /  (SYSROOT=… for another)
 *
 * Used by the kernel lab's recorder (scripts/lab/record-fixtures.sh). Reads the live tree, writes only under DEST.
 */
import { existsSync, mkdirSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyDir, copyLink, readSmall } from './record-tree.js';

const HCTL = /^\d+:\d+:\d+:\d+$/;
const CHILD_CLASSES = ['scsi_tape', 'scsi_generic', 'scsi_changer', 'scsi_device'];
const HOST_CLASSES = ['scsi_host', 'iscsi_host', 'sas_host', 'fc_host', 'spi_host'];

const real = (root: string, link: string): string =>
  path.relative(root, path.resolve(path.dirname(path.join(root, link)), readlinkSync(path.join(root, link))));

/** Record SCSI devices by H:C:T:L (all of /sys/bus/scsi/devices when `hctls` is omitted); returns the names of their char nodes. */
export function recordScsi(root: string, dest: string, hctls?: string[]): string[] {
  const bus = 'sys/bus/scsi/devices';
  const all = readdirSync(path.join(root, bus)).filter((n) => HCTL.test(n));
  const nodes: string[] = [];
  const hosts = new Set<string>();
  for (const h of hctls ?? all) {
    copyLink(path.join(root, bus, h), path.join(dest, bus, h));
    const dir = real(root, `${bus}/${h}`);
    const subdirs = copyDir(root, dir, dest);
    for (const cls of CHILD_CLASSES.filter((c) => subdirs.includes(c))) {
      for (const child of readdirSync(path.join(root, dir, cls))) {
        copyDir(root, `${dir}/${cls}/${child}`, dest);
        copyLink(path.join(root, 'sys/class', cls, child), path.join(dest, 'sys/class', cls, child));
        const dev = readSmall(path.join(root, dir, cls, child, 'dev'))
          ?.toString()
          .trim();
        if (!dev) continue;
        nodes.push(child);
        copyLink(path.join(root, 'sys/dev/char', dev), path.join(dest, 'sys/dev/char', dev));
        const udev = readSmall(path.join(root, 'run/udev/data', `c${dev}`));
        if (udev) {
          mkdirSync(path.join(dest, 'run/udev/data'), { recursive: true });
          writeFileSync(path.join(dest, 'run/udev/data', `c${dev}`), udev);
        }
      }
    }
    // ancestors: target, session/port, host, controller … up to sys/devices
    for (let up = path.dirname(dir); up.startsWith('sys/devices/'); up = path.dirname(up)) {
      copyDir(root, up, dest);
      const base = path.basename(up);
      if (/^host\d+$/.test(base)) hosts.add(`${up}|${base}`);
    }
  }
  for (const entry of hosts) {
    const [dir, host] = entry.split('|') as [string, string];
    for (const cls of HOST_CLASSES) {
      if (!existsSync(path.join(root, dir, cls, host))) continue;
      copyDir(root, `${dir}/${cls}`, dest);
      copyDir(root, `${dir}/${cls}/${host}`, dest);
      copyLink(path.join(root, 'sys/class', cls, host), path.join(dest, 'sys/class', cls, host));
    }
    copyLink(path.join(root, 'sys/bus/scsi/devices', host), path.join(dest, 'sys/bus/scsi/devices', host));
  }
  for (const d of ['tape/by-id', 'tape/by-path']) {
    const dir = path.join(root, 'dev', d);
    if (!existsSync(dir)) continue;
    for (const l of readdirSync(dir)) {
      if (nodes.includes(path.basename(readlinkSync(path.join(dir, l)))))
        copyLink(path.join(dir, l), path.join(dest, 'dev', d, l));
    }
  }
  return nodes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [dest, ...hctls] = process.argv.slice(2);
  if (!dest) {
    console.error('usage: record-scsi.ts DEST [H:C:T:L...]');
    process.exit(2);
  }
  recordScsi(process.env['SYSROOT'] ?? '/', dest, hctls.length ? hctls : undefined);
}
