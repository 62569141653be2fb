/**
 * The hardware inventory of one sysroot, kept in memory and refreshed incrementally: a udev
 * event for `sdq` re-reads `sdq` and re-assembles the disk list in memory; nothing else is
 * read. Pure of the agent (the hardware service wraps it with events and RPC).
 */
import { type BlockContext, type BlockRecord, prefetchBlocks, readBlock } from './block.js';
import { assembleDisks, holdersOf } from './disks.js';
import { type EnclosureIndex, probeEnclosureIndex } from './enclosure.js';
import { type HbaIndex, probeHbaIndex } from './hba.js';
import { type LinkIndex, scanLinks } from './links.js';
import { type ProbeWarning, SysReader } from './sysfs.js';
import { probeTapeIndex, type TapeIndex } from './tape.js';
import type { Changer, Disk, Enclosure, Hba, TapeDrive } from './types.js';

export interface Inventory {
  disks: Disk[];
  hbas: Hba[];
  enclosures: Enclosure[];
  tapes: TapeDrive[];
  changers: Changer[];
  warnings: ProbeWarning[];
}

export interface DiskChanges {
  added: Disk[];
  removed: Disk[];
  changed: Disk[];
}

export interface TapeChanges {
  added: (TapeDrive | Changer)[];
  removed: (TapeDrive | Changer)[];
}

/** Sort key giving kernel order with a plain string compare: sdz < sdaa, nvme2n1 < nvme10n1. */
export function orderKey(name: string): string {
  return name
    .replace(/^(sd|vd|xvd|hd)([a-z]+)/, (_m, p: string, l: string) => `${p}${l.length}${l}`)
    .replace(/\d+/g, (d) => d.padStart(8, '0'));
}

/** Block devices from which a full refresh reads ahead in batches. */
const PREFETCH_MIN = 64;
const PREFETCH_SLICE = 128;

export interface InventoryOptions {
  /**
   * Read block devices ahead in batches through the native reader: `auto` (default) from
   * PREFETCH_MIN devices, `always`, or `never` (every read made directly, as without the addon).
   */
  readAhead?: 'auto' | 'always' | 'never';
}

export class HardwareInventory {
  readonly sysroot: string;
  private records = new Map<string, BlockRecord>();
  private order: { key: string; name: string }[] = [];
  private recordWarnings = new Map<string, ProbeWarning[]>();
  private globalWarnings: ProbeWarning[] = [];
  private hbaIx: HbaIndex = { hbas: new Map(), hosts: new Map() };
  private enclIx: EnclosureIndex | undefined;
  private tapeIx: TapeIndex = { drives: [], changers: [] };
  private tapeWarnings: ProbeWarning[] = [];
  private links: LinkIndex | undefined;
  private ctx: BlockContext = { udevDb: false };
  private disks: Disk[] = [];
  /** Kernel name of every path → the disk it belongs to. */
  private diskOf = new Map<string, Disk>();
  private holders = new Map<string, string[]>();
  private assembleWarnings: ProbeWarning[] = [];
  /** Reads the last full refresh made one by one for block devices (the rest came in batches). */
  blockDirectReads = 0;

  constructor(
    sysroot: string,
    private readonly opts: InventoryOptions = {},
  ) {
    this.sysroot = sysroot;
  }

  /** Read everything. */
  refreshAll(): Inventory {
    const r = new SysReader(this.sysroot);
    this.ctx = { udevDb: r.isDir('run/udev/data') };
    const names = r.list('sys/block');
    if (names === undefined) r.warn('no block devices: sys/block missing', 'sys/block');
    if (!this.ctx.udevDb) {
      r.warn('udev database (run/udev/data) absent: serials, WWNs and links come from sysfs and /dev only');
    }
    this.records.clear();
    this.recordWarnings.clear();
    // A large tree is read ahead in batches by the native reader, a slice of devices at a
    // time, so that what is read ahead is used and dropped while young (cheap to collect).
    const all = names ?? [];
    const mode = this.opts.readAhead ?? 'auto';
    const ahead = mode === 'always' || (mode === 'auto' && all.length >= PREFETCH_MIN);
    for (let i = 0; i < all.length; i++) {
      const n = all[i]!;
      if (ahead && i % PREFETCH_SLICE === 0) {
        r.forget();
        prefetchBlocks(r, all.slice(i, i + PREFETCH_SLICE), this.ctx);
      }
      const before = r.warnings.length;
      const rec = readBlock(r, n, this.ctx);
      const w = r.warnings.splice(before);
      if (w.length) this.recordWarnings.set(n, w);
      if (rec) this.records.set(n, rec);
    }
    r.forget();
    this.blockDirectReads = r.direct;
    this.order = [...this.records.keys()].map((name) => ({ key: orderKey(name), name }));
    this.order.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.readTopology(r);
    this.globalWarnings = r.warnings.splice(0);
    this.assemble();
    return this.snapshot();
  }

