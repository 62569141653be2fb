/**
 * LIO's running configuration read from configfs, `<sysroot>/sys/kernel/config/target`, into the
 * normalised tree of lio-tree.ts, and from there into the backends' shared LiveState. Layout
 * (kernel 6.1, recorded in test/fixtures/lio-configfs):
 *
 *   core/<plugin>_<n>/<name>/{enable, info, udev_path, attrib/block_size, wwn/vpd_unit_serial}
 *   iscsi/<iqn>/tpgt_<tag>/{enable, np/<ip:port>, attrib/*, auth/*, dynamic_sessions}
 *   iscsi/<iqn>/tpgt_<tag>/lun/lun_<n>/<link> → core/<hba>/<name>
 *   iscsi/<iqn>/tpgt_<tag>/acls/<initiator>/{tag, info, auth/*, lun_<n>/{write_protect, <link> → lun/lun_<m>}}
 *
 * CHAP passwords are read (root only) to compare with secrets.env; they never leave the agent.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { RpcError } from '../../rpc/errors.js';
import type { LiveGroup, LiveLun, LiveSession, LiveState, LiveTarget } from './backend.js';
import {
  devKey,
  type LioAcl,
  type LioAuth,
  type LioDevice,
  type LioSession,
  type LioTarget,
  type LioTpg,
  type LioTree,
} from './lio-tree.js';

export const LIO_ROOT = 'sys/kernel/config/target';
export const lioRoot = (sysroot: string): string => path.join(sysroot, LIO_ROOT);

async function text(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw err;
  }
}

/** An attribute's value: its text without the one trailing newline the kernel adds. */
async function attr(file: string): Promise<string> {
  return ((await text(file)) ?? '').replace(/\n$/, '');
}

async function num(file: string): Promise<number> {
  const v = Number((await attr(file)).trim());
  return Number.isFinite(v) ? v : 0;
}

async function dirs(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
  const out: string[] = [];
  for (const n of names.sort()) {
    try {
      const s = await stat(path.join(dir, n));
      if (s.isDirectory()) out.push(n);
    } catch {
      // a link to something gone: not a directory
    }
  }
  return out;
}

/** The one symlink in a LUN directory: its name and where it points (relative or absolute). */
async function linkIn(dir: string): Promise<{ name: string; target: string } | null> {
  let names: string[];
  try {
    names = await readdir(dir, { withFileTypes: true }).then((e) =>
      e.filter((x) => x.isSymbolicLink()).map((x) => x.name),
    );
  } catch {
    return null;
  }
  const name = names.sort()[0];
  return name ? { name, target: await readlink(path.join(dir, name)) } : null;
}

const HBA = /^([a-z]+(?:_[a-z]+)*)_([0-9]+)$/;

/** CHAP values: "NULL" (cleared) reads as empty. */
const authValue = (v: string) => (v === 'NULL' ? '' : v);

async function readAuth(dir: string): Promise<LioAuth> {
  return {
    userid: authValue(await attr(path.join(dir, 'userid'))),
    password: authValue(await attr(path.join(dir, 'password'))),
    useridMutual: authValue(await attr(path.join(dir, 'userid_mutual'))),
    passwordMutual: authValue(await attr(path.join(dir, 'password_mutual'))),
  };
}

async function readDevice(dir: string, hba: string, name: string): Promise<LioDevice> {
  const plugin = HBA.exec(hba)?.[1];
  const kind = plugin === 'fileio' || plugin === 'iblock' ? plugin : 'other';
  const info = (await text(path.join(dir, 'info'))) ?? '';
  const udev = (await attr(path.join(dir, 'udev_path'))).trim();
  const d: LioDevice = {
    hba,
    name,
    kind,
    path: udev || null,
    enabled: (await attr(path.join(dir, 'enable'))).trim() === '1',
  };
  if (kind === 'fileio') {
    const m = /File: (\S+)\s+Size: ([0-9]+)\s+Mode: (\S+)/.exec(info);
    if (m) {
      d.path = m[1]!;
      d.sizeBytes = Number(m[2]);
      d.buffered = m[3] !== 'O_DSYNC';
    }
  } else if (kind === 'iblock') {
    const m = /UDEV PATH: (\S*)/.exec(info);
    if (m?.[1]) d.path = m[1];
    const ro = /readonly: ([01])/.exec(info);
    if (ro) d.readonly = ro[1] === '1';
  }
  const bs = await num(path.join(dir, 'attrib', 'block_size'));
  if (bs) d.blockSize = bs;
  const sn = /:\s*(\S+)\s*$/.exec(await attr(path.join(dir, 'wwn', 'vpd_unit_serial')));
  if (sn) d.serial = sn[1]!;
  return d;
}

