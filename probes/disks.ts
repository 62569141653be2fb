/**
 * Assembles the disk list from raw block records (pure, in memory: the incremental refresh
 * re-runs it after re-reading one record). Chooses which /sys/block entries are disks the way
 * lsblk chooses its top-level devices (RAM disks, hidden NVMe paths, unbacked empty loops and
 * stacked devices are not), folds the paths of one disk together (same WWN through two SAS
 * ports, dm-multipath, NVMe multipath) and gives each disk a stable id.
 */
import type { BlockRecord } from './block.js';
import type { EnclosureIndex } from './enclosure.js';
import type { HbaIndex } from './hba.js';
import type { ProbeWarning } from './sysfs.js';
import type { Disk, DiskPath, DiskType, EnclosureRef, Transport } from './types.js';

export interface AssembleContext {
  hbas?: HbaIndex;
  enclosures?: EnclosureIndex;
  /** Links for devices without a udev record (from a /dev/disk/by-* scan). */
  linksFor?: (name: string) => string[] | undefined;
  /** Per-path SCSI details (SAS address, state), asked only for disks with several paths. */
  pathDetails?: (rec: BlockRecord) => Pick<DiskPath, 'sasAddress' | 'state'>;
  /** Holders per disk when already known (incremental assembly of a few records). */
  holders?: Map<string, string[]>;
  warnings: ProbeWarning[];
}

const RAM_MAJOR = '1:';
const LOOP_MAJOR = '7:';

/** Why a record is not a disk of its own, or undefined when it is one. */
export function notADisk(rec: BlockRecord): string | undefined {
  if (rec.devno?.startsWith(RAM_MAJOR)) return 'RAM disk';
  if (rec.hidden) return 'hidden (a path of a multipath NVMe namespace)';
  if (rec.devno?.startsWith(LOOP_MAJOR) && !rec.size && !rec.loopBacked)
    return 'loop device without backing file';
  if (rec.slaves.length && !isMpath(rec)) return 'stacked device (holder of other block devices)';
  return undefined;
}

const isMpath = (rec: BlockRecord) => !!rec.dmUuid?.startsWith('mpath-') && rec.slaves.length > 0;

export function transportOf(rec: BlockRecord, hbas?: HbaIndex): Transport | undefined {
  const t = rec.facts.transport;
  if (t === 'usb' || t === 'sata' || t === 'nvme') return t;
  const host = rec.facts.host ? hbas?.hosts.get(rec.facts.host) : undefined;
  return host?.transport ?? t;
}

function hbaOf(rec: BlockRecord, hbas?: HbaIndex): string | undefined {
  if (!hbas) return undefined;
  const key = rec.facts.host ?? rec.facts.nvmeCtrl;
  const h = key ? hbas.hosts.get(key) : undefined;
  if (h) return h.hbaId;
  return rec.facts.pci && hbas.hbas.has(rec.facts.pci) ? rec.facts.pci : undefined;
}

function typeOf(rec: BlockRecord): DiskType {
  if (rec.devno?.startsWith(LOOP_MAJOR)) return 'loop';
  if (isMpath(rec)) return 'mpath';
  if (rec.name.startsWith('dm-')) return 'dm';
  if (rec.scsiType === 5 || rec.name.startsWith('sr')) return 'rom';
  return 'disk';
}

function pathOf(rec: BlockRecord, ctx: AssembleContext, several: boolean): DiskPath {
  const p: DiskPath = { name: rec.name, path: `/dev/${rec.name}` };
  if (rec.facts.hctl) p.hctl = rec.facts.hctl;
  const hba = hbaOf(rec, ctx.hbas);
  if (hba) p.hba = hba;
  const more = several && rec.facts.scsiDevice && ctx.pathDetails ? ctx.pathDetails(rec) : {};
  const sas = rec.sasAddress ?? more.sasAddress;
  if (sas) p.sasAddress = sas;
  const state = rec.state ?? more.state;
  if (state) p.state = state;
  return p;
}