  /** HBAs, enclosures, links and tapes: everything that is not a per-disk record. */
  private readTopology(r: SysReader): void {
    const recs = [...this.records.values()];
    this.hbaIx = probeHbaIndex(r, recs);
    this.enclIx = probeEnclosureIndex(r, (pci, host) => (host && this.hbaIx.hosts.get(host)?.hbaId) ?? pci);
    this.links = undefined;
    this.readTapes(r);
  }

  private readTapes(r: SysReader): void {
    const before = r.warnings.length;
    const skipHctl = new Set<string>();
    for (const rec of this.records.values()) if (rec.facts.hctl) skipHctl.add(rec.facts.hctl);
    this.tapeIx = probeTapeIndex(r, {
      ...this.ctx,
      hbas: this.hbaIx,
      skipHctl,
      linksFor: (n) => this.linksFor(n),
    });
    this.tapeWarnings = r.warnings.splice(before);
  }

  /** Links of a device the udev database does not know, from a scan of /dev/*\/by-* (done once, lazily). */
  private linksFor(name: string): string[] | undefined {
    if (!this.links) {
      const r = new SysReader(this.sysroot);
      const known = new Set<string>();
      for (const rec of this.records.values()) {
        known.add(rec.name);
        for (const p of rec.partitions) known.add(p.name);
      }
      for (const n of r.list('sys/class/scsi_tape') ?? []) known.add(n);
      for (const n of r.list('sys/class/scsi_generic') ?? []) known.add(n);
      for (const n of r.list('sys/class/scsi_changer') ?? []) known.add(n);
      this.links = scanLinks(r, (n) => known.has(n));
      this.globalWarnings.push(...r.warnings);
    }
    return this.links.byTarget.get(name);
  }

  private assembleCtx(warnings: ProbeWarning[], holders?: Map<string, string[]>) {
    return {
      hbas: this.hbaIx,
      enclosures: this.enclIx,
      linksFor: (n: string) => this.linksFor(n),
      pathDetails: (rec: BlockRecord) => {
        const r = new SysReader(this.sysroot);
        const dir = rec.facts.scsiDevice!;
        const sas = r.text(`${dir}/sas_address`, rec.name)?.trim();
        const state = r.text(`${dir}/state`, rec.name)?.trim();
        return { ...(sas ? { sasAddress: sas } : {}), ...(state ? { state } : {}) };
      },
      holders,
      warnings,
    };
  }

  /** Assemble every disk and rebuild the lookup maps. */
  private assemble(): void {
    const warnings: ProbeWarning[] = [];
    const ordered = this.order.map((o) => this.records.get(o.name)!);
    this.holders = holdersOf(ordered);
    this.disks = assembleDisks(ordered, this.assembleCtx(warnings, this.holders));
    this.assembleWarnings = warnings;
    this.diskOf.clear();
    for (const d of this.disks) for (const p of d.paths) this.diskOf.set(p.name, d);
    for (const d of this.disks) this.diskOf.set(d.name, d);
  }

  /**
   * Re-read one block device after a udev event (`add`, `change`, `remove`: the record is
   * re-read, or dropped when its directory is gone) and report which disks changed. Only the
   * disks that device belongs to (before and after) are rebuilt; stacked devices (dm, md,
   * NVMe multipath heads) rebuild the whole list, as they change which records are disks.
   */
  refreshBlock(name: string): DiskChanges {
    const r = new SysReader(this.sysroot);
    const prev = this.records.get(name);
    const rec = r.list(`sys/block/${name}`) !== undefined ? readBlock(r, name, this.ctx) : undefined;
    if (rec) {
      this.records.set(name, rec);
      if (!prev) this.insertOrder(name);
    } else if (prev) {
      this.records.delete(name);
      this.order = this.order.filter((o) => o.name !== name);
    }
    if (r.warnings.length) this.recordWarnings.set(name, r.warnings);
    else this.recordWarnings.delete(name);
    if (rec && !rec.udev) this.links = undefined; // a new device may only be in /dev/disk

    const stacked = (x?: BlockRecord) => !!x && (x.slaves.length > 0 || x.nvmePaths.length > 0 || !!x.hidden);
    if (stacked(prev) || stacked(rec) || this.holders.has(name)) {
      const old = this.disks;
      this.assemble();
      return diffDisks(old, this.disks, name);
    }
    // The disks this device was part of, and the records that share its WWN now.
    const names = new Set<string>([name]);
    const oldDisks = new Set<Disk>();
    const od = this.diskOf.get(name);
    if (od) {
      oldDisks.add(od);
      for (const p of od.paths) names.add(p.name);
    }
    if (rec?.wwn) {
      for (const x of this.records.values()) if (x.wwn === rec.wwn) names.add(x.name);
    }
    for (const n of names) {
      const d = this.diskOf.get(n);
      if (d) {
        oldDisks.add(d);
        for (const p of d.paths) names.add(p.name);
      }
    }
    const subset = [...names]
      .map((n) => this.records.get(n))
      .filter((x): x is BlockRecord => !!x)
      .sort((a, b) => (orderKey(a.name) < orderKey(b.name) ? -1 : 1));
    const warnings: ProbeWarning[] = [];
    const fresh = assembleDisks(subset, this.assembleCtx(warnings, this.holders));
    const kept = this.disks.filter((d) => !oldDisks.has(d));
    const keptIds = new Set(kept.map((d) => d.id));
    if (warnings.length || fresh.some((d) => keptIds.has(d.id))) {
      // An id collision or a WWN conflict involves disks outside the subset: rebuild all.
      const old = this.disks;
      this.assemble();
      return diffDisks(old, this.disks, name);
    }
    for (const d of oldDisks) for (const p of d.paths) this.diskOf.delete(p.name);
    for (const d of oldDisks) this.diskOf.delete(d.name);
    for (const d of fresh) {
      insertSorted(kept, d);
      for (const p of d.paths) this.diskOf.set(p.name, d);
      this.diskOf.set(d.name, d);
    }
    this.disks = kept;
    return diffDisks([...oldDisks], fresh, name);
  }

