/**
 * TypeBox schemas of what the probes return (the result schemas of disk.list, hba.list,
 * enclosure.list, tape.drives, tape.changers). Kept beside types.ts; a test checks probe output
 * on every fixture against them.
 */
import { type TSchema, Type } from '@sinclair/typebox';

const S = (description: string) => Type.String({ description });
const OptS = (description: string) => Type.Optional(Type.String({ description }));
const OptN = (description: string) => Type.Optional(Type.Number({ description }));
const OptB = (description: string) => Type.Optional(Type.Boolean({ description }));
const Links = (description: string) => Type.Array(Type.String(), { description });

export const TransportSchema = Type.Union(
  ['sata', 'sas', 'nvme', 'virtio', 'usb', 'iscsi', 'fc', 'spi', 'scsi', 'mmc', 'xen'].map((t) =>
    Type.Literal(t),
  ),
  { description: 'how the device is attached' },
);

/**
 * The errorMessage is the plain-word refusal the RPC core reports (agent/formats.ts explains the
 * keyword; probes/ stays free of agent imports, so it is spelled here directly).
 */
export const DiskIdSchema = Type.String({
  minLength: 1,
  maxLength: 300,
  description:
    'stable disk id (`wwn-0x…`, `ata-MODEL_SERIAL`…), a /dev/disk/by-id path, a WWN, a device path or the kernel name (`sda`)',
  errorMessage:
    'a disk is named as disk.list shows it: its stable id (wwn-0x…, ata-MODEL_SERIAL…), a /dev/disk/by-id path, a WWN, a device path or the kernel name (sda), 1 to 300 characters',
});

export const PartitionSchema = Type.Object({
  name: S('kernel name (display only)'),
  path: S('device path'),
  number: Type.Integer({ description: 'partition number' }),
  start: Type.Number({ description: 'offset from the start of the disk, bytes' }),
  size: Type.Number({ description: 'bytes' }),
  byId: Links('/dev/disk/by-id/…-partN links'),
});

export const DiskPathSchema = Type.Object({
  name: S('kernel name of this path'),
  path: S('device path of this path'),
  hctl: OptS('SCSI address H:C:T:L'),
  hba: OptS('HBA id'),
  sasAddress: OptS('SAS address of the target port'),
  state: OptS('SCSI device state'),
});

export const DiskSchema = Type.Object(
  {
    id: S('stable id: wwn-0x…, a by-id name, or a path id'),
    idSource: Type.Union(
      [Type.Literal('wwn'), Type.Literal('by-id'), Type.Literal('serial'), Type.Literal('path')],
      {
        description: 'where the id came from',
      },
    ),
    name: S('kernel name of the primary path (display only)'),
    path: S('device path of the primary path'),
    devno: S('MAJ:MIN'),
    type: Type.Union(
      [
        Type.Literal('disk'),
        Type.Literal('loop'),
        Type.Literal('rom'),
        Type.Literal('mpath'),
        Type.Literal('dm'),
      ],
      {
        description: 'lsblk TYPE',
      },
    ),
    size: Type.Number({ description: 'bytes (0 when unreadable: see warnings)' }),
    model: OptS('model'),
    vendor: OptS('vendor'),
    revision: OptS('firmware revision'),
    serial: OptS('serial number'),
    wwn: OptS('world wide name (0x…, or eui./nguid. for NVMe)'),
    rotational: OptB('spinning disk'),
    removable: Type.Boolean({ description: 'removable media' }),
    readOnly: Type.Boolean({ description: 'read-only' }),
    transport: Type.Optional(TransportSchema),
    logicalSectorSize: OptN('bytes'),
    physicalSectorSize: OptN('bytes'),
    hctl: OptS('SCSI address of the primary path'),
    byId: Links('/dev/disk/by-id links'),
    byPath: Links('/dev/disk/by-path links'),
    hba: OptS('HBA id of the primary path'),
    enclosure: Type.Optional(
      Type.Object({
        id: S('enclosure id'),
        slot: Type.Union([Type.Integer(), Type.String()], { description: 'slot number or name' }),
      }),
    ),
    partitions: Type.Array(PartitionSchema),
    paths: Type.Array(DiskPathSchema, { description: 'every path to the disk, the primary first' }),
    holders: Links('stacked devices using this disk'),
    virtual: Type.Boolean({ description: 'no hardware behind it (loop, zram, dm)' }),
    devpath: S('sysfs device path'),
  },
  { description: 'a disk' },
);

