/**
 * Tape drives (SCSI peripheral type 1, SSC) and medium changers (type 8, SMC) from
 * /sys/bus/scsi/devices: vendor, model, revision, serial, H:C:T:L and their st/nst, sch and sg
 * nodes. Keyed by WWN or serial (PBS `linux_list_drives.rs` does the same with
 * /dev/tape/by-id), because `nst0` and `sg5` are renumbered whenever the bus is rescanned.
 */
import type { BlockContext } from './block.js';
import { readUdev } from './block.js';
import type { HbaIndex } from './hba.js';
import { byNumber } from './hba.js';
import type { UdevRecord } from './parse-udev-db.js';
import { normaliseWwn, pathFacts } from './scsi-path.js';
import { cleanText, type SysReader } from './sysfs.js';
import type { Changer, TapeDrive, Transport } from './types.js';
import { decodeVpd80, decodeVpd83 } from './vpd.js';

/** SPC-4 table 49, peripheral device type. */
export const PDT_TAPE = 1;
export const PDT_CHANGER = 8;

const HCTL_RE = /^\d+:\d+:\d+:\d+$/;

export interface TapeIndex {
  drives: TapeDrive[];
  changers: Changer[];
}

export function probeTapeIndex(
  r: SysReader,
  ctx: BlockContext & {
    hbas?: HbaIndex;
    skipHctl?: Set<string>;
    linksFor?: (name: string) => string[] | undefined;
  },
): TapeIndex {
  const out: TapeIndex = { drives: [], changers: [] };
  for (const h of (r.list('sys/bus/scsi/devices') ?? []).filter((n) => HCTL_RE.test(n)).sort(byNumber)) {
    if (ctx.skipHctl?.has(h)) continue;
    const dir = r.resolveLink(`sys/bus/scsi/devices/${h}`, h);
    const ent = dir ? r.list(dir, h) : undefined;
    if (!dir || !ent) {
      r.warn('SCSI device skipped: link dangling', `sys/bus/scsi/devices/${h}`, h);
      continue;
    }
    const has = new Set(ent);
    if (!has.has('type')) continue;
    const type = r.int(`${dir}/type`, h);
    if (type !== PDT_TAPE && type !== PDT_CHANGER) continue;
    const txt = (a: string) => {
      if (!has.has(a)) return undefined;
      const c = cleanText(r.text(`${dir}/${a}`, h));
      if (c.odd) r.warn(`odd bytes in ${a} replaced`, `${dir}/${a}`, h);
      return c.value;
    };
    const facts = pathFacts(dir);
    const sub = (cls: string, re: RegExp) =>
      has.has(cls) ? (r.list(`${dir}/${cls}`, h) ?? []).find((n) => re.test(n)) : undefined;
    const sg = sub('scsi_generic', /^sg\d+$/);
    const st = type === PDT_TAPE ? sub('scsi_tape', /^st\d+$/) : undefined;
    const nst = type === PDT_TAPE ? sub('scsi_tape', /^nst\d+$/) : undefined;
    const sch = type === PDT_CHANGER ? sub('scsi_changer', /^sch\d+$/) : undefined;

    // udev data lives on the char devices: st/nst for drives, sg (and sch) for changers.
    const nodes: [string, string][] =
      type === PDT_TAPE
        ? [
            ['scsi_tape', st ?? ''],
            ['scsi_tape', nst ?? ''],
          ]
        : [
            ['scsi_generic', sg ?? ''],
            ['scsi_changer', sch ?? ''],
          ];
    const udevs: UdevRecord[] = [];
    const kernelNames: string[] = [];
    for (const [cls, node] of nodes) {
      if (!node) continue;
      kernelNames.push(node);
      const devno = r.text(`${dir}/${cls}/${node}/dev`, node)?.trim();
      if (!devno || !/^\d+:\d+$/.test(devno)) continue;
      const u = readUdev(r, `c${devno}`, ctx, node, true);
      if (u) udevs.push(u);
    }
    if (ctx.udevDb && !udevs.length)
      r.warn('no udev database record for its device nodes: ids from sysfs only', dir, h);
    const prop = (k: string) => udevs.map((u) => u.props[k]).find((v) => v);
    let serial = cleanText(prop('ID_SCSI_SERIAL') ?? prop('ID_SERIAL_SHORT')).value;
    if (!serial && has.has('vpd_pg80')) serial = decodeVpd80(r.bytes(`${dir}/vpd_pg80`, h));
    let wwn = normaliseWwn(prop('ID_WWN_WITH_EXTENSION') ?? prop('ID_WWN'));
    if (!wwn && has.has('wwid')) wwn = normaliseWwn(r.text(`${dir}/wwid`, h)?.replace(/^naa\./, ''));
    if (!wwn && has.has('vpd_pg83')) wwn = decodeVpd83(r.bytes(`${dir}/vpd_pg83`, h)).naa;
    let links = [...new Set(udevs.flatMap((u) => u.links))];
    if (!udevs.length && ctx.linksFor)
      links = [...new Set(kernelNames.flatMap((n) => ctx.linksFor?.(n) ?? []))];

    const host = facts.host ? ctx.hbas?.hosts.get(facts.host) : undefined;
    const transport: Transport | undefined =
      facts.transport === 'usb' || facts.transport === 'sata'
        ? facts.transport
        : (host?.transport ?? facts.transport);
    const vendor = txt('vendor');
    const model = txt('model');
    const revision = txt('rev');
    const state = txt('state');
    const base = {
      id: wwn ? `wwn-${wwn}` : serial ? `scsi-${serial.replace(/\s+/g, '_')}` : `hctl-${h}`,
      hctl: h,
      ...(vendor ? { vendor } : {}),
      ...(model ? { model } : {}),
      ...(revision ? { revision } : {}),
      ...(serial ? { serial } : {}),
      ...(wwn ? { wwn } : {}),
      ...(transport ? { transport } : {}),
      ...(host ? { hba: host.hbaId } : {}),
      ...(state ? { state } : {}),
    };
    const tail = {
      ...(sg ? { sg: `/dev/${sg}` } : {}),
      byId: links.filter((l) => l.startsWith('tape/by-id/')).map((l) => `/dev/${l}`),
      byPath: links.filter((l) => l.startsWith('tape/by-path/')).map((l) => `/dev/${l}`),
      devpath: `/${dir.replace(/^sys\//, '')}`,
    };
    if (type === PDT_TAPE) {
      out.drives.push({
        ...base,
        ...(st ? { st: `/dev/${st}` } : {}),
        ...(nst ? { nst: `/dev/${nst}` } : {}),
        ...tail,
      });
    } else {
      out.changers.push({ ...base, ...(sch ? { sch: `/dev/${sch}` } : {}), ...tail });
    }
    if (!serial && !wwn)
      r.warn('no serial or WWN: id falls back to the SCSI address, which is not stable', dir, h);
  }
  dedupe(out, r);
  // A drive and a changer on one target (LUN 0 and LUN 1) are one library module.
  for (const d of out.drives) {
    const target = d.hctl.slice(0, d.hctl.lastIndexOf(':'));
    const c = out.changers.find((x) => x.hctl.slice(0, x.hctl.lastIndexOf(':')) === target);
    if (c) d.changer = c.id;
  }
  return out;
}

function dedupe(ix: TapeIndex, r: SysReader): void {
  const all = [...ix.drives, ...ix.changers];
  const count = new Map<string, number>();
  for (const d of all) count.set(d.id, (count.get(d.id) ?? 0) + 1);
  for (const d of all) {
    if ((count.get(d.id) ?? 0) > 1) {
      r.warn(`id ${d.id} shared by several devices: qualified by SCSI address`, undefined, d.hctl);
      d.id = `${d.id}@${d.hctl}`;
    }
  }
}
