/**
 * `zfs list -H [-p] -o <cols>` and `zfs get -H [-p] -o name,property,value,source` → typed rows (pure).
 *
 * With OpenZFS `-p` sizes are bytes and `creation` is epoch seconds. zfs-fuse has no `list -p`, so
 * there sizes are nicenums and `creation` is "Wed Nov 25 12:14 2026" (minute resolution; the
 * driver runs the tool with TZ=UTC). `zfs get -p` exists in both and is exact.
 *
 * The snapshot parser is the hot path of `snapshot.list` (tens of thousands of lines), so it
 * splits by hand and avoids per-row regular expressions.
 */
import type { DatasetRow, PropertyValue, SnapshotRow } from './types.js';
import { parseSize, parseZfsDate } from './units.js';

export const DATASET_COLUMNS = [
  'name',
  'type',
  'used',
  'available',
  'referenced',
  'mountpoint',
  'compression',
  'quota',
  'reservation',
  'volsize',
  'origin',
  'mounted',
  'creation',
] as const;

export const SNAPSHOT_COLUMNS = ['name', 'used', 'referenced', 'creation', 'userrefs'] as const;

export function parseDatasetList(text: string, columns: readonly string[] = DATASET_COLUMNS): DatasetRow[] {
  const rows: DatasetRow[] = [];
  const idx = (c: string) => columns.indexOf(c);
  const iName = idx('name');
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('no datasets available')) continue;
    const cells = line.split('\t');
    const at = (c: string) => {
      const i = idx(c);
      return i < 0 ? undefined : cells[i];
    };
    const name = cells[iName] ?? '';
    const type = (at('type') ?? (name.includes('@') ? 'snapshot' : 'filesystem')) as DatasetRow['type'];
    const row: DatasetRow = { name, type };
    const sizes = ['used', 'available', 'referenced', 'quota', 'reservation', 'volsize'] as const;
    for (const s of sizes) {
      const v = parseSize(at(s));
      if (v !== undefined) row[s] = v;
    }
    const mp = at('mountpoint');
    if (mp !== undefined && mp !== '-') row.mountpoint = mp;
    const comp = at('compression');
    if (comp !== undefined && comp !== '-') row.compression = comp;
    const origin = at('origin');
    if (origin !== undefined && origin !== '-') row.origin = origin;
    const mounted = at('mounted');
    if (mounted === 'yes' || mounted === 'no') row.mounted = mounted === 'yes';
    const created = parseZfsDate(at('creation'));
    if (created !== undefined) row.creation = created;
    rows.push(row);
  }
  return rows;
}

/**
 * Snapshot rows in the column order of SNAPSHOT_COLUMNS. Lines whose name has no `@` are skipped
 * (a `zfs get -r`-style source may mix datasets in).
 */
export function parseSnapshotList(text: string): SnapshotRow[] {
  const rows: SnapshotRow[] = [];
  const n = text.length;
  let s = 0;
  // the next tab at or after a position; it only moves forward, so lines without tabs cost no rescans
  let nt = -1;
  const tabBefore = (from: number, end: number): number => {
    if (nt < from) {
      nt = text.indexOf('\t', from);
      if (nt < 0) nt = n;
    }
    return Math.min(nt, end);
  };
  while (s < n) {
    let e = text.indexOf('\n', s);
    if (e < 0) e = n;
    // cell boundaries inside [s, e): t[k] is the end of cell k (a tab or the end of the line)
    const t1 = tabBefore(s, e);
    const name = text.slice(s, t1);
    const at = name.indexOf('@');
    if (at > 0) {
      const t2 = t1 < e ? tabBefore(t1 + 1, e) : e;
      const t3 = t2 < e ? tabBefore(t2 + 1, e) : e;
      const t4 = t3 < e ? tabBefore(t3 + 1, e) : e;
      // one object shape for every row (fast property access downstream); absent values stay undefined
      rows.push({
        name,
        dataset: name.slice(0, at),
        snapshot: name.slice(at + 1),
        holds: t4 < e ? Number(text.slice(t4 + 1, e)) || 0 : 0,
        used: t1 < e ? sizeOf(text.slice(t1 + 1, t2)) : undefined,
        referenced: t2 < e ? sizeOf(text.slice(t2 + 1, t3)) : undefined,
        created: t3 < e ? dateOf(text.slice(t3 + 1, t4)) : undefined,
      });
    }
    s = e + 1;
  }
  return rows;
}

function sizeOf(cell: string): number | undefined {
  if (cell.length === 0) return undefined;
  // fast path for -p output (digits only); nicenums ("1.87M") and "-" fall through
  const v = Number(cell);
  return Number.isFinite(v) ? v : parseSize(cell);
}

function dateOf(cell: string): number | undefined {
  const c0 = cell.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57) return Number(cell) * 1000;
  return parseZfsDate(cell);
}

/** `zfs get -H [-p] -o name,property,value,source` → dataset → property → value. */
export function parseZfsGet(text: string): Map<string, Map<string, PropertyValue>> {
  const out = new Map<string, Map<string, PropertyValue>>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [name, prop, value, source] = line.split('\t');
    if (!name || !prop) continue;
    let m = out.get(name);
    if (!m) {
      m = new Map();
      out.set(name, m);
    }
    m.set(prop, { value: value ?? '', source: source ?? '-' });
  }
  return out;
}
