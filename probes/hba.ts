/**
 * Host bus adapters: SCSI hosts and NVMe controllers resolved to the PCI function they sit on
 * (vendor/device ids, driver), with SAS phys and ports where /sys/class/sas_* has them, plus the
 * virtio-blk functions that carry disks without a SCSI host.
 */
import type { BlockRecord } from './block.js';
import { pathFacts } from './scsi-path.js';
import { cleanText, type SysReader } from './sysfs.js';
import type { Hba, SasPhy, SasPort, Transport } from './types.js';

export interface HostInfo {
  name: string;
  /** Device directory of the host (`sys/devices/…/host0`). */
  dir: string;
  procName?: string;
  /** Transport from the host's transport class (sas_host, iscsi_host, fc_host, spi_host). */
  transport?: Transport;
  hbaId: string;
}

export interface HbaIndex {
  hbas: Map<string, Hba>;
  hosts: Map<string, HostInfo>;
}

const TRANSPORT_CLASSES: [string, Transport][] = [
  ['sas_host', 'sas'],
  ['iscsi_host', 'iscsi'],
  ['fc_host', 'fc'],
  ['spi_host', 'spi'],
];

const hex4 = (s: string | undefined) =>
  s ? s.trim().replace(/^0x/i, '').toLowerCase().padStart(4, '0') : undefined;

/** The directory of PCI function `pci` inside `devpath`. */
function pciDir(devpath: string, pci: string): string {
  const at = devpath.indexOf(`/${pci}`);
  return devpath.slice(0, at + pci.length + 1);
}

function pciHba(r: SysReader, dir: string, id: string, kind: Hba['kind']): Hba {
  const hba: Hba = { id, kind, pciAddress: id, hosts: [], phys: [], ports: [], disks: [] };
  const ent = new Set(r.list(dir, id) ?? []);
  if (ent.has('vendor')) hba.vendorId = hex4(r.text(`${dir}/vendor`, id));
  if (ent.has('device')) hba.deviceId = hex4(r.text(`${dir}/device`, id));
  if (ent.has('subsystem_vendor')) hba.subsystemVendorId = hex4(r.text(`${dir}/subsystem_vendor`, id));
  if (ent.has('subsystem_device')) hba.subsystemDeviceId = hex4(r.text(`${dir}/subsystem_device`, id));
  if (ent.has('driver')) {
    const drv = r.link(`${dir}/driver`, id);
    if (drv) hba.driver = drv.slice(drv.lastIndexOf('/') + 1);
  }
  return hba;
}

export function probeHbaIndex(r: SysReader, records: readonly BlockRecord[]): HbaIndex {
  const hbas = new Map<string, Hba>();
  const hosts = new Map<string, HostInfo>();
  const classHosts = new Map<string, Transport>();
  for (const [cls, t] of TRANSPORT_CLASSES)
    for (const h of r.list(`sys/class/${cls}`) ?? []) classHosts.set(h, t);

  for (const h of (r.list('sys/class/scsi_host') ?? []).sort(byNumber)) {
    const cdir = r.resolveLink(`sys/class/scsi_host/${h}`, h);
    if (!cdir) {
      r.warn('scsi host skipped: class link dangling', `sys/class/scsi_host/${h}`, h);
      continue;
    }
    // class dir is …/host0/scsi_host/host0; the host device is two levels up.
    const dir = cdir.split('/').slice(0, -2).join('/');
    const procName = cleanText(r.text(`${cdir}/proc_name`, h)).value;
    const facts = pathFacts(dir);
    const classT = classHosts.get(h);
    const transport: Transport | undefined =
      facts.transport === 'usb' || facts.transport === 'sata' ? facts.transport : (classT ?? facts.transport);
    const hbaId = facts.pci ?? h;
    let hba = hbas.get(hbaId);
    if (!hba) {
      hba = facts.pci
        ? pciHba(r, pciDir(dir, facts.pci), facts.pci, 'scsi')
        : { id: h, kind: 'scsi', hosts: [], phys: [], ports: [], disks: [] };
      hbas.set(hbaId, hba);
    }
    if (procName && procName !== '<NULL>') hba.driver = procName;
    if (transport && !hba.transport) hba.transport = transport;
    hba.hosts.push(h);
    hosts.set(h, { name: h, dir, procName, transport, hbaId });
  }
  readSas(r, hbas, hosts);

  for (const c of (r.list('sys/class/nvme') ?? []).sort(byNumber)) {
    const dir = r.resolveLink(`sys/class/nvme/${c}`, c);
    if (!dir) continue;
    const facts = pathFacts(dir);
    const id = facts.pci ?? c;
    let hba = hbas.get(id);
    if (!hba) {
      hba = facts.pci
        ? pciHba(r, pciDir(dir, facts.pci), facts.pci, 'nvme')
        : { id, kind: 'nvme', hosts: [], phys: [], ports: [], disks: [] };
      hbas.set(id, hba);
    }
    hba.transport = 'nvme';
    hba.hosts.push(c);
    const ent = new Set(r.list(dir, c) ?? []);
    if (ent.has('model')) hba.model = cleanText(r.text(`${dir}/model`, c)).value;
    if (ent.has('serial')) hba.serial = cleanText(r.text(`${dir}/serial`, c)).value;
    if (ent.has('firmware_rev')) hba.firmware = cleanText(r.text(`${dir}/firmware_rev`, c)).value;
    hosts.set(c, { name: c, dir, transport: 'nvme', hbaId: id });
  }

  // virtio-blk disks hang off a virtio device on a PCI function, with no SCSI host.
  for (const rec of records) {
    const f = rec.facts;
    if (!f.virtio || f.host || !f.pci || hbas.has(f.pci)) continue;
    const hba = pciHba(r, pciDir(rec.devpath, f.pci), f.pci, 'virtio-blk');
    const vdev = rec.devpath.split('/').find((p) => /^virtio\d+$/.test(p));
    if (vdev) {
      hba.hosts.push(vdev);
      const drv = r.link(
        `${rec.devpath.slice(0, rec.devpath.indexOf(`/${vdev}/`) + vdev.length + 1)}/driver`,
      );
      if (drv) hba.driver = drv.slice(drv.lastIndexOf('/') + 1);
    }
    hba.transport = 'virtio';
    hbas.set(f.pci, hba);
  }
  return { hbas, hosts };
}

