/**
 * Reads what sysfs and the udev database say about one entry of /sys/block: the raw record
 * the disk list is assembled from. One record per kernel device, so a udev event for `sdq`
 * re-reads `sdq` only (the incremental refresh).
 */
import { parseUdevDb, type UdevRecord } from './parse-udev-db.js';
import { normaliseWwn, type PathFacts, pathFacts } from './scsi-path.js';
import { cleanText, type SysReader, unescapeUdev } from './sysfs.js';
import type { Partition } from './types.js';
import { decodeVpd80, decodeVpd83 } from './vpd.js';

export interface BlockRecord {
  name: string;
  /** Device directory relative to the sysroot (`sys/devices/…/block/sda`). */
  devpath: string;
  devno?: string;
  size?: number;
  readOnly?: boolean;
  removable?: boolean;
  hidden?: boolean;
  rotational?: boolean;
  logicalSectorSize?: number;
  physicalSectorSize?: number;
  model?: string;
  vendor?: string;
  revision?: string;
  serial?: string;
  wwn?: string;
  /** SCSI peripheral device type (0 disk, 5 CD/DVD, 14 RBC). */
  scsiType?: number;
  state?: string;
  sasAddress?: string;
  facts: PathFacts;
  udev?: UdevRecord;
  partitions: Partition[];
  holders: string[];
  slaves: string[];
  dmUuid?: string;
  dmName?: string;
  loopBacked?: boolean;
  /** Hidden per-controller paths of an NVMe multipath head (`nvme0c0n1`). */
  nvmePaths: string[];
}

export interface BlockContext {
  /** run/udev/data exists: a missing record is then worth a warning. */
  udevDb: boolean;
}

const NVME_PATH_RE = /^nvme\d+c\d+n\d+$/;

export function readBlock(r: SysReader, name: string, ctx: BlockContext): BlockRecord | undefined {
  const classRel = `sys/block/${name}`;
  let devpath = r.resolveLink(classRel, name);
  let entries = devpath ? r.list(devpath, name) : undefined;
  if (!devpath || !entries) {
    // Pre-2.6.25 layout (or a hand-made tree): the class entry is the device directory itself.
    entries = r.list(classRel, name);
    if (!entries) {
      r.warn('skipped: device directory missing or unreadable (dangling link?)', classRel, name);
      return undefined;
    }
    devpath = classRel;
  }
  const has = new Set(entries);
  const rec: BlockRecord = {
    name,
    devpath,
    facts: pathFacts(devpath),
    partitions: [],
    holders: [],
    slaves: [],
    nvmePaths: [],
  };
  rec.devno = readDevno(r, devpath, has, name);
  const sectors = has.has('size') ? r.attrInt(devpath, 'size', name) : undefined;
  if (sectors !== undefined) rec.size = sectors * 512;
  else r.warn('size unknown', `${devpath}/size`, name);
  if (has.has('ro')) rec.readOnly = r.attrFlag(devpath, 'ro', name);
  if (has.has('removable')) rec.removable = r.attrFlag(devpath, 'removable', name);
  if (NVME_PATH_RE.test(name) && has.has('hidden')) rec.hidden = r.flag(`${devpath}/hidden`, name);
  if (has.has('queue')) {
    const queue = `${devpath}/queue`;
    rec.rotational = r.attrFlag(queue, 'rotational', name);
    rec.logicalSectorSize = r.attrInt(queue, 'logical_block_size', name);
    rec.physicalSectorSize = r.attrInt(queue, 'physical_block_size', name);
  }
  // Holders are derived from the stacked devices' `slaves` (lsblk --inverse does the same):
  // a few dm/md devices instead of one directory listing per disk.
  if (name.startsWith('dm-') || name.startsWith('md')) {
    rec.slaves = r.list(`${devpath}/slaves`, name) ?? [];
    if (has.has('dm')) {
      rec.dmUuid = r.text(`${devpath}/dm/uuid`, name)?.trim();
      rec.dmName = r.text(`${devpath}/dm/name`, name)?.trim();
    }
  }
  if (name.startsWith('loop'))
    rec.loopBacked = has.has('loop') && !!r.text(`${devpath}/loop/backing_file`, name);
  if (has.has('multipath')) rec.nvmePaths = (r.list(`${devpath}/multipath`, name) ?? []).sort();

  if (rec.devno) rec.udev = readUdev(r, `b${rec.devno}`, ctx, name);
  // With a complete udev record the device's own attributes add nothing (udev copied them
  // from there): skipping them halves the files read per disk.
  const vpd = has.has('device') && !udevComplete(rec.udev) ? readDevice(r, rec, has) : undefined;
  applyUdev(r, rec, vpd);

  for (const [e, number] of partitionEntries(name, entries)) {
    const p = readPartition(r, `${devpath}/${e}`, e, number);
    if (p) rec.partitions.push(p);
  }
  const parts = rec.partitions;
  // usually listed in order already; sort only when not (Array#sort allocates)
  for (let i = 1; i < parts.length; i++) {
    if (parts[i - 1]!.number > parts[i]!.number) {
      parts.sort((a, b) => a.number - b.number);
      break;
    }
  }
  return rec;
}

