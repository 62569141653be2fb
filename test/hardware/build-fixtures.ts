/**
 * Writes the constructed sysfs fixtures under test/fixtures/sysfs/ (all but
 * `virtio-this-machine`, which record-tree.ts recorded from this machine). Each tree follows the
 * kernel's layout for its drivers; vendor strings, ids and addresses are those of the hardware
 * named in test/fixtures/sysfs/README.md. Re-run after changing the builder:
 *
 *   node --import tsx test/hardware/build-fixtures.ts
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pad } from '../../probes/synthetic-builder.js';
import { tapeFcIbm, tapeMhvtl, tapeSas } from './build-fixtures-tape.js';
import { fresh, SYS } from './fixture-tree.js';

/** Intel AHCI with two SATA disks (one partitioned) and a DVD drive. */
export function sataAhci(): void {
  const b = fresh('sata-ahci');
  const pci = b.pci(SYS, '0000:00:17.0', {
    vendor: '8086',
    device: 'a352',
    subVendor: '1043',
    subDevice: '8694',
    driver: 'ahci',
    cls: '0x010601',
  });
  const disks = [
    {
      n: 0,
      name: 'sda',
      model: 'WDC WD100EFAX-68LHPN0',
      serial: 'JEK3ABCD',
      wwn: '0x5000cca267c3d4e5',
      rev: '83.H0A83',
      sectors: 19532873728,
      rot: true,
      parts: [] as number[][],
    },
    {
      n: 1,
      name: 'sdb',
      model: 'Samsung SSD 860 EVO 500GB',
      serial: 'S3Z1NB0K123456A',
      wwn: '0x5002538e40a1b2c3',
      rev: 'RVT02B6Q',
      sectors: 976773168,
      rot: false,
      parts: [
        [1, 2048, 1048576],
        [2, 1050624, 975720448],
      ],
    },
  ];
  for (const d of disks) {
    const host = b.scsiHost(`${pci}/ata${d.n + 1}`, d.n, 'ahci');
    const dev = b.scsiDevice(host, `${d.n}:0:0:0`, {
      type: 0,
      vendor: pad('ATA', 8),
      model: pad(d.model.slice(0, 16), 16),
      rev: d.rev.slice(-4),
      wwid: `naa.${d.wwn.slice(2)}`,
    });
    b.charNode(dev, 'scsi_generic', `sg${d.n}`, `21:${d.n}`);
    const idSerial = `${d.model.replace(/ /g, '_')}_${d.serial}`;
    const idPath = `pci-0000:00:17.0-ata-${d.n + 1}`;
    const minor = d.n * 16;
    b.block(dev, d.name, {
      devno: `8:${minor}`,
      sectors: d.sectors,
      rotational: d.rot,
      physical: d.rot ? 4096 : 512,
      udev: {
        links: [
          `disk/by-id/ata-${idSerial}`,
          `disk/by-id/wwn-${d.wwn}`,
          `disk/by-path/${idPath}`,
          `disk/by-path/${idPath}.0`,
        ],
        props: {
          ID_ATA: '1',
          ID_TYPE: 'disk',
          ID_BUS: 'ata',
          ID_MODEL: d.model.replace(/ /g, '_'),
          ID_MODEL_ENC: d.model.replace(/ /g, '\\x20'),
          ID_REVISION: d.rev,
          ID_SERIAL: idSerial,
          ID_SERIAL_SHORT: d.serial,
          ID_WWN: d.wwn,
          ID_WWN_WITH_EXTENSION: d.wwn,
          ID_PATH: idPath,
          ID_PART_TABLE_TYPE: d.parts.length ? 'gpt' : '',
        },
      },
      parts: d.parts.map(([num, start, size]) => ({
        number: num!,
        start: start!,
        size: size!,
        devno: `8:${minor + num!}`,
      })),
    });
  }
  // DVD on the third port: SCSI type 5, block device sr0 (lsblk TYPE rom).
  const host = b.scsiHost(`${pci}/ata3`, 2, 'ahci');
  const dvd = b.scsiDevice(host, '2:0:0:0', {
    type: 5,
    vendor: pad('HL-DT-ST', 8),
    model: pad('DVDRAM GH24NSD1', 16),
    rev: 'LG00',
  });
  b.block(dvd, 'sr0', {
    devno: '11:0',
    sectors: 0,
    removable: true,
    rotational: true,
    logical: 2048,
    udev: {
      links: ['disk/by-id/ata-HL-DT-ST_DVDRAM_GH24NSD1_K1EG9A12345', 'disk/by-path/pci-0000:00:17.0-ata-3'],
      props: {
        ID_CDROM: '1',
        ID_TYPE: 'cd',
        ID_BUS: 'ata',
        ID_MODEL: 'HL-DT-ST_DVDRAM_GH24NSD1',
        ID_MODEL_ENC: 'HL-DT-ST\\x20DVDRAM\\x20GH24NSD1',
        ID_SERIAL_SHORT: 'K1EG9A12345',
      },
    },
  });
}

