/**
 * Writes sysroot trees in the kernel's layout (sysfs device paths, class and /sys/dev links,
 * udev database records, /dev/disk/by-* links), for the constructed fixtures and the synthetic
 * scale trees. The layouts follow the kernel's drivers (libata, scsi_transport_sas, nvme core,
 * virtio_blk, usb-storage, iscsi_tcp, st, ch, sg, ses) as lsblk's recorded dumps show them.
 * Writes only under the root it is given.
 */
import { lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface UdevSpec {
  props?: Record<string, string>;
  /** Symlinks relative to /dev (`disk/by-id/…`), also created under dev/. */
  links?: string[];
}

export interface ScsiDeviceSpec {
  type: number;
  vendor?: string;
  model?: string;
  rev?: string;
  state?: string;
  /** Kernel `wwid` attribute text (`naa.5000…`). */
  wwid?: string;
  sasAddress?: string;
  /** Serial to expose as a VPD page 0x80. */
  vpd80?: string;
  /** NAA (hex) to expose as a VPD page 0x83 LU designator. */
  vpd83Naa?: string;
}

export interface PartSpec {
  number: number;
  /** 512-byte sectors. */
  start: number;
  size: number;
  devno: string;
  udev?: UdevSpec;
}

export interface BlockSpec {
  devno: string;
  /** 512-byte sectors. */
  sectors: number;
  ro?: boolean;
  removable?: boolean;
  rotational?: boolean;
  logical?: number;
  physical?: number;
  /** Extra attributes of the block directory (`serial`, `wwid`, `hidden`). */
  attrs?: Record<string, string>;
  udev?: UdevSpec;
  parts?: PartSpec[];
  /** Name prefix of partitions: `p` for nvme0n1p1. */
  partSep?: string;
}

export const SECTOR = 512;

function lexists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** SCSI INQUIRY field as the kernel shows it: space-padded to its width (SPC-4 §6.4.2). */
export const pad = (s: string, n: number) => s.padEnd(n, ' ');

export class TreeBuilder {
  constructor(readonly root: string) {}

  file(rel: string, content: string | Buffer): void {
    const p = path.join(this.root, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, content);
  }

  attrs(dir: string, a: Record<string, string | number | undefined>): void {
    for (const [k, v] of Object.entries(a)) if (v !== undefined) this.file(`${dir}/${k}`, `${v}\n`);
  }

  /** Symlink at `rel` pointing at `targetRel` (both relative to the root), written relative. */
  link(rel: string, targetRel: string): void {
    const p = path.join(this.root, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    symlinkSync(path.relative(path.dirname(p), path.join(this.root, targetRel)), p);
  }

  /** A link whose target is written verbatim (may dangle: `driver` links into an absent /sys/bus). */
  rawLink(rel: string, target: string): void {
    const p = path.join(this.root, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    symlinkSync(target, p);
  }

  /** A PCI function; returns its device directory. */
  pci(
    parent: string,
    addr: string,
    ids: {
      vendor: string;
      device: string;
      subVendor?: string;
      subDevice?: string;
      driver?: string;
      cls?: string;
    },
  ): string {
    const dir = `${parent}/${addr}`;
    this.attrs(dir, {
      vendor: `0x${ids.vendor}`,
      device: `0x${ids.device}`,
      subsystem_vendor: `0x${ids.subVendor ?? ids.vendor}`,
      subsystem_device: `0x${ids.subDevice ?? '0000'}`,
      class: ids.cls ?? '0x010700',
      uevent: `DRIVER=${ids.driver ?? ''}\nPCI_SLOT_NAME=${addr}`,
    });
    if (ids.driver) this.link(`${dir}/driver`, `sys/bus/pci/drivers/${ids.driver}`);
    this.link(`sys/bus/pci/devices/${addr}`, dir);
    return dir;
  }

  scsiHost(parent: string, n: number, procName: string, transportClass?: string): string {
    const dir = `${parent}/host${n}`;
    this.attrs(`${dir}/scsi_host/host${n}`, { proc_name: procName, unique_id: n + 1 });
    this.link(`sys/class/scsi_host/host${n}`, `${dir}/scsi_host/host${n}`);
    if (transportClass) {
      this.file(`${dir}/${transportClass}/host${n}/uevent`, '');
      this.link(`sys/class/${transportClass}/host${n}`, `${dir}/${transportClass}/host${n}`);
    }
    this.link(`sys/bus/scsi/devices/host${n}`, dir);
    return dir;
  }

  /** A SCSI device under `parent` (a host, end device or rport); creates the target directory. */
  scsiDevice(parent: string, hctl: string, s: ScsiDeviceSpec): string {
    const [h, c, t] = hctl.split(':');
    const dir = `${parent}/target${h}:${c}:${t}/${hctl}`;
    this.attrs(dir, {
      type: s.type,
      vendor: s.vendor,
      model: s.model,
      rev: s.rev,
      state: s.state ?? 'running',
      scsi_level: 7,
      wwid: s.wwid,
      sas_address: s.sasAddress,
      uevent: `DEVTYPE=scsi_device\nDRIVER=${{ 0: 'sd', 1: 'st', 5: 'sr', 8: 'ch', 13: 'ses' }[s.type] ?? ''}`,
    });
    if (s.vpd80 !== undefined) {
      const b = Buffer.alloc(4 + s.vpd80.length);
      b[0] = s.type;
      b[1] = 0x80;
      b.writeUInt16BE(s.vpd80.length, 2);
      b.write(s.vpd80, 4, 'latin1');
      this.file(`${dir}/vpd_pg80`, b);
    }
    if (s.vpd83Naa !== undefined) {
      const naa = Buffer.from(s.vpd83Naa, 'hex');
      const b = Buffer.alloc(8 + naa.length);
      b[0] = s.type;
      b[1] = 0x83;
      b.writeUInt16BE(4 + naa.length, 2);
      b[4] = 0x01; // binary code set
      b[5] = 0x03; // association: logical unit; designator type: NAA
      b[7] = naa.length;
      naa.copy(b, 8);
      this.file(`${dir}/vpd_pg83`, b);
    }
    this.link(`sys/bus/scsi/devices/${hctl}`, dir);
    this.link(`sys/class/scsi_device/${hctl}`, `${dir}/scsi_device/${hctl}`);
    this.file(`${dir}/scsi_device/${hctl}/uevent`, '');
    return dir;
  }

  /** A char device node of a class (`scsi_generic/sg3`, `scsi_tape/nst0`) under a device directory. */
  charNode(devDir: string, cls: string, name: string, devno: string, udev?: UdevSpec): void {
    const dir = `${devDir}/${cls}/${name}`;
    this.attrs(dir, {
      dev: devno,
      uevent: `MAJOR=${devno.split(':')[0]}\nMINOR=${devno.split(':')[1]}\nDEVNAME=${name}`,
    });
    this.link(`${dir}/device`, devDir);
    this.link(`sys/class/${cls}/${name}`, dir);
    this.link(`sys/dev/char/${devno}`, dir);
    if (udev) this.udev(`c${devno}`, udev, name);
  }

  /** A block device `name` under device directory `devDir` (or a virtual one when devDir is undefined). */
  block(devDir: string | undefined, name: string, b: BlockSpec): string {
    const dir = devDir ? `${devDir}/block/${name}` : `sys/devices/virtual/block/${name}`;
    const [maj, min] = b.devno.split(':');
    this.attrs(dir, {
      dev: b.devno,
      size: b.sectors,
      ro: b.ro ? 1 : 0,
      removable: b.removable ? 1 : 0,
      hidden: 0,
      uevent: `MAJOR=${maj}\nMINOR=${min}\nDEVNAME=${name}\nDEVTYPE=disk`,
      ...b.attrs,
    });
    this.attrs(`${dir}/queue`, {
      rotational: b.rotational ? 1 : 0,
      logical_block_size: b.logical ?? 512,
      physical_block_size: b.physical ?? b.logical ?? 512,
    });
    if (devDir) this.link(`${dir}/device`, devDir);
    this.link(`sys/block/${name}`, dir);
    this.link(`sys/class/block/${name}`, dir);
    this.link(`sys/dev/block/${b.devno}`, dir);
    if (b.udev) this.udev(`b${b.devno}`, b.udev, name);
    for (const p of b.parts ?? []) {
      const pn = `${name}${b.partSep ?? ''}${p.number}`;
      const pdir = `${dir}/${pn}`;
      const [pmaj, pmin] = p.devno.split(':');
      this.attrs(pdir, {
        dev: p.devno,
        partition: p.number,
        start: p.start,
        size: p.size,
        ro: 0,
        uevent: `MAJOR=${pmaj}\nMINOR=${pmin}\nDEVNAME=${pn}\nDEVTYPE=partition\nPARTN=${p.number}`,
      });
      this.link(`sys/class/block/${pn}`, pdir);
      this.link(`sys/dev/block/${p.devno}`, pdir);
      if (p.udev) this.udev(`b${p.devno}`, p.udev, pn);
    }
    return dir;
  }

  /** A udev database record plus the /dev links it names. */
  udev(key: string, u: UdevSpec, kname: string): void {
    const lines: string[] = [];
    for (const l of u.links ?? []) lines.push(`S:${l}`);
    lines.push('I:1700000000000000', 'L:0', 'V:1');
    for (const [k, v] of Object.entries(u.props ?? {})) lines.push(`E:${k}=${v}`);
    lines.push('G:systemd', 'Q:systemd');
    this.file(`run/udev/data/${key}`, `${lines.join('\n')}\n`);
    for (const l of u.links ?? []) {
      // A link two devices claim (both paths of a dual-ported disk) goes to the first, as
      // udev's link priority leaves it.
      if (lexists(path.join(this.root, 'dev', l))) continue;
      const depth = l.split('/').length - 1;
      this.rawLink(`dev/${l}`, `${'../'.repeat(depth)}${kname}`);
    }
  }

  /** An enclosure (ses) on SCSI device `sesDir`, named after its H:C:T:L. */
  enclosure(
    sesDir: string,
    hctl: string,
    id: string,
    slots: { name: string; slot: number; status: string; device?: string; fault?: 0 | 1; locate?: 0 | 1 }[],
  ): string {
    const dir = `${sesDir}/enclosure/${hctl}`;
    this.attrs(dir, { id, components: slots.length, uevent: '' });
    this.link(`sys/class/enclosure/${hctl}`, dir);
    for (const s of slots) {
      const sd = `${dir}/${s.name}`;
      this.attrs(sd, {
        slot: s.slot,
        type: 'array device',
        status: s.status,
        fault: s.fault ?? 0,
        locate: s.locate ?? 0,
        active: s.device ? 1 : 0,
      });
      if (s.device) {
        this.link(`${sd}/device`, s.device);
        this.link(`${s.device}/enclosure_device:${s.name}`, sd);
      }
    }
    return dir;
  }
}