  /** Re-read HBAs, enclosures and tapes (SCSI host/enclosure/tape events are rare and small). */
  refreshTopology(): TapeChanges {
    const oldIds = new Map([...this.tapeIx.drives, ...this.tapeIx.changers].map((d) => [d.id, d]));
    const r = new SysReader(this.sysroot);
    this.readTopology(r);
    this.globalWarnings = this.globalWarnings.filter((w) => w.device === undefined && w.path === undefined);
    this.globalWarnings.push(...r.warnings);
    this.assemble();
    const now = [...this.tapeIx.drives, ...this.tapeIx.changers];
    const nowIds = new Set(now.map((d) => d.id));
    return {
      added: now.filter((d) => !oldIds.has(d.id)),
      removed: [...oldIds.values()].filter((d) => !nowIds.has(d.id)),
    };
  }

  private insertOrder(name: string): void {
    const key = orderKey(name);
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.order[mid]!.key < key) lo = mid + 1;
      else hi = mid;
    }
    this.order.splice(lo, 0, { key, name });
  }

  /** Kernel name of the block device at a sysfs devpath (`/devices/…/block/sdb`), if known. */
  blockNameOf(devpath: string): string | undefined {
    const tail = devpath.slice(devpath.lastIndexOf('/') + 1);
    return this.records.has(tail) ? tail : undefined;
  }

  get enclosureDirs(): ReadonlyMap<string, string> {
    return this.enclIx?.dirs ?? new Map();
  }

  snapshot(): Inventory {
    const encl = this.enclIx;
    // Fill each slot's disk from the assembled disks (the enclosure side knows SCSI devices only).
    if (encl) {
      const byScsi = new Map<string, Disk>();
      for (const d of this.disks) {
        for (const p of d.paths) {
          const rec = this.records.get(p.name);
          if (rec?.facts.scsiDevice) byScsi.set(rec.facts.scsiDevice, d);
        }
      }
      for (const [dev, slot] of encl.slotBySCSIDevice) {
        const d = byScsi.get(dev);
        if (d) slot.disk = { id: d.id, name: d.name };
        else delete slot.disk;
      }
    }
    const hbas = [...this.hbaIx.hbas.values()];
    for (const h of hbas)
      h.disks = this.disks.filter((d) => d.paths.some((p) => p.hba === h.id)).map((d) => d.id);
    return {
      disks: this.disks,
      hbas,
      enclosures: encl?.enclosures ?? [],
      tapes: this.tapeIx.drives,
      changers: this.tapeIx.changers,
      warnings: [
        ...this.globalWarnings,
        ...[...this.recordWarnings.values()].flat(),
        ...this.assembleWarnings,
        ...this.tapeWarnings,
      ],
    };
  }

  get diskList(): readonly Disk[] {
    return this.disks;
  }
}

function insertSorted(disks: Disk[], d: Disk): void {
  const key = orderKey(d.name);
  let lo = 0;
  let hi = disks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (orderKey(disks[mid]!.name) < key) lo = mid + 1;
    else hi = mid;
  }
  disks.splice(lo, 0, d);
}

/** Disks added, removed, or changed (only disks with a path through `touched` can have changed). */
export function diffDisks(old: readonly Disk[], now: readonly Disk[], touched: string): DiskChanges {
  const oldById = new Map(old.map((d) => [d.id, d]));
  const nowById = new Map(now.map((d) => [d.id, d]));
  const added = now.filter((d) => !oldById.has(d.id));
  const removed = old.filter((d) => !nowById.has(d.id));
  const changed: Disk[] = [];
  for (const d of now) {
    const prev = oldById.get(d.id);
    if (!prev) continue;
    const involved =
      d.paths.some((p) => p.name === touched) ||
      prev.paths.some((p) => p.name === touched) ||
      d.name === touched;
    if (involved && JSON.stringify(prev) !== JSON.stringify(d)) changed.push(d);
  }
  return { added, removed, changed };
}
