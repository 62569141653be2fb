/**
 * How the desired state reaches SCST, two ways:
 *
 * (a) scstadmin: the rendered scst.conf is applied with `scstadmin -noprompt -force -config
 *     FILE` (-force lets scstadmin remove what the file no longer has and change attributes of
 *     devices in use; -noprompt skips its confirmation). `-check_config FILE` validates first.
 *
 * (b) sysfs: the exact writes to SCST's management files that take the running state (read
 *     from sysfs) to the desired one, for hosts without scstadmin. Paths are relative to
 *     /sys/kernel/scst_tgt; every value is built from validated tokens (model.ts), so none holds
 *     a blank, quote or newline except the separators written here. CHAP secrets appear in the
 *     `add_target_attribute … IncomingUser user secret` writes: show plans through
 *     redactWrites().
 *
 * Order of the writes: removals first (targets, groups, group members, LUNs, CHAP entries,
 * devices), then creations (devices, their identity, targets, CHAP, LUNs, groups, enabling), so a
 * device is never deleted while a LUN still points to it and a LUN never names a device that
 * does not exist yet.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BackingPath } from './backend.js';
import { deviceName, type IscsiState, type Lun, type Target } from './model.js';
import {
  assertSafeTree,
  chapAttrs,
  handlerOf,
  type SecretLookup,
  scstTree,
  targetLevelLuns,
} from './scst-conf.js';
import type { ScstDevice, ScstLunEntry, ScstRunning } from './scst-sysfs.js';
import { scstRoot } from './scst-sysfs.js';

export const scstadminConfig = (file: string): string[] => [
  'scstadmin',
  '-noprompt',
  '-force',
  '-config',
  file,
];
export const scstadminCheck = (file: string): string[] => ['scstadmin', '-check_config', file];

export interface SysfsWrite {
  /** relative to /sys/kernel/scst_tgt */
  path: string;
  value: string;
}

export interface SysfsPlanOptions {
  backingPath: BackingPath;
  secrets: SecretLookup;
}

const DRV = 'targets/iscsi';
const tdir = (iqn: string) => `${DRV}/${iqn}`;

interface WantDevice {
  name: string;
  handler: string;
  lun: Lun;
  filename: string;
}

function wantedDevices(state: IscsiState, backingPath: BackingPath): Map<string, WantDevice> {
  const out = new Map<string, WantDevice>();
  for (const t of state.targets)
    for (const l of t.luns) {
      const name = deviceName(t.tid, l.lun);
      out.set(name, { name, handler: handlerOf(l), lun: l, filename: backingPath(l) });
    }
  return out;
}

/** A device whose creation parameters differ must be deleted and added again. */
function mustRecreate(w: WantDevice, d: ScstDevice): boolean {
  return (
    d.handler !== w.handler ||
    d.filename !== w.filename ||
    (d.blockSize ?? 512) !== w.lun.blockSize ||
    (d.readonly ?? false) !== w.lun.readonly ||
    (d.writeThrough ?? false) !== (w.lun.cache === 'write-through')
  );
}

function identityWrites(w: WantDevice, d: ScstDevice | undefined): SysfsWrite[] {
  const dir = `devices/${w.name}`;
  const out: SysfsWrite[] = [];
  if (d?.t10 !== w.lun.serial) out.push({ path: `${dir}/t10_dev_id`, value: w.lun.serial });
  if (d?.serial !== w.lun.serial) out.push({ path: `${dir}/usn`, value: w.lun.serial });
  if (d?.naa !== w.lun.naa) out.push({ path: `${dir}/naa_id`, value: `0x${w.lun.naa}` });
  return out;
}

function addDevice(w: WantDevice): SysfsWrite {
  const params = [
    `filename=${w.filename}`,
    `blocksize=${w.lun.blockSize}`,
    `read_only=${w.lun.readonly ? 1 : 0}`,
    `write_through=${w.lun.cache === 'write-through' ? 1 : 0}`,
  ].join(';');
  return { path: `handlers/${w.handler}/mgmt`, value: `add_device ${w.name} ${params}` };
}

/** LUN number → the device and read-only flag a target (or one of its groups) should have. */
function wantLuns(t: Target, entries: { lun: number; target: number }[]): Map<number, ScstLunEntry> {
  const out = new Map<number, ScstLunEntry>();
  for (const m of entries) {
    const l = t.luns.find((x) => x.lun === m.target);
    out.set(m.lun, { device: deviceName(t.tid, m.target), readonly: l?.readonly ?? false });
  }
  return out;
}

const sameLun = (a: ScstLunEntry | undefined, b: ScstLunEntry) =>
  !!a && a.device === b.device && a.readonly === b.readonly;

const addLun = (mgmt: string, n: number, e: ScstLunEntry): SysfsWrite => ({
  path: mgmt,
  value: `add ${e.device} ${n}${e.readonly ? ' read_only=1' : ''}`,
});

