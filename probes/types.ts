/**
 * What the probes report. These are the objects `disk.list`, `hba.list`, `enclosure.list`,
 * `tape.drives` and `tape.changers` return and `calypsoctl probe` prints.
 *
 * Devices are keyed by stable ids (WWN, serial, by-id); kernel names (`sda`, `sg3`, `nst0`)
 * are for display and change across reboots (STYLE.md: never persist them). An attribute the
 * tree does not have is absent (undefined), never "" or 0.
 */

export type Transport =
  | 'sata'
  | 'sas'
  | 'nvme'
  | 'virtio'
  | 'usb'
  | 'iscsi'
  | 'fc'
  | 'spi'
  | 'scsi'
  | 'mmc'
  | 'xen';

/** lsblk's TYPE vocabulary for the devices disk.list reports. */
export type DiskType = 'disk' | 'loop' | 'rom' | 'mpath' | 'dm';

export interface Partition {
  name: string;
  path: string;
  /** Partition number (the kernel's `partition` attribute). */
  number: number;
  /** Offset from the start of the disk, bytes. */
  start: number;
  size: number;
  /** `/dev/disk/by-id/…-partN` links. */
  byId: string[];
}

/** One way the kernel reaches a disk (a SAS port, an NVMe controller, a multipath slave). */
export interface DiskPath {
  name: string;
  path: string;
  hctl?: string;
  /** HBA id (see `Hba.id`). */
  hba?: string;
  /** SAS address of the end device or expander port this path goes through. */
  sasAddress?: string;
  /** SCSI device state (`running`, `offline`, `blocked`, …). */
  state?: string;
}

export interface EnclosureRef {
  /** `Enclosure.id`. */
  id: string;
  /** Slot number (the `slot` attribute), else the slot's directory name. */
  slot: number | string;
}

export interface Disk {
  /** Stable key: `wwn-0x…`, else a by-id style name (`ata-MODEL_SERIAL`, `virtio-SERIAL`), else a path id. */
  id: string;
  /** Where `id` came from. */
  idSource: 'wwn' | 'by-id' | 'serial' | 'path';
  /** Kernel name of the primary path (display only). */
  name: string;
  path: string;
  /** `MAJ:MIN` of the primary path. */
  devno: string;
  type: DiskType;
  /** Bytes. */
  size: number;
  model?: string;
  vendor?: string;
  revision?: string;
  serial?: string;
  /** `0x…` (SCSI NAA / ATA WWN, lower case) or `eui.…`/`nguid.…` for NVMe, as udev reports it. */
  wwn?: string;
  rotational?: boolean;
  removable: boolean;
  readOnly: boolean;
  transport?: Transport;
  logicalSectorSize?: number;
  physicalSectorSize?: number;
  hctl?: string;
  /** `/dev/disk/by-id/…` links. */
  byId: string[];
  /** `/dev/disk/by-path/…` links. */
  byPath: string[];
  /** HBA id of the primary path. */
  hba?: string;
  enclosure?: EnclosureRef;
  partitions: Partition[];
  /** Every path to this disk, the primary first. More than one for dual-ported SAS and multipath. */
  paths: DiskPath[];
  /** Kernel names of stacked devices using this disk (dm, md). */
  holders: string[];
  /** True for devices with no hardware behind them (loop, zram, dm). */
  virtual: boolean;
  /** sysfs device path (`/devices/…`), for correlating udev events. */
  devpath: string;
}

export interface SasPhy {
  name: string;
  sasAddress?: string;
  negotiatedLinkrate?: string;
  maximumLinkrate?: string;
  /** SAS port the phy belongs to. */
  port?: string;
}

export interface SasPort {
  name: string;
  phys: string[];
  /** What is attached to the port: an expander or an end device. */
  attached?: { type: 'expander' | 'end_device'; name: string; sasAddress?: string };
}

export interface Hba {
  /** PCI address (`0000:03:00.0`), else the SCSI host name for hosts without PCI (iSCSI). */
  id: string;
  kind: 'scsi' | 'nvme' | 'virtio-blk';
  pciAddress?: string;
  /** PCI ids as four lower-case hex digits. */
  vendorId?: string;
  deviceId?: string;
  subsystemVendorId?: string;
  subsystemDeviceId?: string;
  /** Kernel driver: ahci, mpt3sas, megaraid_sas, nvme, virtio_scsi, virtio_blk, iscsi_tcp, usb-storage… */
  driver?: string;
  transport?: Transport;
  /** SCSI hosts (`host0`) or NVMe controllers (`nvme0`) on this HBA (display only). */
  hosts: string[];
  model?: string;
  serial?: string;
  firmware?: string;
  phys: SasPhy[];
  ports: SasPort[];
  /** Disks (ids) reached through this HBA. */
  disks: string[];
}

export interface EnclosureSlot {
  /** Directory name of the component (`Slot 01`, `Disk001`, `0`). */
  name: string;
  slot?: number;
  type?: string;
  status?: string;
  fault?: boolean;
  locate?: boolean;
  active?: boolean;
  /** The disk in the slot, when one is present and known. */
  disk?: { id?: string; name: string };
}

export interface Enclosure {
  /** Enclosure logical identifier (SES, `0x…`), else `hctl:H:C:T:L`. */
  id: string;
  /** Class name under /sys/class/enclosure (H:C:T:L of the SES device). */
  name: string;
  hctl?: string;
  vendor?: string;
  model?: string;
  revision?: string;
  hba?: string;
  sg?: string;
  components?: number;
  slots: EnclosureSlot[];
}

interface ScsiDeviceCommon {
  /** Stable key: `wwn-0x…` or `scsi-<serial>`, else `hctl-H:C:T:L`. */
  id: string;
  hctl: string;
  vendor?: string;
  model?: string;
  revision?: string;
  serial?: string;
  wwn?: string;
  transport?: Transport;
  hba?: string;
  /** SCSI generic node. */
  sg?: string;
  byId: string[];
  byPath: string[];
  state?: string;
  devpath: string;
}

export interface TapeDrive extends ScsiDeviceCommon {
  /** Rewinding node `/dev/st0`. */
  st?: string;
  /** Non-rewinding node `/dev/nst0` (what backup software uses). */
  nst?: string;
  /** Id of the changer at the same SCSI target, when there is one (one-target libraries). */
  changer?: string;
}

export interface Changer extends ScsiDeviceCommon {
  /** `/dev/sch0` when the ch driver is bound. */
  sch?: string;
}
