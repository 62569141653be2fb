/**
 * Enclosures from /sys/class/enclosure (the kernel's ses driver): each component directory is
 * a slot with `slot`, `status`, `fault`, `locate`, `active`, `type` and a `device` link to the
 * SCSI device in it. The disk ↔ slot map is built from the enclosure side in one pass.
 */
import { pathFacts } from './scsi-path.js';
import { cleanText, type SysReader } from './sysfs.js';
import type { Enclosure, EnclosureRef, EnclosureSlot } from './types.js';

/** Entries of an enclosure directory that are not components. */
const NOT_SLOTS = new Set(['components', 'id', 'device', 'power', 'subsystem', 'uevent']);

export interface EnclosureIndex {
  enclosures: Enclosure[];
  /** SCSI device directory (relative to the sysroot) → the slot it sits in. */
  bySCSIDevice: Map<string, EnclosureRef>;
  /** Same key → the slot object, to fill in the disk once disks are known. */
  slotBySCSIDevice: Map<string, EnclosureSlot>;
  /** Enclosure id → its class directory (relative to the sysroot), for the locate write. */
  dirs: Map<string, string>;
}

export function probeEnclosureIndex(
  r: SysReader,
  hbaOfPci: (pci: string | undefined, host?: string) => string | undefined,
): EnclosureIndex {
  const ix: EnclosureIndex = {
    enclosures: [],
    bySCSIDevice: new Map(),
    slotBySCSIDevice: new Map(),
    dirs: new Map(),
  };
  for (const name of (r.list('sys/class/enclosure') ?? []).sort()) {
    const dir = r.resolveLink(`sys/class/enclosure/${name}`, name);
    const entries = dir ? r.list(dir, name) : undefined;
    if (!dir || !entries) {
      r.warn('enclosure skipped: class link dangling', `sys/class/enclosure/${name}`, name);
      continue;
    }
    // …/0:0:8:0/enclosure/0:0:8:0: the SES device is two levels up.
    const ses = dir.split('/').slice(0, -2).join('/');
    const facts = pathFacts(ses);
    const rawId = cleanText(r.text(`${dir}/id`, name)).value;
    const enc: Enclosure = {
      id: rawId ? rawId.toLowerCase() : `hctl-${facts.hctl ?? name}`,
      name,
      slots: [],
    };
    if (facts.hctl) enc.hctl = facts.hctl;
    const sesEnt = new Set(r.list(ses, name) ?? []);
    const txt = (a: string) => (sesEnt.has(a) ? cleanText(r.text(`${ses}/${a}`, name)).value : undefined);
    const vendor = txt('vendor');
    const model = txt('model');
    const rev = txt('rev');
    if (vendor) enc.vendor = vendor;
    if (model) enc.model = model;
    if (rev) enc.revision = rev;
    if (sesEnt.has('scsi_generic')) {
      const sg = r.list(`${ses}/scsi_generic`, name)?.[0];
      if (sg) enc.sg = `/dev/${sg}`;
    }
    const hba = hbaOfPci(facts.pci, facts.host);
    if (hba) enc.hba = hba;
    const comps = r.int(`${dir}/components`, name);
    if (comps !== undefined) enc.components = comps;
    if (ix.dirs.has(enc.id)) {
      r.warn(`two enclosures report id ${enc.id}; using the class name for the second`, dir, name);
      enc.id = `${enc.id}@${name}`;
    }
    ix.dirs.set(enc.id, `sys/class/enclosure/${name}`);

    for (const comp of entries) {
      if (NOT_SLOTS.has(comp)) continue;
      const cdir = `${dir}/${comp}`;
      const ce = r.list(cdir, name);
      if (!ce) continue; // a file, not a component
      const c = new Set(ce);
      const slot: EnclosureSlot = { name: comp };
      if (c.has('slot')) slot.slot = r.int(`${cdir}/slot`, name);
      const st = (a: string) => (c.has(a) ? cleanText(r.text(`${cdir}/${a}`, name)).value : undefined);
      const type = st('type');
      if (type) slot.type = type;
      const status = st('status');
      if (status) slot.status = status;
      if (c.has('fault')) slot.fault = r.flag(`${cdir}/fault`, name);
      if (c.has('locate')) slot.locate = r.flag(`${cdir}/locate`, name);
      if (c.has('active')) slot.active = r.flag(`${cdir}/active`, name);
      if (c.has('device')) {
        const target = r.resolveLink(`${cdir}/device`, name);
        if (target) {
          ix.bySCSIDevice.set(target, { id: enc.id, slot: slot.slot ?? comp });
          ix.slotBySCSIDevice.set(target, slot);
        }
      }
      enc.slots.push(slot);
    }
    enc.slots.sort((a, b) => (a.slot ?? 1e9) - (b.slot ?? 1e9) || a.name.localeCompare(b.name));
    ix.enclosures.push(enc);
  }
  return ix;
}