/** The sysfs writes taking `running` to `state`, in order. */
export function planSysfs(state: IscsiState, running: ScstRunning, o: SysfsPlanOptions): SysfsWrite[] {
  // every value below comes from the same strings the conf would hold
  assertSafeTree(scstTree(state, o));
  const removals: SysfsWrite[] = [];
  const creations: SysfsWrite[] = [];
  const want = new Map(state.targets.map((t) => [t.iqn, t]));
  const devices = wantedDevices(state, o.backingPath);
  const recreate = new Set<string>();
  for (const [name, d] of running.devices) {
    const w = devices.get(name);
    if (w && mustRecreate(w, d)) recreate.add(name);
  }
  const stale = (e: ScstLunEntry) => !!e.device && recreate.has(e.device);

  if (!running.driverEnabled) creations.push({ path: `${DRV}/enabled`, value: '1' });

  for (const [iqn, r] of running.targets) {
    const t = want.get(iqn);
    if (!t) {
      if (r.enabled) removals.push({ path: `${tdir(iqn)}/enabled`, value: '0' });
      removals.push({ path: `${DRV}/mgmt`, value: `del_target ${iqn}` });
      continue;
    }
    const base = tdir(iqn);
    for (const [g, rg] of r.groups) {
      const wg = t.groups.find((x) => x.name === g);
      if (!wg) {
        removals.push({ path: `${base}/ini_groups/mgmt`, value: `del ${g}` });
        continue;
      }
      for (const i of rg.initiators)
        if (!wg.initiators.includes(i))
          removals.push({ path: `${base}/ini_groups/${g}/initiators/mgmt`, value: `del ${i}` });
      const wl = wantLuns(t, wg.luns);
      for (const [n, e] of rg.luns) {
        const w = wl.get(n);
        if (!w || !sameLun(e, w) || stale(e))
          removals.push({ path: `${base}/ini_groups/${g}/luns/mgmt`, value: `del ${n}` });
      }
    }
    const wl = wantLuns(
      t,
      targetLevelLuns(t).map((l) => ({ lun: l.lun, target: l.lun })),
    );
    for (const [n, e] of r.luns) {
      const w = wl.get(n);
      if (!w || !sameLun(e, w) || stale(e)) removals.push({ path: `${base}/luns/mgmt`, value: `del ${n}` });
    }
    const chap = chapAttrs(t, o.secrets);
    for (const [kind, list] of [
      ['IncomingUser', r.incoming],
      ['OutgoingUser', r.outgoing],
    ] as const)
      for (const v of list)
        if (!chap.some(([k, x]) => k === kind && x === v))
          removals.push({
            path: `${DRV}/mgmt`,
            value: `del_target_attribute ${iqn} ${kind} ${v.split(' ')[0]}`,
          });
  }

  for (const [name, d] of running.devices)
    if (!devices.has(name) || recreate.has(name))
      removals.push({ path: `handlers/${d.handler}/mgmt`, value: `del_device ${name}` });
  for (const w of devices.values()) {
    const d = running.devices.get(w.name);
    if (!d || recreate.has(w.name)) {
      creations.push(addDevice(w));
      creations.push(...identityWrites(w, undefined));
    } else creations.push(...identityWrites(w, d));
  }

  for (const t of state.targets) {
    const r = running.targets.get(t.iqn);
    const base = tdir(t.iqn);
    if (!r) {
      creations.push({ path: `${DRV}/mgmt`, value: `add_target ${t.iqn}` });
      creations.push({ path: `${base}/rel_tgt_id`, value: String(t.tid) });
      if (t.alias) creations.push({ path: `${base}/alias`, value: t.alias });
      for (const p of t.portals)
        if (p.address !== '0.0.0.0' && p.address !== '::')
          creations.push({
            path: `${DRV}/mgmt`,
            value: `add_target_attribute ${t.iqn} allowed_portal ${p.address}`,
          });
    }
    for (const [kind, v] of chapAttrs(t, o.secrets)) {
      const have = kind === 'IncomingUser' ? r?.incoming : r?.outgoing;
      if (!have?.includes(v))
        creations.push({ path: `${DRV}/mgmt`, value: `add_target_attribute ${t.iqn} ${kind} ${v}` });
    }
    const wl = wantLuns(
      t,
      targetLevelLuns(t).map((l) => ({ lun: l.lun, target: l.lun })),
    );
    for (const [n, w] of wl) {
      const e = r?.luns.get(n);
      if (!e || !sameLun(e, w) || stale(e)) creations.push(addLun(`${base}/luns/mgmt`, n, w));
    }
    for (const g of t.groups) {
      const rg = r?.groups.get(g.name);
      const gdir = `${base}/ini_groups/${g.name}`;
      if (!rg) creations.push({ path: `${base}/ini_groups/mgmt`, value: `create ${g.name}` });
      for (const [n, w] of wantLuns(t, g.luns)) {
        const e = rg?.luns.get(n);
        if (!e || !sameLun(e, w) || stale(e)) creations.push(addLun(`${gdir}/luns/mgmt`, n, w));
      }
      for (const i of g.initiators)
        if (!rg?.initiators.includes(i))
          creations.push({ path: `${gdir}/initiators/mgmt`, value: `add ${i}` });
    }
    if (t.enabled !== (r?.enabled ?? false))
      creations.push({ path: `${base}/enabled`, value: t.enabled ? '1' : '0' });
  }
  return [...removals, ...creations];
}

/** Writes with CHAP secrets hidden (plans shown to users, logs). */
export function redactWrites(writes: SysfsWrite[]): SysfsWrite[] {
  return writes.map((w) => ({
    path: w.path,
    value: w.value.replace(/\b((?:Incoming|Outgoing)User\d*) (\S+) \S+$/, '$1 $2 ********'),
  }));
}

/** Perform the writes under a sysroot, one at a time, in order (each a management command). */
export async function applySysfsWrites(sysroot: string, writes: SysfsWrite[]): Promise<void> {
  const root = scstRoot(sysroot);
  for (const w of writes) await writeFile(path.join(root, w.path), `${w.value}\n`, { flag: 'w' });
}
