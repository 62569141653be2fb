/**
 * The constructed tape fixtures (see build-fixtures.ts): trees in the kernel's sysfs layout of each driver
 * (mpt2sas, qla2xxx, mhvtl's pseudo adapter) for machines the lab cannot record. The layout itself is checked on a
 * recorded tree (test/fixtures/sysfs/lab-tgt-scsi-debug, test/hardware/recorded-agreement.test.ts).
 */
import { pad } from '../../probes/synthetic-builder.js';
import { fresh, SYS } from './fixture-tree.js';

/**
 * A tape library on a
 * SAS HBA (mpt2sas): an HP Ultrium 5 drive (LUN 0) and a Tandberg StorageLoader changer
 * (LUN 1) on one target, with st/nst, sch and sg nodes and udev records.
 */
export function tapeSas(): void {
  const b = fresh('tape-sas');
  const pci = b.pci(`${SYS}/0000:00:1c.0`, '0000:02:00.0', {
    vendor: '1000',
    device: '0072',
    subVendor: '1000',
    subDevice: '3020',
    driver: 'mpt2sas',
  });
  const host = b.scsiHost(pci, 0, 'mpt2sas', 'sas_host');
  const ed = `${host}/port-0:0/end_device-0:0`;
  const drive = b.scsiDevice(ed, '0:0:0:0', {
    type: 1,
    vendor: pad('HP', 8),
    model: pad('Ultrium 5-SCSI', 16),
    rev: 'Z51U',
    wwid: 'naa.50014380123abcde',
  });
  const chg = b.scsiDevice(ed, '0:0:0:1', {
    type: 8,
    vendor: pad('TANDBERG', 8),
    model: pad('StorageLoader', 16),
    rev: '0495',
    wwid: 'naa.50014380123abcdf',
  });
  const idPath = 'pci-0000:02:00.0-sas-0x50014380123abcd0-lun-0';
  const drvProps = {
    ID_SCSI: '1',
    ID_VENDOR: 'HP',
    ID_MODEL: 'Ultrium_5-SCSI',
    ID_REVISION: 'Z51U',
    ID_TYPE: 'tape',
    ID_SERIAL: '350014380123abcde',
    ID_SERIAL_SHORT: '50014380123abcde',
    ID_SCSI_SERIAL: 'HU19487TLK',
    ID_WWN: '0x50014380123abcde',
    ID_BUS: 'scsi',
    ID_PATH: idPath,
  };
  b.charNode(drive, 'scsi_tape', 'st0', '9:0', {
    props: drvProps,
    links: ['tape/by-id/scsi-350014380123abcde', 'tape/by-id/scsi-HU19487TLK', `tape/by-path/${idPath}`],
  });
  b.charNode(drive, 'scsi_tape', 'nst0', '9:128', {
    props: drvProps,
    links: [
      'tape/by-id/scsi-350014380123abcde-nst',
      'tape/by-id/scsi-HU19487TLK-nst',
      `tape/by-path/${idPath}-nst`,
    ],
  });
  for (const [m, n] of [
    ['a', 96],
    ['l', 32],
    ['m', 64],
  ] as const) {
    b.charNode(drive, 'scsi_tape', `st0${m}`, `9:${n}`);
    b.charNode(drive, 'scsi_tape', `nst0${m}`, `9:${128 + n}`);
  }
  b.charNode(drive, 'scsi_generic', 'sg4', '21:4');
  const chgProps = {
    ID_SCSI: '1',
    ID_VENDOR: 'TANDBERG',
    ID_MODEL: 'StorageLoader',
    ID_REVISION: '0495',
    ID_TYPE: 'medium-changer',
    ID_SERIAL: '350014380123abcdf',
    ID_SERIAL_SHORT: '50014380123abcdf',
    ID_SCSI_SERIAL: '2A1SL10471',
    ID_WWN: '0x50014380123abcdf',
    ID_BUS: 'scsi',
    ID_PATH: 'pci-0000:02:00.0-sas-0x50014380123abcd0-lun-1',
  };
  b.charNode(chg, 'scsi_generic', 'sg5', '21:5', {
    props: chgProps,
    links: [
      'tape/by-id/scsi-350014380123abcdf',
      'tape/by-id/scsi-350014380123abcdf-changer',
      'tape/by-id/scsi-2A1SL10471',
      'tape/by-path/pci-0000:02:00.0-sas-0x50014380123abcd0-lun-1-changer',
    ],
  });
  b.charNode(chg, 'scsi_changer', 'sch0', '86:0');
}

