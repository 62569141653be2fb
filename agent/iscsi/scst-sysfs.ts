/**
 * The running SCST state read from its sysfs tree, `<sysroot>/sys/kernel/scst_tgt` (layout: SCST's
 * iscsi-scst/README, "Sysfs interface"; a tree written in that layout is test/fixtures/scst-sysfs):
 *
 *   handlers/<handler>/<device> → ../../devices/<device>
 *   devices/<device>/{filename, blocksize, read_only, usn, t10_dev_id, naa_id, size_mb, …}
 *   targets/iscsi/<iqn>/{enabled, rel_tgt_id, IncomingUser[N], OutgoingUser[N]}
 *   targets/iscsi/<iqn>/luns/<N>/device → …/devices/<device>
 *   targets/iscsi/<iqn>/ini_groups/<g>/{initiators/<ini>, luns/<N>/device}
 *   targets/iscsi/<iqn>/sessions/<ini>/{initiator_name, <ip>/ip, luns → ../../luns | ../../ini_groups/<g>/luns}
 *
 * An attribute file holds its value on the first line; a value that differs from the default
 * (what `scstadmin -write_config` saves) carries a second line `[key]`.
 *
 * The target's number is its `rel_tgt_id` (the renderer writes the model's tid there). With
 * initiator groups, the renderer puts no LUN at target level, so the target's LUNs are those of
 * its groups (device t<tid>l<n> is the target's LUN n) plus its own, plus — with groups — the
 * devices t<tid>l<n> no group maps (exported to no one, but the target's all the same).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { RpcError } from '../../rpc/errors.js';
import type { LiveGroup, LiveLun, LiveSession, LiveState, LiveTarget } from './backend.js';

export const SCST_ROOT = 'sys/kernel/scst_tgt';

export const scstRoot = (sysroot: string): string => path.join(sysroot, SCST_ROOT);

/** One attribute: its first line, trimmed (undefined when the file does not exist). */
export async function readAttr(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).split('\n')[0]?.trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

async function entries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

const numeric = (names: string[]) =>
  names
    .filter((n) => /^[0-9]+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);

/** The device a LUN directory's `device` link points to. */
async function lunDevice(lunDir: string): Promise<string | undefined> {
  try {
    return path.basename(await readlink(path.join(lunDir, 'device')));
  } catch {
    return undefined;
  }
}

export interface ScstDevice {
  name: string;
  handler: string;
  filename?: string;
  blockSize?: number;
  readonly?: boolean;
  writeThrough?: boolean;
  serial?: string;
  /** t10_dev_id */
  t10?: string;
  naa?: string;
  sizeBytes?: number;
}

export async function readDevices(root: string): Promise<Map<string, ScstDevice>> {
  const out = new Map<string, ScstDevice>();
  const hdir = path.join(root, 'handlers');
  for (const handler of await entries(hdir))
    for (const name of await entries(path.join(hdir, handler))) {
      const dir = path.join(root, 'devices', name);
      if (!(await isDir(path.join(hdir, handler, name))) || !(await isDir(dir))) continue;
      const a = (k: string) => readAttr(path.join(dir, k));
      const d: ScstDevice = { name, handler };
      const filename = await a('filename');
      if (filename) d.filename = filename;
      const bs = await a('blocksize');
      if (bs) d.blockSize = Number(bs);
      const ro = await a('read_only');
      if (ro !== undefined) d.readonly = ro === '1';
      const wt = await a('write_through');
      if (wt !== undefined) d.writeThrough = wt === '1';
      const t10 = await a('t10_dev_id');
      if (t10) d.t10 = t10;
      const usn = await a('usn');
      if (usn) d.serial = usn;
      const naa = await a('naa_id');
      if (naa) d.naa = naa.replace(/^0x/, '');
      const mb = await a('size_mb');
      if (mb && /^[0-9]+$/.test(mb)) d.sizeBytes = Number(mb) * 1048576;
      out.set(name, d);
    }
  return out;
}