/**
 * LSI SAS3008 (mpt3sas) with two wide ports to the two expanders of a dual-domain JBOD: three
 * dual-ported SAS disks seen twice (same LU WWN, different target-port SAS addresses), an
 * enclosure (ses) with four slots, three occupied, one with its locate LED on.
 */
export function sasExpanderEnclosure(): void {
  const b = fresh('sas-expander-enclosure');
  const pci = b.pci(`${SYS}/0000:00:01.0`, '0000:03:00.0', {
    vendor: '1000',
    device: '0097',
    subVendor: '1000',
    subDevice: '30e0',
    driver: 'mpt3sas',
  });
  const host = b.scsiHost(pci, 0, 'mpt3sas', 'sas_host');
  const hbaSas = 0x500605b00a1b2c30n;
  for (let i = 0; i < 8; i++) {
    const phy = `${host}/phy-0:${i}`;
    b.attrs(`${phy}/sas_phy/phy-0:${i}`, {
      sas_address: `0x${hbaSas.toString(16)}`,
      negotiated_linkrate: '12.0 Gbit',
      maximum_linkrate: '12.0 Gbit',
      phy_identifier: i,
    });
    b.link(`sys/class/sas_phy/phy-0:${i}`, `${phy}/sas_phy/phy-0:${i}`);
  }
  const expanders = [
    { port: 0, sas: '0x500304800000007f', phys: [0, 1, 2, 3] },
    { port: 1, sas: '0x50030480000000bf', phys: [4, 5, 6, 7] },
  ];
  const disks = [
    { wwn: '5000c500a1b2c3d4', serial: 'ZA1ABCDE', slot: 0 },
    { wwn: '5000c500a1b2c3e8', serial: 'ZA1ABCDF', slot: 1 },
    { wwn: '5000c500a1b2c3fc', serial: 'ZA1ABCDG', slot: 2 },
  ];
  const names = ['sdb', 'sdc', 'sdd', 'sde', 'sdf', 'sdg'];
  const scsiDevs: string[][] = [[], []];
  let k = 0;
  for (const e of expanders) {
    const port = `${host}/port-0:${e.port}`;
    for (const p of e.phys) b.link(`${port}/phy-0:${p}`, `${host}/phy-0:${p}`);
    b.file(`${port}/sas_port/port-0:${e.port}/num_phys`, `${e.phys.length}\n`);
    b.link(`sys/class/sas_port/port-0:${e.port}`, `${port}/sas_port/port-0:${e.port}`);
    const exp = `${port}/expander-0:${e.port}`;
    b.attrs(`${exp}/sas_device/expander-0:${e.port}`, { sas_address: e.sas });
    b.link(`sys/class/sas_device/expander-0:${e.port}`, `${exp}/sas_device/expander-0:${e.port}`);
    disks.forEach((d, j) => {
      const t = e.port * 4 + j;
      const ed = `${exp}/port-0:${e.port}:${j}/end_device-0:${e.port}:${j}`;
      // Each port of a dual-ported disk has its own SAS address: LU WWN + 1 (port A) or + 2 (port B).
      const portSas = `0x${(BigInt(`0x${d.wwn}`) + BigInt(e.port + 1)).toString(16)}`;
      b.attrs(`${ed}/sas_device/end_device-0:${e.port}:${j}`, { sas_address: portSas });
      b.link(
        `sys/class/sas_device/end_device-0:${e.port}:${j}`,
        `${ed}/sas_device/end_device-0:${e.port}:${j}`,
      );
      const dev = b.scsiDevice(ed, `0:0:${t}:0`, {
        type: 0,
        vendor: pad('SEAGATE', 8),
        model: pad('ST8000NM0075', 16),
        rev: 'E004',
        wwid: `naa.${d.wwn}`,
        sasAddress: portSas,
        vpd80: `${d.serial}0000C9211ABC`,
      });
      scsiDevs[e.port]!.push(dev);
      const name = names[k++]!;
      const minor = k * 16;
      const idPath = `pci-0000:03:00.0-sas-exp${e.sas}-phy${j}-lun-0`;
      b.block(dev, name, {
        devno: `8:${minor}`,
        sectors: 15628053168,
        rotational: true,
        physical: 4096,
        udev: {
          links: [`disk/by-id/scsi-3${d.wwn}`, `disk/by-id/wwn-0x${d.wwn}`, `disk/by-path/${idPath}`],
          props: {
            ID_SCSI: '1',
            ID_VENDOR: 'SEAGATE',
            ID_MODEL: 'ST8000NM0075',
            ID_REVISION: 'E004',
            ID_TYPE: 'disk',
            ID_SERIAL: `3${d.wwn}`,
            ID_SERIAL_SHORT: d.wwn,
            ID_WWN: `0x${d.wwn}`,
            ID_SCSI_SERIAL: `${d.serial}0000C9211ABC`,
            ID_BUS: 'scsi',
            ID_PATH: idPath,
          },
        },
      });
    });
    if (e.port === 0) {
      // The SES processor of the first expander: an enclosure device on LUN 0 of its own target.
      const ed = `${exp}/port-0:0:4/end_device-0:0:4`;
      const ses = b.scsiDevice(ed, '0:0:8:0', {
        type: 13,
        vendor: pad('LSI', 8),
        model: pad('SAS3x28', 16),
        rev: '0601',
        wwid: 'naa.500304800000007e',
      });
      b.charNode(ses, 'scsi_generic', 'sg8', '21:8');
      b.enclosure(ses, '0:0:8:0', '0x500304800000007f', [
        { name: 'Slot00', slot: 0, status: 'OK', device: scsiDevs[0]![0] },
        { name: 'Slot01', slot: 1, status: 'OK', device: scsiDevs[0]![1], locate: 1 },
        { name: 'Slot02', slot: 2, status: 'OK', device: scsiDevs[0]![2] },
        { name: 'Slot03', slot: 3, status: 'not installed' },
      ]);
    }
  }
}