/** The device key a TPG LUN's link points to: its last two path components (<hba>/<name>). */
function deviceOfLink(link: { target: string } | null): string | null {
  if (!link) return null;
  const parts = link.target.replace(/\/+$/, '').split('/');
  return parts.length >= 2 ? `${parts[parts.length - 2]}/${parts[parts.length - 1]}` : null;
}

const lunNumber = (n: string) => (/^lun_([0-9]+)$/.test(n) ? Number(n.slice(4)) : undefined);

async function readAcl(dir: string, initiator: string): Promise<{ acl: LioAcl; session?: LioSession }> {
  const luns = [];
  for (const n of await dirs(dir)) {
    const lun = lunNumber(n);
    if (lun === undefined) continue;
    const link = await linkIn(path.join(dir, n));
    const m = link ? /lun_([0-9]+)\/?$/.exec(link.target) : null;
    luns.push({
      lun,
      tpgLun: m ? Number(m[1]) : null,
      writeProtect: (await attr(path.join(dir, n, 'write_protect'))).trim() === '1',
      ...(link ? { link: link.name } : {}),
    });
  }
  luns.sort((a, b) => a.lun - b.lun);
  const acl: LioAcl = {
    initiator,
    tag: (await attr(path.join(dir, 'tag'))).trim(),
    luns,
    auth: await readAuth(path.join(dir, 'auth')),
  };
  const info = (await text(path.join(dir, 'info'))) ?? '';
  if (!/^InitiatorName: /m.test(info)) return { acl }; // "No active iSCSI Session for …"

  const addr = /Address (\S+)/.exec(info);
  const session: LioSession = {
    initiator,
    luns: luns.map((l) => l.lun),
    ...(addr ? { address: addr[1]! } : {}),
  };
  return { acl, session };
}

async function readTpg(dir: string, tag: number): Promise<{ tpg: LioTpg; sessions: LioSession[] }> {
  const luns = [];
  for (const n of await dirs(path.join(dir, 'lun'))) {
    const lun = lunNumber(n);
    if (lun === undefined) continue;
    const link = await linkIn(path.join(dir, 'lun', n));
    luns.push({ lun, device: deviceOfLink(link), ...(link ? { link: link.name } : {}) });
  }
  luns.sort((a, b) => a.lun - b.lun);
  const acls: LioAcl[] = [];
  const sessions: LioSession[] = [];
  for (const ini of await dirs(path.join(dir, 'acls'))) {
    const r = await readAcl(path.join(dir, 'acls', ini), ini);
    acls.push(r.acl);
    if (r.session) sessions.push(r.session);
  }
  // sessions of initiators without an ACL of their own (demo mode)
  const known = new Set(acls.map((a) => a.initiator));
  for (const line of (await attr(path.join(dir, 'dynamic_sessions'))).split('\n')) {
    const ini = line.trim();
    if (ini && !known.has(ini)) sessions.push({ initiator: ini });
  }
  const a = (k: string) => num(path.join(dir, 'attrib', k));
  const tpg: LioTpg = {
    tag,
    enabled: (await attr(path.join(dir, 'enable'))).trim() === '1',
    portals: await dirs(path.join(dir, 'np')),
    luns,
    acls,
    attrib: {
      authentication: await a('authentication'),
      generate_node_acls: await a('generate_node_acls'),
      cache_dynamic_acls: await a('cache_dynamic_acls'),
      demo_mode_write_protect: await a('demo_mode_write_protect'),
    },
    auth: await readAuth(path.join(dir, 'auth')),
  };
  return { tpg, sessions };
}

