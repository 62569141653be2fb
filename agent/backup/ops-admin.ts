/**
 * Volumes (list from the catalog; label, barcodes, slots and purge through bconsole) and the
 * status of the director, storage and file daemons.
 */
import { RpcError } from '../../rpc/errors.js';
import { type Bconsole, outcomeError, probeTcp } from './bconsole.js';
import type { Catalog } from './catalog.js';
import type { Volume } from './catalog-schemas.js';
import { isoFromLocal, volumesSql } from './catalog-sql.js';
import { labelBarcodesCall, labelCall, purgeCall, updateSlotsCall } from './console-commands.js';
import {
  type DaemonHeader,
  parseLabel,
  parsePurge,
  parseRunningJobs,
  parseStatusHeader,
  type RunningJob,
} from './parse-bconsole.js';

export interface VolumeRow {
  mediaId: number;
  name: string;
  status: string;
  pool: string | null;
  mediaType: string;
  storage: string | null;
  bytes: number;
  files: number;
  jobs: number;
  retentionSec: number;
  recycle: number;
  enabled: number;
  slot: number;
  inChanger: number;
  labelled: string | null;
  lastWritten: string | null;
}

export function volume(r: VolumeRow): Volume {
  return {
    mediaId: Number(r.mediaId),
    name: r.name,
    status: r.status,
    pool: r.pool ?? undefined,
    mediaType: r.mediaType,
    storage: r.storage ?? undefined,
    bytes: Number(r.bytes ?? 0),
    files: Number(r.files ?? 0),
    jobs: Number(r.jobs ?? 0),
    retentionDays: Math.round(Number(r.retentionSec ?? 0) / 86400),
    recycle: Boolean(Number(r.recycle)),
    enabled: Number(r.enabled) === 1,
    slot: Number(r.slot ?? 0),
    inChanger: Boolean(Number(r.inChanger)),
    labelled: isoFromLocal(r.labelled),
    lastWritten: isoFromLocal(r.lastWritten),
  };
}

export async function listVolumes(catalog: Catalog, pool?: string): Promise<Volume[]> {
  return (await catalog.query<VolumeRow>(volumesSql(pool))).map(volume);
}

export async function labelVolume(
  bc: Bconsole,
  a: { storage: string; pool: string; volume: string; slot?: number; drive?: number },
): Promise<string> {
  const c = labelCall(a);
  const o = parseLabel(await bc.one(c.lines[0]!, { timeoutMs: c.timeoutMs }));
  if (!o.ok) throw outcomeError(o);
  return o.value;
}

/** Label every unlabelled cartridge of a changer by its barcode (tape). */
export async function labelBarcodes(
  bc: Bconsole,
  a: { storage: string; pool: string; slots?: string; drive?: number },
): Promise<string> {
  const c = labelBarcodesCall(a);
  const out = await bc.one(c.lines[0]!, { timeoutMs: c.timeoutMs, answers: c.answers });
  if (/ERR=|Error|No Volumes to label/i.test(out) && !/OK label/.test(out)) {
    throw new RpcError('failed', out.trim().split('\n').slice(-2).join(' '));
  }
  return out.trim().split('\n').slice(-1)[0] ?? '';
}

/** Re-read the changer's inventory into the catalog (Slot, InChanger). */
export async function updateSlots(bc: Bconsole, a: { storage: string; drive?: number }): Promise<string> {
  const c = updateSlotsCall(a);
  const out = await bc.one(c.lines[0]!, { timeoutMs: c.timeoutMs });
  if (/ERR=|Error/i.test(out)) throw new RpcError('failed', out.trim().split('\n').slice(-2).join(' '));
  return out.trim().split('\n').slice(-1)[0] ?? '';
}

export async function purgeVolume(bc: Bconsole, name: string): Promise<string> {
  const c = purgeCall(name);
  const o = parsePurge(await bc.one(c.lines[0]!, { timeoutMs: c.timeoutMs }));
  if (!o.ok) throw outcomeError(o);
  return o.value;
}

export interface DaemonStatus {
  name: string;
  kind: 'director' | 'storage' | 'client';
  up: boolean;
  header?: DaemonHeader;
  running?: RunningJob[];
  error?: string;
}

export interface Endpoint {
  name: string;
  host: string;
  port: number;
}

async function one(
  bc: Bconsole,
  kind: DaemonStatus['kind'],
  ep: Endpoint,
  target: string,
): Promise<DaemonStatus> {
  const name = ep.name;
  // The director waits minutes for a storage or file daemon that is down (its connect timeout
  // is 30 min by default); a TCP probe answers at once and says why.
  if (kind !== 'director') {
    const p = await probeTcp(ep.host, ep.port, 2000);
    if (!p.ok) return { name, kind, up: false, error: `not reachable: ${p.reason}` };
  }
  try {
    const header = parseStatusHeader(await bc.api(`.status ${target} header`, { timeoutMs: 20_000 }));
    const running = parseRunningJobs(await bc.api(`.status ${target} running`, { timeoutMs: 20_000 }));
    if (!header) return { name, kind, up: false, error: 'the daemon did not answer' };
    return { name, kind, up: true, header, running };
  } catch (err) {
    if (err instanceof RpcError && err.kind === 'unavailable' && kind === 'director') throw err;
    return { name, kind, up: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Director first (unavailable when it is down), then every storage and client it knows. */
export async function daemonStatus(
  bc: Bconsole,
  eps: { director: Endpoint; storages: Endpoint[]; clients: Endpoint[] },
): Promise<{ director: DaemonStatus; storages: DaemonStatus[]; clients: DaemonStatus[] }> {
  // A status reports, it does not refuse: with the director down, say so, and that the storage
  // and file daemons (asked through the director) are unknown until it is back.
  const probe = await bc.probe();
  if (!probe.ok) {
    const unknown =
      (kind: 'storage' | 'client') =>
      (e: Endpoint): DaemonStatus => ({
        name: e.name,
        kind,
        up: false,
        error: 'unknown: the director is down, and the agent asks this daemon through it',
      });
    return {
      director: { name: eps.director.name, kind: 'director', up: false, error: probe.reason },
      storages: eps.storages.map(unknown('storage')),
      clients: eps.clients.map(unknown('client')),
    };
  }
  const director = await one(bc, 'director', eps.director, 'dir');
  const storages = await Promise.all(eps.storages.map((s) => one(bc, 'storage', s, `storage=${s.name}`)));
  const clients = await Promise.all(eps.clients.map((c) => one(bc, 'client', c, `client=${c.name}`)));
  return { director, storages, clients };
}