/** Samsung 970 EVO Plus on PCIe, one namespace with two partitions. */
export function nvme(): void {
  const b = fresh('nvme');
  const pci = b.pci(`${SYS}/0000:00:1d.0`, '0000:01:00.0', {
    vendor: '144d',
    device: 'a808',
    subVendor: '144d',
    subDevice: 'a801',
    driver: 'nvme',
    cls: '0x010802',
  });
  const ctrl = `${pci}/nvme/nvme0`;
  b.attrs(ctrl, {
    model: pad('Samsung SSD 970 EVO Plus 1TB', 40),
    serial: pad('S4EWNX0R123456', 20),
    firmware_rev: pad('2B2QEXM7', 8),
    transport: 'pcie',
    address: '0000:01:00.0',
    state: 'live',
    dev: '242:0',
  });
  b.link('sys/class/nvme/nvme0', ctrl);
  const eui = 'eui.0025385b71b1e2f3';
  b.block(ctrl, 'nvme0n1', {
    devno: '259:0',
    sectors: 1953525168,
    rotational: false,
    attrs: { wwid: eui, nsid: '1' },
    partSep: 'p',
    udev: {
      links: [
        'disk/by-id/nvme-Samsung_SSD_970_EVO_Plus_1TB_S4EWNX0R123456',
        'disk/by-id/nvme-Samsung_SSD_970_EVO_Plus_1TB_S4EWNX0R123456_1',
        `disk/by-id/nvme-${eui}`,
        'disk/by-path/pci-0000:01:00.0-nvme-1',
      ],
      props: {
        ID_MODEL: 'Samsung SSD 970 EVO Plus 1TB',
        ID_SERIAL_SHORT: 'S4EWNX0R123456',
        ID_SERIAL: 'Samsung_SSD_970_EVO_Plus_1TB_S4EWNX0R123456',
        ID_WWN: eui,
        ID_REVISION: '2B2QEXM7',
        ID_PATH: 'pci-0000:01:00.0-nvme-1',
        ID_PART_TABLE_TYPE: 'gpt',
      },
    },
    parts: [
      { number: 1, start: 2048, size: 1050624, devno: '259:1' },
      { number: 2, start: 1052672, size: 1952470016, devno: '259:2' },
    ],
  });
}

