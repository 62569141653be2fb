/**
 * `calypsoctl probe disks|hbas|enclosures|tapes|changers|all --sysroot DIR [--json]`: runs the
 * hardware probes offline against a tree (as `lsblk --sysroot` does) and prints the objects the
 * hardware service returns, with the probe's warnings. No agent needed.
 */
import { probeAll } from '../probes/index.js';
import type { Inventory } from '../probes/inventory.js';

export const PROBE_KINDS = ['disks', 'hbas', 'enclosures', 'tapes', 'changers', 'all'] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

const GiB = 1024 ** 3;
const size = (b: number) =>
  b >= 1024 * GiB ? `${(b / 1024 / GiB).toFixed(1)}T` : `${(b / GiB).toFixed(1)}G`;

function table(rows: string[][]): string {
  if (!rows.length) return '';
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return `${rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(w[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

function human(kind: ProbeKind, inv: Inventory): string {
  const parts: string[] = [];
  if (kind === 'disks' || kind === 'all') {
    parts.push(
      table([
        ['NAME', 'SIZE', 'TRAN', 'MODEL', 'SERIAL', 'ID', 'PATHS', 'SLOT'],
        ...inv.disks.map((d) => [
          d.name,
          size(d.size),
          d.transport ?? '-',
          d.model ?? '-',
          d.serial ?? '-',
          d.id,
          String(d.paths.length),
          d.enclosure ? `${d.enclosure.id}:${d.enclosure.slot}` : '-',
        ]),
      ]),
    );
  }
  if (kind === 'hbas' || kind === 'all') {
    parts.push(
      table([
        ['HBA', 'KIND', 'DRIVER', 'PCI-ID', 'TRAN', 'HOSTS', 'DISKS'],
        ...inv.hbas.map((h) => [
          h.id,
          h.kind,
          h.driver ?? '-',
          h.vendorId ? `${h.vendorId}:${h.deviceId ?? '?'}` : '-',
          h.transport ?? '-',
          h.hosts.join(',') || '-',
          String(h.disks.length),
        ]),
      ]),
    );
  }
  if (kind === 'enclosures' || kind === 'all') {
    for (const e of inv.enclosures) {
      parts.push(`enclosure ${e.id} (${[e.vendor, e.model].filter(Boolean).join(' ')}, ${e.name})\n`);
      parts.push(
        table([
          ['SLOT', 'STATUS', 'FAULT', 'LOCATE', 'DISK'],
          ...e.slots.map((s) => [
            s.name,
            s.status ?? '-',
            s.fault ? 'on' : '-',
            s.locate ? 'on' : '-',
            s.disk?.id ?? '-',
          ]),
        ]),
      );
    }
  }
  const scsiRows = (
    list: Inventory['tapes'] | Inventory['changers'],
    node: (x: Record<string, unknown>) => string,
  ) =>
    list.map((t) => [
      t.hctl,
      t.vendor ?? '-',
      t.model ?? '-',
      t.revision ?? '-',
      t.serial ?? '-',
      node(t as never),
      t.sg ?? '-',
      t.id,
    ]);
  if (kind === 'tapes' || kind === 'all') {
    parts.push(
      table([
        ['HCTL', 'VENDOR', 'MODEL', 'REV', 'SERIAL', 'NST', 'SG', 'ID'],
        ...scsiRows(inv.tapes, (t) => String(t['nst'] ?? '-')),
      ]),
    );
  }
  if (kind === 'changers' || kind === 'all') {
    parts.push(
      table([
        ['HCTL', 'VENDOR', 'MODEL', 'REV', 'SERIAL', 'SCH', 'SG', 'ID'],
        ...scsiRows(inv.changers, (t) => String(t['sch'] ?? '-')),
      ]),
    );
  }
  for (const w of inv.warnings)
    parts.push(`warning: ${w.device ? `${w.device}: ` : ''}${w.message}${w.path ? ` (${w.path})` : ''}\n`);
  return parts.join('\n');
}

export async function runProbe(kind: string, sysroot: string, json: boolean): Promise<string> {
  if (!(PROBE_KINDS as readonly string[]).includes(kind)) {
    throw new Error(`probe: unknown kind ${JSON.stringify(kind)} (one of ${PROBE_KINDS.join(', ')})`);
  }
  const k = kind as ProbeKind;
  const inv = probeAll(sysroot);
  if (!json) return human(k, inv);
  const body = k === 'all' ? inv : { [k]: inv[k], warnings: inv.warnings };
  return `${JSON.stringify(body, null, 2)}\n`;
}