const PART_SUFFIX_RE = /^p?(\d+)$/;

/** The partitions among a disk directory's entries (`sda1`, `nvme0n1p2`), with their numbers. */
function partitionEntries(name: string, entries: string[]): [string, number][] {
  const out: [string, number][] = [];
  const base = name.length;
  for (const e of entries) {
    if (e.length > base && e.startsWith(name)) {
      const m = PART_SUFFIX_RE.exec(e.slice(base));
      if (m) out.push([e, Number(m[1])]);
    }
  }
  return out;
}

/**
 * Read ahead, in a few batches, what `readBlock` will read for these devices: the class
 * links, the device directories, their attributes and partitions, then the udev records
 * (named by the `dev` attributes just read). Only an optimisation: whatever is not prefetched
 * (a device's own attributes when udev lacks ids, dm/md/loop extras) is read directly, and a
 * test checks that a probe of the synthetic tree needs no direct read of a prefetched kind.
 */
export function prefetchBlocks(r: SysReader, names: string[], ctx: BlockContext): void {
  const classRels = names.map((n) => `sys/block/${n}`);
  if (!r.prefetch('link', classRels)) return;
  const dirs = classRels.map((c) => r.peekResolved(c) ?? c);
  r.prefetch('list', dirs);
  // one (directory, name) pair per file: no path strings are built for them
  const fileDirs: string[] = [];
  const fileNames: string[] = [];
  const add = (dir: string, name: string) => {
    fileDirs.push(dir);
    fileNames.push(name);
  };
  const withDev: string[] = [];
  for (let i = 0; i < names.length; i++) {
    const dir = dirs[i]!;
    const entries = r.peekList(dir);
    if (!entries) continue;
    const has = new Set(entries);
    if (has.has('dev')) {
      withDev.push(dir);
      add(dir, 'dev');
    }
    for (const a of BLOCK_ATTRS) if (has.has(a)) add(dir, a);
    if (has.has('queue')) {
      const queue = `${dir}/queue`;
      for (const q of QUEUE_ATTRS) add(queue, q);
    }
    for (const [e] of partitionEntries(names[i]!, entries)) {
      const part = `${dir}/${e}`;
      add(part, 'start');
      add(part, 'size');
    }
  }
  r.prefetch('read', fileDirs, fileNames);
  if (!ctx.udevDb) return;
  const udevDirs: string[] = [];
  const udevKeys: string[] = [];
  for (const dir of withDev) {
    const d = r.peekAttr(dir, 'dev')?.trim();
    if (d && /^\d+:\d+$/.test(d)) {
      udevDirs.push('run/udev/data');
      udevKeys.push(`b${d}`);
    }
  }
  r.prefetch('read', udevDirs, udevKeys);
}

const BLOCK_ATTRS = ['size', 'ro', 'removable'];
const QUEUE_ATTRS = ['rotational', 'logical_block_size', 'physical_block_size'];

/** The udev record names the device fully: model and serial (or WWN). */
function udevComplete(u: UdevRecord | undefined): boolean {
  if (!u) return false;
  const p = u.props;
  return (
    !!(p['ID_MODEL'] || p['ID_MODEL_ENC']) &&
    !!(p['ID_SERIAL_SHORT'] || p['ID_SCSI_SERIAL'] || p['ID_WWN'] || p['ID_SERIAL'])
  );
}

function readDevno(r: SysReader, dir: string, has: Set<string>, name: string): string | undefined {
  if (has.has('dev')) {
    const d = r.attr(dir, 'dev', name)?.trim();
    if (d && /^\d+:\d+$/.test(d)) return d;
    if (d !== undefined) r.warn(`bad dev attribute ${JSON.stringify(d.slice(0, 20))}`, `${dir}/dev`, name);
  } else r.warn('no dev attribute: udev data cannot be matched', dir, name);
  return undefined;
}

interface VpdPlace {
  dir: string;
  pg80: boolean;
  pg83: boolean;
}

/**
 * Attributes of the device behind the block device: a SCSI device, an NVMe controller, a
 * virtio device. Returns where the SCSI VPD pages are, read later only if udev lacks the ids.
 */