export const HbaSchema = Type.Object(
  {
    id: S('PCI address, else the SCSI host name'),
    kind: Type.Union([Type.Literal('scsi'), Type.Literal('nvme'), Type.Literal('virtio-blk')]),
    pciAddress: OptS('PCI address'),
    vendorId: OptS('PCI vendor id'),
    deviceId: OptS('PCI device id'),
    subsystemVendorId: OptS('PCI subsystem vendor id'),
    subsystemDeviceId: OptS('PCI subsystem device id'),
    driver: OptS('kernel driver'),
    transport: Type.Optional(TransportSchema),
    hosts: Links('SCSI hosts / NVMe controllers (display only)'),
    model: OptS('model (NVMe)'),
    serial: OptS('serial (NVMe)'),
    firmware: OptS('firmware (NVMe)'),
    phys: Type.Array(
      Type.Object({
        name: S('phy name'),
        sasAddress: OptS('SAS address'),
        negotiatedLinkrate: OptS('negotiated link rate'),
        maximumLinkrate: OptS('maximum link rate'),
        port: OptS('SAS port'),
      }),
    ),
    ports: Type.Array(
      Type.Object({
        name: S('port name'),
        phys: Links('phys in the port'),
        attached: Type.Optional(
          Type.Object({
            type: Type.Union([Type.Literal('expander'), Type.Literal('end_device')]),
            name: S('SAS device name'),
            sasAddress: OptS('SAS address'),
          }),
        ),
      }),
    ),
    disks: Links('ids of the disks reached through this HBA'),
  },
  { description: 'a host bus adapter' },
);

export const EnclosureSchema = Type.Object(
  {
    id: S('enclosure logical id'),
    name: S('class name (H:C:T:L of the SES device)'),
    hctl: OptS('SCSI address'),
    vendor: OptS('vendor'),
    model: OptS('model'),
    revision: OptS('revision'),
    hba: OptS('HBA id'),
    sg: OptS('SCSI generic node'),
    components: OptN('number of components'),
    slots: Type.Array(
      Type.Object({
        name: S('component name'),
        slot: Type.Optional(Type.Integer({ description: 'slot number' })),
        type: OptS('component type'),
        status: OptS('status'),
        fault: OptB('fault LED'),
        locate: OptB('locate LED'),
        active: OptB('active'),
        disk: Type.Optional(Type.Object({ id: OptS('disk id'), name: S('kernel name') })),
      }),
    ),
  },
  { description: 'an enclosure' },
);

const scsiCommon = {
  id: S('stable id: wwn-0x…, scsi-SERIAL, else hctl-H:C:T:L'),
  hctl: S('SCSI address'),
  vendor: OptS('vendor'),
  model: OptS('model'),
  revision: OptS('revision'),
  serial: OptS('serial'),
  wwn: OptS('world wide name'),
  transport: Type.Optional(TransportSchema),
  hba: OptS('HBA id'),
  sg: OptS('SCSI generic node'),
  byId: Links('/dev/tape/by-id links'),
  byPath: Links('/dev/tape/by-path links'),
  state: OptS('SCSI device state'),
  devpath: S('sysfs device path'),
};

export const TapeDriveSchema = Type.Object(
  {
    ...scsiCommon,
    st: OptS('rewinding node'),
    nst: OptS('non-rewinding node'),
    changer: OptS('id of the changer on the same target'),
  },
  { description: 'a tape drive' },
);

export const ChangerSchema = Type.Object(
  { ...scsiCommon, sch: OptS('changer node') },
  { description: 'a medium changer' },
);

export const WarningSchema = Type.Object({
  device: OptS('kernel name'),
  path: OptS('path'),
  message: S('what is missing and why'),
});

export const listOf = <T extends TSchema>(item: T, description: string) => Type.Array(item, { description });
