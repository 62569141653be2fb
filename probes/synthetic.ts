/**
 * Synthetic sysroot trees with N disks, for scale tests and the benchmark: one SAS HBA
 * (mpt3sas) with an expander and N SAS disks, each with a GPT label of two partitions (the
 * layout `zpool create` leaves) and a full udev record, so the probe does the work it does on a
 * large JBOD. Deterministic: disk i always gets the same WWN, serial and size.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sdName } from './scsi-path.js';
import { pad, TreeBuilder } from './synthetic-builder.js';

export interface SyntheticOptions {
  disks: number;
  /** Partitions per disk (0–2). */
  partitions?: number;
}

export interface SyntheticTree {
  root: string;
  /** Kernel names in order. */
  names: string[];
  wwnOf(i: number): string;
  remove(): void;
}

export const HBA_PCI = '0000:03:00.0';
const SAS_BASE = 0x5000c50000000000n;

export function wwnOf(i: number): string {
  return `0x${(SAS_BASE + BigInt(i) * 4n).toString(16)}`;
}

/** Write a synthetic tree into `root` (created if needed). */
export function writeSyntheticTree(root: string, opts: SyntheticOptions): string[] {
  const b = new TreeBuilder(root);
  const bridge = 'sys/devices/pci0000:00/0000:00:01.0';
  const pci = b.pci(bridge, HBA_PCI, {
    vendor: '1000',
    device: '0097',
    subDevice: '30e0',
    driver: 'mpt3sas',
  });
  const host = b.scsiHost(pci, 0, 'mpt3sas', 'sas_host');
  const exp = `${host}/port-0:0/expander-0:0`;
  b.attrs(`${exp}/sas_device/expander-0:0`, { sas_address: '0x500304800000007f' });
  b.link('sys/class/sas_device/expander-0:0', `${exp}/sas_device/expander-0:0`);
  const names: string[] = [];
  const nparts = opts.partitions ?? 2;
  for (let i = 0; i < opts.disks; i++) {
    const name = sdName(i);
    names.push(name);
    const wwn = wwnOf(i);
    const serial = `ZA${(100000 + i).toString(36).toUpperCase()}`;
    const ed = `${exp}/port-0:0:${i}/end_device-0:0:${i}`;
    const dev = b.scsiDevice(ed, `0:0:${i}:0`, {
      type: 0,
      vendor: pad('SEAGATE', 8),
      model: pad('ST16000NM004J', 16),
      rev: 'E004',
      wwid: `naa.${wwn.slice(2)}`,
      sasAddress: `0x${(SAS_BASE + BigInt(i) * 4n + 1n).toString(16)}`,
    });
    const minor = i * 16;
    const idPath = `pci-${HBA_PCI}-sas-exp0x500304800000007f-phy${i}-lun-0`;
    const sectors = 31251759104;
    const parts =
      nparts === 0
        ? []
        : [
            { number: 1, start: 2048, size: sectors - 2048 - 16384 - 34, devno: `8:${minor + 1}` },
            { number: 9, start: sectors - 16384 - 34, size: 16384, devno: `8:${minor + 9}` },
          ].slice(0, nparts);
    b.block(dev, name, {
      devno: `8:${minor}`,
      sectors,
      rotational: true,
      logical: 512,
      physical: 4096,
      udev: {
        links: [`disk/by-id/scsi-3${wwn.slice(2)}`, `disk/by-id/wwn-${wwn}`, `disk/by-path/${idPath}`],
        props: {
          ID_SCSI: '1',
          ID_VENDOR: 'SEAGATE',
          ID_MODEL: 'ST16000NM004J',
          ID_REVISION: 'E004',
          ID_TYPE: 'disk',
          ID_SERIAL: `3${wwn.slice(2)}`,
          ID_SERIAL_SHORT: wwn.slice(2),
          ID_WWN: wwn,
          ID_SCSI_SERIAL: serial,
          ID_BUS: 'scsi',
          ID_PATH: idPath,
          ID_PART_TABLE_TYPE: 'gpt',
        },
      },
      parts: parts.map((p) => ({
        ...p,
        udev: {
          links: [`disk/by-id/wwn-${wwn}-part${p.number}`, `disk/by-path/${idPath}-part${p.number}`],
          props: {
            ID_PART_ENTRY_NUMBER: String(p.number),
            ID_PART_ENTRY_UUID: `00000000-0000-4000-8000-${(i * 16 + p.number).toString(16).padStart(12, '0')}`,
            ID_FS_TYPE: p.number === 1 ? 'zfs_member' : '',
          },
        },
      })),
    });
  }
  return names;
}

/** A synthetic tree in a fresh temporary directory. */
export function syntheticTree(opts: SyntheticOptions): SyntheticTree {
  const root = mkdtempSync(path.join(os.tmpdir(), 'calypso-synth-'));
  const names = writeSyntheticTree(root, opts);
  return { root, names, wwnOf, remove: () => rmSync(root, { recursive: true, force: true }) };
}