/** Everything LIO runs; `unavailable` when the target core or its iSCSI fabric is not loaded. */
export async function readLioTree(sysroot: string): Promise<LioTree> {
  const root = lioRoot(sysroot);
  if (!existsSync(path.join(root, 'core')))
    throw new RpcError(
      'unavailable',
      `LIO is not loaded (no ${path.join(root, 'core')}); modprobe target_core_mod`,
    );
  const hbas = (await dirs(path.join(root, 'core'))).filter((h) => HBA.test(h) && h !== 'alua');
  const devices: LioDevice[] = [];
  for (const hba of hbas)
    for (const name of await dirs(path.join(root, 'core', hba))) {
      if (name === 'alua') continue;
      devices.push(await readDevice(path.join(root, 'core', hba, name), hba, name));
    }
  const targets: LioTarget[] = [];
  for (const iqn of await dirs(path.join(root, 'iscsi'))) {
    if (!/^(iqn|eui|naa)\./.test(iqn)) continue;
    const t: LioTarget = { iqn, tpgs: [], sessions: [] };
    for (const d of await dirs(path.join(root, 'iscsi', iqn))) {
      const m = /^tpgt_([0-9]+)$/.exec(d);
      if (!m) continue;
      const r = await readTpg(path.join(root, 'iscsi', iqn, d), Number(m[1]));
      t.tpgs.push(r.tpg);
      t.sessions!.push(...r.sessions);
    }
    t.tpgs.sort((a, b) => a.tag - b.tag);
    targets.push(t);
  }
  return { fabric: existsSync(path.join(root, 'iscsi')), hbas, devices, targets };
}

function liveLun(lun: number, d: LioDevice | undefined, writeProtect: boolean): LiveLun {
  const l: LiveLun = { lun, path: d?.path ?? null };
  if (d?.blockSize !== undefined) l.blockSize = d.blockSize;
  l.readonly = (d?.readonly ?? false) || writeProtect;
  if (d?.serial !== undefined) l.serial = d.serial;
  if (d?.sizeBytes !== undefined) l.sizeBytes = d.sizeBytes;
  return l;
}

/** The tree in the backends' shared shape: groups from the ACLs' tags. */
export function lioLive(tree: LioTree): LiveState {
  const devices = new Map(tree.devices.map((d) => [devKey(d), d]));
  const targets: LiveTarget[] = [];
  const sessions: LiveSession[] = [];
  for (const t of tree.targets) {
    const tpg = t.tpgs[0];
    const demo = tpg?.attrib.generate_node_acls === 1;
    // read-only as initiators see it: any ACL's write_protect, or demo mode's
    const wp = new Set<number>();
    for (const a of tpg?.acls ?? [])
      for (const m of a.luns) if (m.writeProtect && m.tpgLun !== null) wp.add(m.tpgLun);
    if (demo && tpg?.attrib.demo_mode_write_protect === 1) for (const l of tpg.luns) wp.add(l.lun);
    const groups = new Map<string, LiveGroup>();
    for (const a of tpg?.acls ?? []) {
      const name = a.tag || a.initiator;
      const g = groups.get(name) ?? { name, initiators: [], luns: [] };
      g.initiators.push(a.initiator);
      for (const m of a.luns) {
        const e = { lun: m.lun, target: m.tpgLun ?? -1 };
        if (!g.luns.some((x) => x.lun === e.lun && x.target === e.target)) g.luns.push(e);
      }
      groups.set(name, g);
    }
    const auth = demo ? tpg?.auth : tpg?.acls[0]?.auth;
    targets.push({
      iqn: t.iqn,
      enabled: tpg?.enabled ?? false,
      luns: (tpg?.luns ?? []).map((l) =>
        liveLun(l.lun, l.device ? devices.get(l.device) : undefined, wp.has(l.lun)),
      ),
      initiators: (tpg?.acls ?? []).map((a) => a.initiator),
      allowAll: demo,
      groups: [...groups.values()],
      chapUsers: tpg?.attrib.authentication && auth?.userid ? [auth.userid] : [],
      mutualUsers: tpg?.attrib.authentication && auth?.useridMutual ? [auth.useridMutual] : [],
    });
    for (const s of t.sessions ?? [])
      sessions.push({
        target: t.iqn,
        initiator: s.initiator,
        ...(s.address ? { address: s.address } : {}),
        ...(s.luns ? { luns: s.luns } : {}),
      });
  }
  return { targets, sessions };
}