/** A SanDisk USB stick on xHCI (usb-storage), removable, model padded. */
export function usb(): void {
  const b = fresh('usb');
  const pci = b.pci(SYS, '0000:00:14.0', {
    vendor: '8086',
    device: 'a36d',
    driver: 'xhci_hcd',
    cls: '0x0c0330',
  });
  const intf = `${pci}/usb2/2-1/2-1:1.0`;
  b.attrs(`${pci}/usb2/2-1`, {
    idVendor: '0781',
    idProduct: '5580',
    serial: 'AA010509161249345678',
    manufacturer: 'SanDisk',
    product: 'Extreme',
  });
  const host = b.scsiHost(intf, 6, 'usb-storage');
  const dev = b.scsiDevice(host, '6:0:0:0', {
    type: 0,
    vendor: pad('SanDisk', 8),
    model: pad('Extreme', 16),
    rev: '0001',
  });
  const idPath = 'pci-0000:00:14.0-usb-0:1:1.0-scsi-0:0:0:0';
  b.block(dev, 'sdh', {
    devno: '8:112',
    sectors: 125031680,
    removable: true,
    rotational: true,
    udev: {
      links: ['disk/by-id/usb-SanDisk_Extreme_AA010509161249345678-0:0', `disk/by-path/${idPath}`],
      props: {
        ID_BUS: 'usb',
        ID_USB_DRIVER: 'usb-storage',
        ID_VENDOR: 'SanDisk',
        ID_MODEL: 'Extreme',
        ID_MODEL_ENC: 'Extreme\\x20\\x20\\x20\\x20\\x20\\x20\\x20\\x20\\x20',
        ID_REVISION: '0001',
        ID_SERIAL: 'SanDisk_Extreme_AA010509161249345678-0:0',
        ID_SERIAL_SHORT: 'AA010509161249345678',
        ID_TYPE: 'disk',
        ID_PATH: idPath,
      },
    },
    parts: [{ number: 1, start: 2048, size: 125029632, devno: '8:113' }],
  });
}

/** An iSCSI session (iscsi_tcp) to a tgt target: LUN 1, tgt's default inquiry strings. */
export function iscsi(): void {
  const b = fresh('iscsi');
  const host = b.scsiHost('sys/devices/platform', 7, 'iscsi_tcp', 'iscsi_host');
  const sess = `${host}/session1`;
  b.attrs(`${sess}/iscsi_session/session1`, {
    targetname: 'iqn.2024-01.test.calypso:disk0',
    tpgt: 1,
    state: 'LOGGED_IN',
  });
  b.link('sys/class/iscsi_session/session1', `${sess}/iscsi_session/session1`);
  const naa = '60000000000000000e00000000010001';
  const dev = b.scsiDevice(sess, '7:0:0:1', {
    type: 0,
    vendor: pad('IET', 8),
    model: pad('VIRTUAL-DISK', 16),
    rev: '0001',
    wwid: `naa.${naa}`,
    vpd80: 'beaf11',
  });
  const idPath = 'ip-127.0.0.1:3260-iscsi-iqn.2024-01.test.calypso:disk0-lun-1';
  b.block(dev, 'sdi', {
    devno: '8:128',
    sectors: 2097152,
    rotational: true,
    udev: {
      links: [`disk/by-id/scsi-3${naa}`, `disk/by-id/wwn-0x${naa}`, `disk/by-path/${idPath}`],
      props: {
        ID_SCSI: '1',
        ID_VENDOR: 'IET',
        ID_MODEL: 'VIRTUAL-DISK',
        ID_REVISION: '0001',
        ID_TYPE: 'disk',
        ID_SERIAL: `3${naa}`,
        ID_SERIAL_SHORT: naa,
        ID_SCSI_SERIAL: 'beaf11',
        ID_WWN: `0x${naa.slice(0, 16)}`,
        ID_WWN_WITH_EXTENSION: `0x${naa}`,
        ID_BUS: 'scsi',
        ID_PATH: idPath,
      },
    },
  });
}

export function buildAll(): void {
  tapeMhvtl();
  sataAhci();
  sasExpanderEnclosure();
  nvme();
  usb();
  iscsi();
  tapeSas();
  tapeFcIbm();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) buildAll();