/** SAS phys and ports of each host (`phy-H:N`, `port-H:N`); expander phys (`phy-H:E:N`) are not the HBA's. */
function readSas(r: SysReader, hbas: Map<string, Hba>, hosts: Map<string, HostInfo>): void {
  const phyNames = (r.list('sys/class/sas_phy') ?? []).filter((p) => /^phy-\d+:\d+$/.test(p));
  const portNames = (r.list('sys/class/sas_port') ?? []).filter((p) => /^port-\d+:\d+$/.test(p));
  if (!phyNames.length && !portNames.length) return;
  const phyPort = new Map<string, string>();
  for (const p of portNames.sort(byNumber)) {
    const host = hosts.get(`host${p.slice(5, p.indexOf(':'))}`);
    const hba = host && hbas.get(host.hbaId);
    if (!host || !hba) continue;
    const portDir = `${host.dir}/${p}`;
    const ent = r.list(portDir, p) ?? [];
    const port: SasPort = { name: p, phys: ent.filter((e) => e.startsWith('phy-')).sort(byNumber) };
    for (const ph of port.phys) phyPort.set(ph, p);
    const att = ent.find((e) => e.startsWith('expander-') || e.startsWith('end_device-'));
    if (att) {
      const sas = cleanText(r.text(`sys/class/sas_device/${att}/sas_address`, att)).value;
      port.attached = { type: att.startsWith('expander-') ? 'expander' : 'end_device', name: att };
      if (sas) port.attached.sasAddress = sas;
    }
    hba.ports.push(port);
  }
  for (const p of phyNames.sort(byNumber)) {
    const host = hosts.get(`host${p.slice(4, p.indexOf(':'))}`);
    const hba = host && hbas.get(host.hbaId);
    if (!hba) continue;
    const dir = `sys/class/sas_phy/${p}`;
    const phy: SasPhy = { name: p };
    const sas = cleanText(r.text(`${dir}/sas_address`, p)).value;
    if (sas) phy.sasAddress = sas;
    const neg = cleanText(r.text(`${dir}/negotiated_linkrate`, p)).value;
    if (neg) phy.negotiatedLinkrate = neg;
    const max = cleanText(r.text(`${dir}/maximum_linkrate`, p)).value;
    if (max) phy.maximumLinkrate = max;
    const port = phyPort.get(p);
    if (port) phy.port = port;
    hba.phys.push(phy);
  }
}

/**
 * Order `host10` after `host9`, `phy-0:10` after `phy-0:9`. The collator is made on first use:
 * an Intl.Collator maps ICU's collation data (about 3 MB resident) into every process that loads
 * this module, the agent included, whether or not it ever sorts.
 */
let collator: Intl.Collator | undefined;
export const byNumber = (a: string, b: string): number => {
  collator ??= new Intl.Collator('en', { numeric: true });
  return collator.compare(a, b);
};