/** Holders of each disk, from the stacked devices' slaves (a partition's holder is its disk's). */
export function holdersOf(records: readonly BlockRecord[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let partOf: Map<string, string> | undefined;
  for (const r of records) {
    for (const s of r.slaves) {
      if (!partOf) {
        partOf = new Map();
        for (const d of records) for (const p of d.partitions) partOf.set(p.name, d.name);
      }
      const disk = partOf.get(s) ?? s;
      const l = out.get(disk);
      if (l) l.push(r.name);
      else out.set(disk, [r.name]);
    }
  }
  return out;
}

const BUS_PREFIX: Partial<Record<Transport, string>> = {
  sata: 'ata',
  nvme: 'nvme',
  virtio: 'virtio',
  usb: 'usb',
};
const BYID_ORDER = ['ata-', 'nvme-', 'scsi-', 'virtio-', 'usb-', 'mmc-'];

function linksOf(rec: BlockRecord, ctx: AssembleContext): string[] {
  if (rec.udev) return rec.udev.links;
  return ctx.linksFor?.(rec.name) ?? [];
}

/** A stable id: the WWN, else the best by-id name, else one built as udev would, else a path id. */
function idOf(
  rec: BlockRecord,
  t: Transport | undefined,
  byId: string[],
  wwn: string | undefined,
  serial: string | undefined,
  model: string | undefined,
): Pick<Disk, 'id' | 'idSource'> {
  if (wwn) return { id: `wwn-${wwn}`, idSource: 'wwn' };
  const names = byId.map((l) => l.slice(l.lastIndexOf('/') + 1)).filter((n) => !n.startsWith('wwn-'));
  for (const pre of BYID_ORDER) {
    const n = names.find((x) => x.startsWith(pre));
    if (n) return { id: n, idSource: 'by-id' };
  }
  if (names[0]) return { id: names[0], idSource: 'by-id' };
  if (serial) {
    const bus = (t && BUS_PREFIX[t]) ?? 'scsi';
    const body = bus === 'virtio' || !model ? serial : `${model}_${serial}`;
    return { id: `${bus}-${body.replace(/\s+/g, '_')}`, idSource: 'serial' };
  }
  const idPath = rec.udev?.props['ID_PATH'];
  if (idPath) return { id: `path-${idPath}`, idSource: 'path' };
  if (rec.facts.virtual) return { id: `virtual-${rec.name}`, idSource: 'path' };
  const tail = rec.facts.hctl ? `-${rec.facts.hctl}` : rec.facts.nvmeCtrl ? `-${rec.name}` : '';
  return { id: `path-${rec.facts.pci ? `pci-${rec.facts.pci}` : rec.name}${tail}`, idSource: 'path' };
}

export function assembleDisks(records: readonly BlockRecord[], ctx: AssembleContext): Disk[] {
  const byName = new Map(records.map((r) => [r.name, r]));
  const consumed = new Set<string>();
  // dm-multipath: the dm device is the disk, its slaves are its paths.
  const mpathOf = new Map<string, BlockRecord>();
  for (const r of records) {
    if (isMpath(r)) for (const s of r.slaves) if (byName.has(s)) mpathOf.set(s, r);
  }
  // Same WWN on several SCSI paths without multipath: one disk, several paths. Only when
  // serial and size agree too, because some USB bridges hand every disk the same WWN.
  const groups = new Map<string, BlockRecord[]>();
  for (const r of records) {
    if (notADisk(r) || mpathOf.has(r.name) || !r.wwn || !r.facts.hctl) continue;
    const key = `${r.wwn}|${r.serial ?? ''}|${r.size ?? ''}`;
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  const wwnSeen = new Map<string, string>();
  for (const [key, g] of groups) {
    const wwn = key.slice(0, key.indexOf('|'));
    const other = wwnSeen.get(wwn);
    if (other) {
      ctx.warnings.push({
        device: g[0]!.name,
        message: `WWN ${wwn} also reported by ${other} with another serial or size: not treated as one disk`,
      });
    }
    wwnSeen.set(wwn, g[0]!.name);
  }

  const holders = ctx.holders ?? holdersOf(records);
  const disks: Disk[] = [];
  // Records come in kernel order (the inventory keeps them sorted).
  for (const rec of records) {
    if (consumed.has(rec.name) || notADisk(rec) || mpathOf.has(rec.name)) continue;
    let pathRecs: BlockRecord[] = [rec];
    let primary = rec;
    if (isMpath(rec)) {
      pathRecs = rec.slaves.map((s) => byName.get(s)).filter((x): x is BlockRecord => !!x);
      pathRecs.sort((a, b) => kernelOrder(a.name, b.name));
      primary = pathRecs[0] ?? rec;
    } else if (rec.wwn && rec.facts.hctl) {
      const g = groups.get(`${rec.wwn}|${rec.serial ?? ''}|${rec.size ?? ''}`);
      if (g && g.length > 1) pathRecs = g;
    } else if (rec.nvmePaths.length) {
      pathRecs = rec.nvmePaths.map((s) => byName.get(s)).filter((x): x is BlockRecord => !!x);
    }
    for (const p of pathRecs) consumed.add(p.name);
    disks.push(buildDisk(rec, primary, pathRecs, holders.get(rec.name) ?? [], ctx));
  }
  dedupeIds(disks, ctx);
  return disks;
}

/** One disk object, every field assigned at once (one object shape: cheap to build and to diff). */
function buildDisk(
  rec: BlockRecord,
  primary: BlockRecord,
  pathRecs: BlockRecord[],
  holders: string[],
  ctx: AssembleContext,
): Disk {
  const t = transportOf(primary, ctx.hbas);
  let links = linksOf(rec, ctx);
  if (pathRecs.length > 1 || primary !== rec) {
    links = [...new Set(pathRecs.flatMap((p) => linksOf(p, ctx)).concat(links))];
  }
  const byId: string[] = [];
  const byPath: string[] = [];
  for (const l of links) {
    if (l.startsWith('disk/by-id/')) byId.push(`/dev/${l}`);
    else if (l.startsWith('disk/by-path/')) byPath.push(`/dev/${l}`);
  }
  const wwn = rec.wwn ?? primary.wwn;
  const serial = rec.serial ?? primary.serial;
  const model = rec.model ?? primary.model;
  const { id, idSource } = idOf(primary, t, byId, wwn, serial, model);
  let enclosure: EnclosureRef | undefined;
  if (ctx.enclosures) {
    for (const p of pathRecs) {
      enclosure = p.facts.scsiDevice ? ctx.enclosures.bySCSIDevice.get(p.facts.scsiDevice) : undefined;
      if (enclosure) break;
    }
  }
  const several = pathRecs.length > 1;
  return {
    id,
    idSource,
    name: rec.name,
    path: isMpath(rec) && rec.dmName ? `/dev/mapper/${rec.dmName}` : `/dev/${rec.name}`,
    devno: rec.devno ?? '',
    type: typeOf(rec),
    size: rec.size ?? 0,
    model,
    vendor: rec.vendor ?? primary.vendor,
    revision: rec.revision ?? primary.revision,
    serial,
    wwn,
    rotational: rec.rotational ?? primary.rotational,
    removable: rec.removable ?? false,
    readOnly: rec.readOnly ?? false,
    transport: t,
    logicalSectorSize: rec.logicalSectorSize ?? primary.logicalSectorSize,
    physicalSectorSize: rec.physicalSectorSize ?? primary.physicalSectorSize,
    hctl: primary.facts.hctl,
    byId,
    byPath,
    hba: hbaOf(primary, ctx.hbas),
    enclosure,
    partitions: rec.partitions.map((p) => ({
      name: p.name,
      path: p.path,
      number: p.number,
      start: p.start,
      size: p.size,
      byId: byId.map((l) => `${l}-part${p.number}`),
    })),
    paths: pathRecs.map((p) => pathOf(p, ctx, several)),
    holders,
    virtual: rec.facts.virtual,
    devpath: rec.devpath.startsWith('sys/') ? rec.devpath.slice(3) : `/${rec.devpath}`,
  };
}

/** Two disks must never share an id (a lookup would return the wrong one): qualify both. */
function dedupeIds(disks: Disk[], ctx: AssembleContext): void {
  const seen = new Map<string, Disk[]>();
  for (const d of disks) {
    const l = seen.get(d.id);
    if (l) l.push(d);
    else seen.set(d.id, [d]);
  }
  for (const [id, list] of seen) {
    if (list.length < 2) continue;
    ctx.warnings.push({
      message: `id ${id} is shared by ${list.map((d) => d.name).join(', ')}: ids qualified by path`,
    });
    for (const d of list) {
      const bp = d.byPath[0];
      d.id = `${id}@${bp ? bp.slice(bp.lastIndexOf('/') + 1) : d.devpath}`;
    }
  }
}

/** Kernel order: sdz before sdaa, nvme2n1 before nvme10n1. */
export function kernelOrder(a: string, b: string): number {
  const ka = a.replace(/^(sd|vd|xvd|hd)([a-z]+)/, (_m, p: string, l: string) => `${p}${l.length}${l}`);
  const kb = b.replace(/^(sd|vd|xvd|hd)([a-z]+)/, (_m, p: string, l: string) => `${p}${l.length}${l}`);
  return ka.localeCompare(kb, 'en', { numeric: true });
}
