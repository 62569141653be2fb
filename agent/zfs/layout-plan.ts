/**
 * The appliance data layout on ZFS: `<pool>/calypso` mounted at the layout's srv directory and one
 * child per data area (db, backups, object, shares, vtl, iscsi, uploads, cache, _system), each with
 * properties suited to what it holds. Planning is pure given the current state, so applying it
 * twice is a no-op the second time.
 */
import { DATA_AREAS, type DataArea, type Layout } from '../layout.js';
import * as cmd from './commands.js';
import type { Dialect } from './dialect.js';

export interface AreaSpec {
  dataset: string;
  mountpoint: string;
  properties: Record<string, string>;
}

/** Properties per area; `lz4` and 1 MiB records where the dialect has them. */
export function desiredLayout(pool: string, layout: Layout, d: Dialect): AreaSpec[] {
  const fast = d.compression.includes('lz4') ? 'lz4' : 'on';
  const big = d.name === 'openzfs' ? '1M' : '128K';
  const per: Record<DataArea, Record<string, string>> = {
    // PostgreSQL/SQLite pages: small records, no atime
    db: { recordsize: '16K', compression: fast, atime: 'off', logbias: 'latency' },
    // large sequential backup volumes
    backups: { recordsize: big, compression: fast, atime: 'off' },
    object: { recordsize: big, compression: fast, atime: 'off' },
    shares: { compression: fast },
    // virtual tapes are large sequential files
    vtl: { recordsize: big, compression: fast, atime: 'off' },
    // file-backed LUNs and the parent of zvols
    iscsi: { recordsize: '64K', compression: fast, atime: 'off' },
    uploads: { compression: fast, atime: 'off' },
    // disposable: one copy is enough, no access times
    cache: { compression: fast, atime: 'off', copies: '1' },
    _system: { compression: fast, atime: 'off' },
  };
  const root = `${pool}/calypso`;
  return [
    { dataset: root, mountpoint: layout.srv, properties: { compression: fast, atime: 'off' } },
    ...DATA_AREAS.map((a) => ({ dataset: `${root}/${a}`, mountpoint: layout.data[a], properties: per[a] })),
  ];
}

export interface AreaState {
  exists: boolean;
  /** property → value (exact, from zfs get -p) */
  values: Map<string, string>;
}

export interface LayoutStep {
  dataset: string;
  action: 'create' | 'update' | 'unchanged';
  commands: string[][];
}

export function planLayout(want: AreaSpec[], have: Map<string, AreaState>, altroot?: string): LayoutStep[] {
  return want.map((a) => {
    const state = have.get(a.dataset);
    const props = { mountpoint: a.mountpoint, ...a.properties };
    if (!state?.exists)
      return { dataset: a.dataset, action: 'create', commands: [cmd.zfsCreate(a.dataset, props, true)] };
    const diff: Record<string, string> = {};
    for (const [k, v] of Object.entries(props)) {
      let cur = state.values.get(k);
      // with an altroot, zfs reports mountpoints with the altroot prefixed
      if (k === 'mountpoint' && altroot && cur?.startsWith(altroot)) cur = cur.slice(altroot.length) || '/';
      if (!sameValue(k, cur, v)) diff[k] = v;
    }
    const commands = cmd.zfsSet(a.dataset, diff);
    return { dataset: a.dataset, action: commands.length ? 'update' : 'unchanged', commands };
  });
}

const UNITS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

function sameValue(prop: string, cur: string | undefined, want: string): boolean {
  if (cur === undefined) return false;
  if (cur === want) return true;
  if (prop === 'recordsize') {
    const m = /^(\d+)([KMG])?$/.exec(want);
    return m !== null && Number(cur) === Number(m[1]) * (m[2] ? UNITS[m[2]]! : 1);
  }
  return false;
}