function readDevice(r: SysReader, rec: BlockRecord, has: Set<string>): VpdPlace | undefined {
  const name = rec.name;
  const dev = r.resolveLink(`${rec.devpath}/device`, name);
  const devEntries = dev ? r.list(dev, name) : undefined;
  if (!dev || !devEntries) {
    r.warn('device link dangling', `${rec.devpath}/device`, name);
    return undefined;
  }
  const d = new Set(devEntries);
  const text = (attr: string, dir = dev) => {
    const c = cleanText(r.text(`${dir}/${attr}`, name));
    if (c.odd) r.warn(`odd bytes in ${attr} replaced`, `${dir}/${attr}`, name);
    return c.value;
  };
  const isScsi = d.has('scsi_level') || d.has('type');
  if (isScsi) {
    if (d.has('vendor')) rec.vendor = text('vendor');
    if (d.has('model')) rec.model = text('model');
    if (d.has('rev')) rec.revision = text('rev');
    if (d.has('type')) rec.scsiType = r.int(`${dev}/type`, name);
    if (d.has('state')) rec.state = text('state');
    if (d.has('sas_address')) rec.sasAddress = text('sas_address');
    if (d.has('wwid')) rec.wwn = normaliseWwn(r.text(`${dev}/wwid`, name)?.replace(/^naa\./, ''));
    return { dir: dev, pg80: d.has('vpd_pg80'), pg83: d.has('vpd_pg83') };
  }
  if (rec.facts.nvmeCtrl || d.has('firmware_rev')) {
    if (d.has('model')) rec.model = text('model');
    if (d.has('serial')) rec.serial = text('serial');
    if (d.has('firmware_rev')) rec.revision = text('firmware_rev');
    if (has.has('wwid')) rec.wwn = normaliseWwn(r.text(`${rec.devpath}/wwid`, name));
  } else if (has.has('serial')) {
    // virtio-blk: the serial sits on the block device itself (virtio_blk's `serial` attribute).
    rec.serial = text('serial', rec.devpath);
  }
  return undefined;
}

export function readUdev(
  r: SysReader,
  key: string,
  ctx: BlockContext,
  name: string,
  quiet = false,
): UdevRecord | undefined {
  if (!ctx.udevDb) return undefined;
  const t = r.attr('run/udev/data', key, name);
  if (t === undefined) {
    if (!quiet)
      r.warn('no udev database record: serial, WWN and links from sysfs only', `run/udev/data/${key}`, name);
    return undefined;
  }
  const rec = parseUdevDb(t);
  if (rec.bad) r.warn(`udev record has ${rec.bad} damaged line(s)`, `run/udev/data/${key}`, name);
  return rec;
}

/** Fill the gaps sysfs leaves from the udev database, then from VPD pages. */
function applyUdev(r: SysReader, rec: BlockRecord, vpd: VpdPlace | undefined): void {
  const p = rec.udev?.props;
  if (p) {
    // lsblk's order; virtio-blk rules set only ID_SERIAL (the bare serial).
    const serial = p['ID_SCSI_SERIAL'] ?? p['ID_SERIAL_SHORT'] ?? (p['ID_BUS'] ? undefined : p['ID_SERIAL']);
    if (serial) rec.serial = cleanText(serial).value;
    const wwn = normaliseWwn(p['ID_WWN_WITH_EXTENSION'] ?? p['ID_WWN']);
    if (wwn) rec.wwn = wwn;
    // ata_id's model is the full ATA string; the SCSI INQUIRY product field is cut to 16 bytes.
    const model = p['ID_MODEL_ENC'] ? unescapeUdev(p['ID_MODEL_ENC']) : p['ID_MODEL'];
    const m = cleanText(model).value;
    if (m && (!rec.model || m.length > rec.model.length)) rec.model = m;
    if (!rec.vendor && p['ID_VENDOR']) rec.vendor = cleanText(p['ID_VENDOR']).value;
    if (!rec.revision && p['ID_REVISION']) rec.revision = cleanText(p['ID_REVISION']).value;
    if (rec.scsiType === undefined && p['ID_TYPE'] === 'cd') rec.scsiType = 5;
  }
  if (vpd && !rec.serial && vpd.pg80) rec.serial = decodeVpd80(r.bytes(`${vpd.dir}/vpd_pg80`, rec.name));
  if (vpd && !rec.wwn && vpd.pg83) rec.wwn = decodeVpd83(r.bytes(`${vpd.dir}/vpd_pg83`, rec.name)).naa;
}

function readPartition(r: SysReader, dir: string, name: string, number: number): Partition | undefined {
  const start = r.attrInt(dir, 'start', name);
  const size = r.attrInt(dir, 'size', name);
  if (start === undefined || size === undefined) {
    r.warn('partition skipped: start/size unreadable', dir, name);
    return undefined;
  }
  // by-id links of partitions are the disk's links plus `-partN` (60-persistent-storage.rules),
  // filled in when the disk is assembled: no udev record read per partition.
  return { name, path: `/dev/${name}`, number, start: start * 512, size: size * 512, byId: [] };
}