const DEV = /^t(\d+)l(\d+)$/;

function liveLun(lun: number, dev: ScstDevice | undefined): LiveLun {
  const l: LiveLun = { lun, path: dev?.filename ?? null };
  if (dev?.blockSize !== undefined) l.blockSize = dev.blockSize;
  if (dev?.readonly !== undefined) l.readonly = dev.readonly;
  if (dev?.serial !== undefined) l.serial = dev.serial;
  if (dev?.naa !== undefined) l.naa = dev.naa;
  if (dev?.sizeBytes !== undefined) l.sizeBytes = dev.sizeBytes;
  return l;
}

/** The `user secret` values of a target's IncomingUser[N] / OutgoingUser[N] attributes. */
async function chapValues(dir: string, kind: 'IncomingUser' | 'OutgoingUser'): Promise<string[]> {
  const re = new RegExp(`^${kind}[0-9]*$`);
  const out: string[] = [];
  for (const f of await entries(dir)) {
    if (!re.test(f)) continue;
    const v = (await readAttr(path.join(dir, f)))?.replace(/\s+/g, ' ');
    if (v) out.push(v);
  }
  return out;
}

const userOf = (v: string) => v.split(' ')[0] as string;

export interface ScstLunEntry {
  device: string | undefined;
  readonly: boolean;
}

/** A target as its sysfs directory shows it (what the sysfs apply plan compares against). */
export interface ScstRunningTarget {
  iqn: string;
  enabled: boolean;
  relTgtId?: number;
  /** target-level LUNs */
  luns: Map<number, ScstLunEntry>;
  groups: Map<string, { initiators: string[]; luns: Map<number, ScstLunEntry> }>;
  /** `user secret`: held only in memory to compare with secrets.env, never reported */
  incoming: string[];
  outgoing: string[];
}

export interface ScstRunning {
  driverEnabled: boolean;
  devices: Map<string, ScstDevice>;
  targets: Map<string, ScstRunningTarget>;
  live: LiveState;
}

async function readLuns(dir: string): Promise<Map<number, ScstLunEntry>> {
  const out = new Map<number, ScstLunEntry>();
  for (const n of numeric(await entries(dir))) {
    const d = path.join(dir, String(n));
    out.set(n, { device: await lunDevice(d), readonly: (await readAttr(path.join(d, 'read_only'))) === '1' });
  }
  return out;
}

async function readRunningTarget(dir: string, iqn: string): Promise<ScstRunningTarget> {
  const rel = Number(await readAttr(path.join(dir, 'rel_tgt_id')));
  const t: ScstRunningTarget = {
    iqn,
    enabled: (await readAttr(path.join(dir, 'enabled'))) === '1',
    luns: await readLuns(path.join(dir, 'luns')),
    groups: new Map(),
    incoming: await chapValues(dir, 'IncomingUser'),
    outgoing: await chapValues(dir, 'OutgoingUser'),
  };
  if (Number.isInteger(rel) && rel > 0) t.relTgtId = rel;
  const gdir = path.join(dir, 'ini_groups');
  for (const g of await entries(gdir)) {
    if (!(await isDir(path.join(gdir, g)))) continue;
    t.groups.set(g, {
      initiators: (await entries(path.join(gdir, g, 'initiators'))).filter((i) => i !== 'mgmt'),
      luns: await readLuns(path.join(gdir, g, 'luns')),
    });
  }
  return t;
}