/**
 * An IBM library (changer sg5, drive sg6) plus a Quantum drive (sg1, no serial page) on a QLogic FC HBA, with no udev database: serials come from VPD page 0x80.
 */
export function tapeFcIbm(): void {
  const b = fresh('tape-fc-ibm');
  const pci = b.pci(`${SYS}/0000:00:03.0`, '0000:05:00.0', {
    vendor: '1077',
    device: '2532',
    subVendor: '1077',
    subDevice: '015d',
    driver: 'qla2xxx',
    cls: '0x0c0400',
  });
  const host = b.scsiHost(pci, 2, 'qla2xxx', 'fc_host');
  const rport = `${host}/rport-2:0-0`;
  const drive = b.scsiDevice(rport, '2:0:0:0', {
    type: 1,
    vendor: pad('IBM', 8),
    model: pad('ULT3580-TD2', 16),
    rev: 'H991',
    vpd80: '6022976126',
  });
  b.charNode(drive, 'scsi_tape', 'st0', '9:0');
  b.charNode(drive, 'scsi_tape', 'nst0', '9:128');
  b.charNode(drive, 'scsi_generic', 'sg6', '21:6');
  const chg = b.scsiDevice(rport, '2:0:0:1', {
    type: 8,
    vendor: pad('IBM', 8),
    model: pad('03584L32', 16),
    rev: 'F270',
    vpd80: '0000073921270400',
  });
  b.charNode(chg, 'scsi_generic', 'sg5', '21:5');
  const q = b.scsiDevice(`${host}/rport-2:0-1`, '2:0:1:0', {
    type: 1,
    vendor: pad('QUANTUM', 8),
    model: pad('ULTRIUM 4', 16),
    rev: 'U53F',
  });
  b.charNode(q, 'scsi_tape', 'st1', '9:1');
  b.charNode(q, 'scsi_tape', 'nst1', '9:129');
  b.charNode(q, 'scsi_generic', 'sg1', '21:1');
}

/**
 * An mhvtl virtual library as mhvtl's INSTALL shows one: a SPECTRA
 * PYTHON changer and four drives on mhvtl's pseudo adapter, serials in VPD page 0x80 as
 * mhvtl's device.conf gives them, no udev database.
 */
export function tapeMhvtl(): void {
  const b = fresh('tape-mhvtl');
  const host = b.scsiHost('sys/devices/pseudo_9/adapter0', 5, 'mhvtl');
  const chg = b.scsiDevice(host, '5:0:0:0', {
    type: 8,
    vendor: pad('SPECTRA', 8),
    model: pad('PYTHON', 16),
    rev: '5500',
    vpd80: 'XYZZY_10',
    vpd83Naa: '10223344abcdef00',
  });
  b.charNode(chg, 'scsi_changer', 'sch0', '86:0');
  b.charNode(chg, 'scsi_generic', 'sg6', '21:6');
  const drives: [string, string, string][] = [
    ['QUANTUM', 'SDLT600', 'XYZZY_11'],
    ['QUANTUM', 'SDLT600', 'XYZZY_12'],
    ['IBM', 'ULT3580-TD4', 'XYZZY_13'],
    ['IBM', 'ULT3580-TD4', 'XYZZY_14'],
  ];
  drives.forEach(([vendor, model, serial], i) => {
    const d = b.scsiDevice(host, `5:0:${i + 1}:0`, {
      type: 1,
      vendor: pad(vendor, 8),
      model: pad(model, 16),
      rev: '5500',
      vpd80: serial,
      vpd83Naa: `10223344abcdef0${i + 1}`,
    });
    b.charNode(d, 'scsi_tape', `st${i}`, `9:${i}`);
    b.charNode(d, 'scsi_tape', `nst${i}`, `9:${128 + i}`);
    b.charNode(d, 'scsi_generic', `sg${i + 2}`, `21:${i + 2}`);
  });
}
