/**
 * The configfs operations that take LIO from the tree read back (lio-configfs.ts) to the desired
 * tree (lio-tree.ts). Pure: trees in, ordered ops out; the dry run and the real run take their ops
 * from here against the tree read at that moment, so the plan shown is the one carried out. When
 * the trees agree there is no op.
 *
 * Order: removals first, children before parents (mapped LUNs, then ACLs, TPG LUNs, portals,
 * TPGs, targets, then storage objects no LUN links any more), then creations, parents before
 * children (HBAs, storage objects configured and enabled before anything exports them, targets,
 * TPGs, portals, attributes, CHAP, LUNs, ACLs with their mapped LUNs, the TPG's enable last).
 *
 * A storage object whose identity differs (kind, backing, size, cache, read-only flag, block
 * size, serial: none can change while it is exported) is removed with the LUNs that export it and
 * made again. CHAP passwords are written to configfs files, never passed on an argv; plans show
 * them as ********.
 */
import { mkdir, rmdir, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { invalid } from '../../rpc/errors.js';
import {
  devKey,
  type LioAcl,
  type LioAuth,
  type LioDevice,
  type LioTpg,
  type LioTree,
  NO_AUTH,
} from './lio-tree.js';

export interface LioOp {
  op: 'mkdir' | 'rmdir' | 'write' | 'link' | 'unlink';
  /** relative to /sys/kernel/config/target */
  path: string;
  /** write: the value (no newline is added); link: the link's target, relative to the same root */
  value?: string;
  /** the value is a CHAP password */
  secret?: boolean;
}

export const REDACTED = '********';

/** What plans, results and logs show for an op. */
export function shownOp(o: LioOp): string[] {
  const v = o.value === undefined ? [] : [o.secret ? REDACTED : o.value];
  return ['configfs', o.op, o.path, ...v];
}

const SAFE_PARAM = /^[^,\n\s=]+$/;

function controlOf(d: LioDevice): string {
  if (!d.path || !SAFE_PARAM.test(d.path))
    throw invalid(
      `backing path ${JSON.stringify(d.path)} of ${d.name} cannot be given to LIO (comma, blank or =)`,
      {
        path: d.path,
      },
    );
  if (d.kind === 'fileio')
    return `fd_dev_name=${d.path},fd_dev_size=${d.sizeBytes ?? 0}${d.buffered ? ',fd_buffered_io=1' : ''}`;
  return `udev_path=${d.path}${d.readonly ? ',readonly=1' : ''}`;
}

function sameDevice(w: LioDevice, r: LioDevice): boolean {
  return (
    r.enabled &&
    r.kind === w.kind &&
    r.path === w.path &&
    (w.kind !== 'fileio' ||
      (r.sizeBytes === w.sizeBytes && (r.buffered ?? false) === (w.buffered ?? false))) &&
    (w.kind !== 'iblock' || (r.readonly ?? false) === (w.readonly ?? false)) &&
    r.blockSize === w.blockSize &&
    r.serial === w.serial
  );
}

const TPG_ATTRS = [
  'generate_node_acls',
  'cache_dynamic_acls',
  'demo_mode_write_protect',
  'authentication',
] as const;

function authOps(dir: string, want: LioAuth, have: LioAuth): LioOp[] {
  const out: LioOp[] = [];
  const fields: [keyof LioAuth, string, boolean][] = [
    ['userid', 'userid', false],
    ['password', 'password', true],
    ['useridMutual', 'userid_mutual', false],
    ['passwordMutual', 'password_mutual', true],
  ];
  for (const [k, file, secret] of fields)
    if (want[k] !== have[k])
      out.push({
        op: 'write',
        path: `${dir}/auth/${file}`,
        value: want[k] || 'NULL',
        ...(secret && want[k] ? { secret } : {}),
      });
  return out;
}

function removeAcl(dir: string, a: LioAcl): LioOp[] {
  const out: LioOp[] = [];
  for (const m of a.luns) out.push(...removeMapped(`${dir}/lun_${m.lun}`, m.link));
  out.push({ op: 'rmdir', path: dir });
  return out;
}

function removeMapped(dir: string, link: string | undefined): LioOp[] {
  return [...(link ? [{ op: 'unlink' as const, path: `${dir}/${link}` }] : []), { op: 'rmdir', path: dir }];
}

const lunLink = (device: string) => device.split('/')[1]!;

function removeLun(dir: string, link: string | undefined): LioOp[] {
  return [...(link ? [{ op: 'unlink' as const, path: `${dir}/${link}` }] : []), { op: 'rmdir', path: dir }];
}

function removeTpg(dir: string, t: LioTpg): LioOp[] {
  const out: LioOp[] = [];
  if (t.enabled) out.push({ op: 'write', path: `${dir}/enable`, value: '0' });
  for (const a of t.acls) out.push(...removeAcl(`${dir}/acls/${a.initiator}`, a));
  for (const l of t.luns) out.push(...removeLun(`${dir}/lun/lun_${l.lun}`, l.link));
  for (const p of t.portals) out.push({ op: 'rmdir', path: `${dir}/np/${p}` });
  out.push({ op: 'rmdir', path: dir });
  return out;
}

/** The ops from `running` to `want`, in order (secrets in clear: show them through shownOp). */
export function planLio(want: LioTree, running: LioTree): LioOp[] {
  const removals: LioOp[] = [];
  const creations: LioOp[] = [];
  const wantDev = new Map(want.devices.map((d) => [devKey(d), d]));
  const runDev = new Map(running.devices.map((d) => [devKey(d), d]));
  /** live storage objects to remove (unwanted, or made again) */
  const gone = new Set<string>();
  for (const [k, r] of runDev) {
    const w = wantDev.get(k);
    if (!w || !sameDevice(w, r)) gone.add(k);
  }
  const wantTargets = new Map(want.targets.map((t) => [t.iqn, t]));
  const runTargets = new Map(running.targets.map((t) => [t.iqn, t]));
  /** per target: TPG LUNs and ACL mapped LUNs that stay (`iqn lun_N`, `iqn ini lun_N`) */
  const keptLuns = new Set<string>();
  const keptMapped = new Set<string>();
  const keptAcls = new Set<string>();

  for (const r of running.targets) {
    const base = `iscsi/${r.iqn}`;
    const w = wantTargets.get(r.iqn);
    const wtpg = w?.tpgs[0];
    for (const rt of r.tpgs) {
      const dir = `${base}/tpgt_${rt.tag}`;
      if (!wtpg || rt.tag !== wtpg.tag) {
        removals.push(...removeTpg(dir, rt));
        continue;
      }
      const wLuns = new Map(wtpg.luns.map((l) => [l.lun, l]));
      const lunGoes = new Set<number>();
      for (const l of rt.luns) {
        const x = wLuns.get(l.lun);
        if (!x || x.device !== l.device || (l.device !== null && gone.has(l.device))) lunGoes.add(l.lun);
        else keptLuns.add(`${r.iqn} ${l.lun}`);
      }
      const wAcls = new Map(wtpg.acls.map((a) => [a.initiator, a]));
      for (const a of rt.acls) {
        const adir = `${dir}/acls/${a.initiator}`;
        const wa = wAcls.get(a.initiator);
        if (!wa) {
          removals.push(...removeAcl(adir, a));
          continue;
        }
        keptAcls.add(`${r.iqn} ${a.initiator}`);
        for (const m of a.luns) {
          const wm = wa.luns.find((x) => x.lun === m.lun);
          if (!wm || wm.tpgLun !== m.tpgLun || m.tpgLun === null || lunGoes.has(m.tpgLun))
            removals.push(...removeMapped(`${adir}/lun_${m.lun}`, m.link));
          else keptMapped.add(`${r.iqn} ${a.initiator} ${m.lun}`);
        }
      }
      for (const l of rt.luns)
        if (lunGoes.has(l.lun)) removals.push(...removeLun(`${dir}/lun/lun_${l.lun}`, l.link));
      for (const p of rt.portals)
        if (!wtpg.portals.includes(p)) removals.push({ op: 'rmdir', path: `${dir}/np/${p}` });
    }
    if (!w) removals.push({ op: 'rmdir', path: base });
  }
  for (const k of gone) removals.push({ op: 'rmdir', path: `core/${k}` });

  const hbas = new Set(running.hbas);
  for (const h of want.hbas) if (!hbas.has(h)) creations.push({ op: 'mkdir', path: `core/${h}` });
  for (const d of want.devices) {
    const k = devKey(d);
    if (runDev.has(k) && !gone.has(k)) continue;
    const dir = `core/${k}`;
    creations.push(
      { op: 'mkdir', path: dir },
      { op: 'write', path: `${dir}/control`, value: controlOf(d) },
      { op: 'write', path: `${dir}/udev_path`, value: d.path ?? '' },
      { op: 'write', path: `${dir}/enable`, value: '1' },
      { op: 'write', path: `${dir}/attrib/block_size`, value: String(d.blockSize ?? 512) },
    );
    if (d.serial) creations.push({ op: 'write', path: `${dir}/wwn/vpd_unit_serial`, value: d.serial });
  }

  if (want.targets.length && !running.fabric) creations.push({ op: 'mkdir', path: 'iscsi' });
  for (const w of want.targets) {
    const base = `iscsi/${w.iqn}`;
    const r = runTargets.get(w.iqn);
    if (!r) creations.push({ op: 'mkdir', path: base });
    const wt = w.tpgs[0]!;
    const rt = r?.tpgs.find((x) => x.tag === wt.tag);
    const dir = `${base}/tpgt_${wt.tag}`;
    if (!rt) creations.push({ op: 'mkdir', path: dir });
    for (const p of wt.portals)
      if (!rt?.portals.includes(p)) creations.push({ op: 'mkdir', path: `${dir}/np/${p}` });
    for (const k of TPG_ATTRS)
      if (!rt || rt.attrib[k] !== wt.attrib[k])
        creations.push({ op: 'write', path: `${dir}/attrib/${k}`, value: String(wt.attrib[k]) });
    creations.push(...authOps(dir, wt.auth, rt?.auth ?? NO_AUTH));
    for (const l of wt.luns) {
      if (keptLuns.has(`${w.iqn} ${l.lun}`) || !l.device) continue;
      const ldir = `${dir}/lun/lun_${l.lun}`;
      creations.push(
        { op: 'mkdir', path: ldir },
        { op: 'link', path: `${ldir}/${lunLink(l.device)}`, value: `core/${l.device}` },
      );
    }
    for (const a of wt.acls) {
      const adir = `${dir}/acls/${a.initiator}`;
      const ra = keptAcls.has(`${w.iqn} ${a.initiator}`)
        ? rt?.acls.find((x) => x.initiator === a.initiator)
        : undefined;
      if (!ra) creations.push({ op: 'mkdir', path: adir });
      if ((ra?.tag ?? '') !== a.tag)
        creations.push({ op: 'write', path: `${adir}/tag`, value: a.tag || 'NULL' });
      creations.push(...authOps(adir, a.auth, ra?.auth ?? NO_AUTH));
      for (const m of a.luns) {
        const mdir = `${adir}/lun_${m.lun}`;
        const rm =
          ra && keptMapped.has(`${w.iqn} ${a.initiator} ${m.lun}`)
            ? ra.luns.find((x) => x.lun === m.lun)
            : undefined;
        if (!rm)
          creations.push(
            { op: 'mkdir', path: mdir },
            { op: 'link', path: `${mdir}/lun_${m.tpgLun}`, value: `${dir}/lun/lun_${m.tpgLun}` },
          );
        if ((rm?.writeProtect ?? false) !== m.writeProtect)
          creations.push({ op: 'write', path: `${mdir}/write_protect`, value: m.writeProtect ? '1' : '0' });
      }
    }
    if (wt.enabled !== (rt?.enabled ?? false))
      creations.push({ op: 'write', path: `${dir}/enable`, value: wt.enabled ? '1' : '0' });
  }
  return [...removals, ...creations];
}

/** Perform one op under the configfs root (a write is one write(2) of the value, no newline). */
export async function applyLioOp(root: string, o: LioOp): Promise<void> {
  const p = path.join(root, o.path);
  switch (o.op) {
    case 'mkdir':
      return mkdir(p);
    case 'rmdir':
      return rmdir(p);
    case 'unlink':
      return unlink(p);
    case 'link':
      return symlink(path.join(root, o.value ?? ''), p);
    case 'write':
      return writeFile(p, o.value ?? '');
  }
}