function liveTarget(
  r: ScstRunningTarget,
  devices: Map<string, ScstDevice>,
  driverEnabled: boolean,
): LiveTarget {
  const tid = r.relTgtId;
  const luns: LiveLun[] = [];
  const byDevice = new Map<string, number>();
  for (const [n, e] of r.luns) {
    luns.push(liveLun(n, e.device ? devices.get(e.device) : undefined));
    if (e.device) byDevice.set(e.device, n);
  }
  const groups: LiveGroup[] = [];
  for (const [name, g] of r.groups) {
    const gl: { lun: number; target: number }[] = [];
    for (const [n, e] of g.luns) {
      const dev = e.device;
      if (!dev) continue;
      let target = byDevice.get(dev);
      if (target === undefined) {
        const m = DEV.exec(dev);
        target = m && tid !== undefined && Number(m[1]) === tid ? Number(m[2]) : n;
        byDevice.set(dev, target);
        luns.push(liveLun(target, devices.get(dev)));
      }
      gl.push({ lun: n, target });
    }
    groups.push({ name, initiators: g.initiators, luns: gl });
  }
  // with groups, a LUN no group maps is exported to no one but still the target's: its device
  // t<tid>l<n> exists (the renderer creates every LUN's device)
  if (r.groups.size && tid !== undefined)
    for (const [dev, d] of devices) {
      const m = DEV.exec(dev);
      if (m && Number(m[1]) === tid && !byDevice.has(dev)) {
        byDevice.set(dev, Number(m[2]));
        luns.push(liveLun(Number(m[2]), d));
      }
    }
  luns.sort((a, b) => a.lun - b.lun);
  const t: LiveTarget = {
    iqn: r.iqn,
    enabled: driverEnabled && r.enabled,
    luns,
    initiators: [...new Set(groups.flatMap((g) => g.initiators))],
    allowAll: groups.length === 0,
    groups,
    chapUsers: r.incoming.map(userOf),
    mutualUsers: r.outgoing.map(userOf),
  };
  if (tid !== undefined) t.tid = tid;
  return t;
}

async function readSessions(dir: string, iqn: string): Promise<LiveSession[]> {
  const out: LiveSession[] = [];
  const sdir = path.join(dir, 'sessions');
  for (const s of await entries(sdir)) {
    const one = path.join(sdir, s);
    if (!(await isDir(one))) continue;
    const session: LiveSession = {
      target: iqn,
      initiator: (await readAttr(path.join(one, 'initiator_name'))) || s,
    };
    for (const c of await entries(one)) {
      const ip = await readAttr(path.join(one, c, 'ip'));
      if (ip) {
        session.address = ip;
        break;
      }
    }
    session.luns = numeric(await entries(path.join(one, 'luns')));
    out.push(session);
  }
  return out;
}

/** Everything the SCST sysfs tree says; `unavailable` when SCST or iscsi-scst is not loaded. */
export async function readScstRunning(sysroot: string): Promise<ScstRunning> {
  const root = scstRoot(sysroot);
  if (!existsSync(root)) throw new RpcError('unavailable', `SCST is not loaded (${root} does not exist)`);
  const iscsi = path.join(root, 'targets', 'iscsi');
  if (!existsSync(iscsi))
    throw new RpcError(
      'unavailable',
      'the iscsi-scst target driver is not loaded (no targets/iscsi in the SCST sysfs tree)',
    );
  const devices = await readDevices(root);
  // a disabled iscsi driver serves no target, whatever the targets' own flag says
  const driverEnabled = (await readAttr(path.join(iscsi, 'enabled'))) === '1';
  const targets = new Map<string, ScstRunningTarget>();
  const live: LiveState = { targets: [], sessions: [] };
  for (const name of await entries(iscsi)) {
    const dir = path.join(iscsi, name);
    if (!(await isDir(dir))) continue;
    const r = await readRunningTarget(dir, name);
    targets.set(name, r);
    live.targets.push(liveTarget(r, devices, driverEnabled));
    live.sessions.push(...(await readSessions(dir, name)));
  }
  return { driverEnabled, devices, targets, live };
}

/** The running state under `<sysroot>/sys/kernel/scst_tgt` in the backends' shape. */
export async function readScstLive(sysroot: string): Promise<LiveState> {
  return (await readScstRunning(sysroot)).live;
}
