/**
 * `zpool list -H [-p] -o <cols>` and `zpool get` → typed rows (pure).
 *
 * OpenZFS: `-Hp` gives tab-separated exact values (capacity "23", dedupratio "1.00").
 * zfs-fuse 0.7: `-H` only (no -p): sizes are nicenums ("1016M") and capacity "69%"; and `zpool get`
 * has no `-H`, so its column-aligned table (NAME PROPERTY VALUE SOURCE) is parsed by position.
 */
import type { PoolListRow, PropertyValue } from './types.js';
import { parsePercent, parseRatio, parseSize } from './units.js';

/** Columns the driver asks for, in order; fragmentation only where the dialect has it. */
export const POOL_LIST_COLUMNS = [
  'name',
  'size',
  'allocated',
  'free',
  'capacity',
  'dedupratio',
  'health',
  'altroot',
];

export function parseZpoolList(text: string, columns: readonly string[]): PoolListRow[] {
  const rows: PoolListRow[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || /^no pools available/.test(line)) continue;
    const cells = line.split('\t');
    const at = (c: string) => {
      const i = columns.indexOf(c);
      return i < 0 ? undefined : cells[i];
    };
    const row: PoolListRow = { name: at('name') ?? '', health: at('health') ?? 'UNKNOWN' };
    const size = parseSize(at('size'));
    if (size !== undefined) row.size = size;
    const alloc = parseSize(at('allocated') ?? at('alloc'));
    if (alloc !== undefined) row.allocated = alloc;
    const free = parseSize(at('free'));
    if (free !== undefined) row.free = free;
    const cap = parsePercent(at('capacity') ?? at('cap'));
    if (cap !== undefined) row.capacity = cap;
    const frag = parsePercent(at('fragmentation') ?? at('frag'));
    if (frag !== undefined) row.fragmentation = frag;
    const dedup = parseRatio(at('dedupratio') ?? at('dedup'));
    if (dedup !== undefined) row.dedupratio = dedup;
    const altroot = at('altroot');
    if (altroot && altroot !== '-') row.altroot = altroot;
    const guid = at('guid');
    if (guid && guid !== '-') row.guid = guid;
    const version = at('version');
    if (version && version !== '-') row.version = version;
    rows.push(row);
  }
  return rows;
}

/**
 * `zpool get -Hp -o name,property,value,source` (OpenZFS, tab-separated) or plain `zpool get`
 * (zfs-fuse, aligned columns with a header) → pool → property → value.
 */
export function parseZpoolGet(text: string): Map<string, Map<string, PropertyValue>> {
  const out = new Map<string, Map<string, PropertyValue>>();
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return out;
  const put = (pool: string, prop: string, value: string, source: string) => {
    let m = out.get(pool);
    if (!m) {
      m = new Map();
      out.set(pool, m);
    }
    m.set(prop, { value, source });
  };
  if (/^NAME\s+PROPERTY\s+VALUE\s+SOURCE\s*$/.test(lines[0]!)) {
    // Aligned table: VALUE may contain spaces, SOURCE never does; the header gives the VALUE column.
    const header = lines[0]!;
    const valueAt = header.indexOf('VALUE');
    for (const line of lines.slice(1)) {
      const [pool, prop] = line.slice(0, valueAt).trim().split(/\s+/);
      if (!pool || !prop) continue;
      // a long value pushes SOURCE right (the guid in zfs-fuse output): take the last token as source
      const tail = line.slice(valueAt).trimEnd();
      const cut = tail.lastIndexOf(' ');
      const source = cut < 0 ? '-' : tail.slice(cut + 1);
      const value = cut < 0 ? tail.trim() : tail.slice(0, cut).trim();
      put(pool, prop, value, source);
    }
    return out;
  }
  for (const line of lines) {
    const [pool, prop, value, source] = line.split('\t');
    if (pool && prop) put(pool, prop, value ?? '', source ?? '-');
  }
  return out;
}
