/**
 * Pure helpers over sysfs device paths (`sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/
 * target0:0:0/0:0:0:0/block/sda`): the SCSI address, the host, the PCI function an HBA sits
 * on and the transport, all read off the path the way lsblk's TRAN column does, so that no
 * extra file is read per disk.
 */
import type { Transport } from './types.js';

const PCI_RE = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;
const HCTL_RE = /^\d+:\d+:\d+:\d+$/;
const HOST_RE = /^host\d+$/;

export interface PathFacts {
  /** `H:C:T:L` when the device is a SCSI device. */
  hctl?: string;
  /** `hostN` of the SCSI host. */
  host?: string;
  /** Path (relative to the sysroot) of the SCSI device directory (`…/0:0:0:0`). */
  scsiDevice?: string;
  /** PCI function nearest above the host / controller. */
  pci?: string;
  /** NVMe controller name (`nvme0`). */
  nvmeCtrl?: string;
  virtual: boolean;
  /** Transport guessed from the path alone (SAS/iSCSI/FC hosts are refined by their host class). */
  transport?: Transport;
  /** The path runs through a virtio device. */
  virtio: boolean;
}

export function pathFacts(devpath: string): PathFacts {
  const parts = devpath.split('/');
  const facts: PathFacts = { virtual: devpath.startsWith('sys/devices/virtual/'), virtio: false };
  let pciAt = -1;
  let usb = false;
  let ata = false;
  let sas = false;
  let iscsi = false;
  let fc = false;
  let mmc = false;
  let xen = false;
  let nvme = false;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const c0 = p.charCodeAt(0);
    if (c0 >= 0x30 && c0 <= 0x39) {
      if (PCI_RE.test(p)) {
        if (!facts.host && !facts.nvmeCtrl) pciAt = i;
      } else if (HCTL_RE.test(p)) {
        facts.hctl = p;
        facts.scsiDevice = parts.slice(0, i + 1).join('/');
      }
      continue;
    }
    if (HOST_RE.test(p)) {
      if (!facts.host) facts.host = p;
    } else if (p.startsWith('usb')) usb = true;
    else if (/^ata\d+$/.test(p)) ata = true;
    else if (p.startsWith('end_device-') || p.startsWith('expander-')) sas = true;
    else if (/^session\d+$/.test(p)) iscsi = true;
    else if (p.startsWith('rport-')) fc = true;
    else if (/^mmc\d+$/.test(p)) mmc = true;
    else if (p.startsWith('vbd-')) xen = true;
    else if (/^virtio\d+$/.test(p)) facts.virtio = true;
    else if (p === 'nvme' || p === 'nvme-subsystem' || p === 'nvme-fabrics') nvme = true;
    else if (nvme && !facts.nvmeCtrl && /^nvme\d+$/.test(p)) facts.nvmeCtrl = p;
  }
  if (pciAt >= 0) facts.pci = parts[pciAt];
  if (nvme) facts.transport = 'nvme';
  else if (usb) facts.transport = 'usb';
  else if (ata) facts.transport = 'sata';
  else if (sas) facts.transport = 'sas';
  else if (iscsi) facts.transport = 'iscsi';
  else if (fc) facts.transport = 'fc';
  else if (mmc) facts.transport = 'mmc';
  else if (xen) facts.transport = 'xen';
  else if (facts.virtio) facts.transport = 'virtio';
  else if (facts.host) facts.transport = 'scsi';
  return facts;
}

/** Normalise a WWN to udev's form: `naa.5000C500…`/`0x5000c500…` → `0x5000c500…`; EUI/NGUID kept. */
export function normaliseWwn(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const s = raw.trim();
  if (s === '') return undefined;
  const naa = /^(?:naa\.|0x)?([0-9a-fA-F]{16}|[0-9a-fA-F]{32})$/.exec(s);
  if (naa) return `0x${naa[1]!.toLowerCase()}`;
  const eui = /^(eui|nguid|uuid)\.([0-9a-fA-F-]+)$/.exec(s);
  if (eui) return `${eui[1]}.${eui[2]!.toLowerCase()}`;
  return undefined;
}

/** `sd` name for disk index i, as the kernel's sd_format_disk_name does (0 → sda, 26 → sdaa). */
export function sdName(i: number): string {
  let s = '';
  let n = i;
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return `sd${s}`;
}
