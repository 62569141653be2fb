/**
 * LIO (the kernel's target, configured through configfs at /sys/kernel/config/target) seen as
 * one normalised tree: storage objects under core/<hba>/<name>, and per iSCSI target one TPG
 * (tpgt_1) with portals, LUNs linking to storage objects, node ACLs with mapped LUNs, CHAP
 * attributes and the TPG's access attributes. The same shape is read back from configfs
 * (lio-configfs.ts), built from the desired state here (`desiredLioTree`), saved as the
 * managed-config file (lio.json) and compared by the planner (lio-plan.ts).
 *
 * How the shared model maps onto LIO:
 * - a LUN is a storage object `t<tid>l<lun>`: zvol → iblock (block device), file → fileio
 *   (fd_dev_size = the file's size; write-back = buffered I/O);
 * - no group: "demo mode" (generate_node_acls=1), every initiator sees every LUN, CHAP on
 *   the TPG's auth; groups: one node ACL per initiator (tag = the group's name), each
 *   mapping exactly the group's LUNs (group LUN → target LUN), CHAP on each ACL's auth;
 * - read-only: the mapped LUN's write_protect (ACLs), iblock's readonly flag, and in demo mode
 *   demo_mode_write_protect when every LUN is read-only (a file LUN cannot be read-only for
 *   some initiators only in demo mode: refused with the reason);
 * - no portal: 0.0.0.0:3260.
 */
import { failed, invalid } from '../../rpc/errors.js';
import type { BackingPath } from './backend.js';
import { chapSecretKey, deviceName, type IscsiState, type Target } from './model.js';

export interface LioDevice {
  /** `<plugin>_<index>`: fileio_0, iblock_0 (others: read back, never created) */
  hba: string;
  name: string;
  kind: 'fileio' | 'iblock' | 'other';
  /** backing file or block device (null: not configured) */
  path: string | null;
  /** fileio only */
  sizeBytes?: number;
  /** iblock only */
  readonly?: boolean;
  /** fileio only: buffered I/O (write-back cache) */
  buffered?: boolean;
  blockSize?: number;
  serial?: string;
  enabled: boolean;
}

export interface LioAuth {
  userid: string;
  password: string;
  useridMutual: string;
  passwordMutual: string;
}

export interface LioMappedLun {
  lun: number;
  /** the TPG LUN it maps (null: the link is missing) */
  tpgLun: number | null;
  writeProtect: boolean;
  /** the symlink's name (read back) */
  link?: string;
}

export interface LioAcl {
  initiator: string;
  /** the initiator group's name */
  tag: string;
  luns: LioMappedLun[];
  auth: LioAuth;
}

export interface LioTpgAttrib {
  authentication: number;
  generate_node_acls: number;
  cache_dynamic_acls: number;
  demo_mode_write_protect: number;
}

export interface LioTpg {
  tag: number;
  enabled: boolean;
  /** `ip:port`, IPv6 as `[addr]:port` (the np directory names) */
  portals: string[];
  /** TPG LUN → storage object `<hba>/<name>` (null: no link) */
  luns: { lun: number; device: string | null; link?: string }[];
  acls: LioAcl[];
  attrib: LioTpgAttrib;
  auth: LioAuth;
}

export interface LioSession {
  initiator: string;
  address?: string;
  /** mapped LUNs of its ACL (undefined in demo mode: every LUN) */
  luns?: number[];
}

export interface LioTarget {
  iqn: string;
  tpgs: LioTpg[];
  /** read back only */
  sessions?: LioSession[];
}

export interface LioTree {
  /** the iSCSI fabric's directory exists (made by mkdir, which loads iscsi_target_mod's fabric) */
  fabric: boolean;
  /** the HBA directories that exist (read back; the planner creates missing ones) */
  hbas: string[];
  devices: LioDevice[];
  targets: LioTarget[];
}

export const NO_AUTH: LioAuth = { userid: '', password: '', useridMutual: '', passwordMutual: '' };

export const FILEIO_HBA = 'fileio_0';
export const IBLOCK_HBA = 'iblock_0';
export const TPG_TAG = 1;
export const DEFAULT_PORTAL = '0.0.0.0:3260';

export const devKey = (d: { hba: string; name: string }): string => `${d.hba}/${d.name}`;

export function portalDir(p: { address: string; port: number }): string {
  return p.address.includes(':') ? `[${p.address}]:${p.port}` : `${p.address}:${p.port}`;
}

export interface LioBuildOptions {
  backingPath: BackingPath;
  secret(key: string): string | undefined;
}

function secretOf(o: LioBuildOptions, key: string, where: string): string {
  const s = o.secret(key);
  if (s === undefined)
    throw failed(`the CHAP secret of ${where} (${key}) is missing from secrets.env; set CHAP again`, { key });
  return s;
}

function authOf(t: Target, o: LioBuildOptions): LioAuth {
  if (!t.chap) return NO_AUTH;
  return {
    userid: t.chap.user,
    password: secretOf(o, chapSecretKey(t.tid), t.iqn),
    useridMutual: t.chap.mutualUser ?? '',
    passwordMutual: t.chap.mutualUser ? secretOf(o, chapSecretKey(t.tid, true), `${t.iqn} (mutual)`) : '',
  };
}

function tpgOf(t: Target, o: LioBuildOptions): LioTpg {
  const demo = t.groups.length === 0;
  const auth = authOf(t, o);
  const allRo = t.luns.length > 0 && t.luns.every((l) => l.readonly);
  if (demo && !allRo)
    for (const l of t.luns)
      if (l.readonly && l.backing.kind === 'file')
        throw invalid(
          `${t.iqn}: LIO cannot make file LUN ${l.lun} read-only while other LUNs of the target stay writable for every initiator; add an initiator group (its ACLs carry read-only per LUN) or back the LUN by a zvol`,
          { target: t.iqn, lun: l.lun },
        );
  const ro = new Map(t.luns.map((l) => [l.lun, l.readonly]));
  const acls: LioAcl[] = t.groups.flatMap((g) =>
    g.initiators.map((initiator) => ({
      initiator,
      tag: g.name,
      luns: g.luns
        .map((m) => ({ lun: m.lun, tpgLun: m.target, writeProtect: ro.get(m.target) ?? false }))
        .sort((a, b) => a.lun - b.lun),
      auth,
    })),
  );
  return {
    tag: TPG_TAG,
    enabled: t.enabled,
    portals: t.portals.length ? t.portals.map(portalDir) : [DEFAULT_PORTAL],
    luns: t.luns
      .map((l) => ({
        lun: l.lun,
        device: devKey({
          hba: l.backing.kind === 'zvol' ? IBLOCK_HBA : FILEIO_HBA,
          name: deviceName(t.tid, l.lun),
        }),
      }))
      .sort((a, b) => a.lun - b.lun),
    acls: acls.sort((a, b) => (a.initiator < b.initiator ? -1 : a.initiator > b.initiator ? 1 : 0)),
    attrib: {
      authentication: t.chap ? 1 : 0,
      generate_node_acls: demo ? 1 : 0,
      cache_dynamic_acls: demo ? 1 : 0,
      demo_mode_write_protect: demo ? (allRo ? 1 : 0) : 1,
    },
    auth: demo ? auth : NO_AUTH,
  };
}

/** The configfs tree the desired state needs (secrets included: keep it out of plans and logs). */
export function desiredLioTree(state: IscsiState, o: LioBuildOptions): LioTree {
  const devices: LioDevice[] = [];
  for (const t of state.targets)
    for (const l of t.luns) {
      const name = deviceName(t.tid, l.lun);
      const path = o.backingPath(l);
      devices.push(
        l.backing.kind === 'zvol'
          ? {
              hba: IBLOCK_HBA,
              name,
              kind: 'iblock',
              path,
              readonly: l.readonly,
              blockSize: l.blockSize,
              serial: l.serial,
              enabled: true,
            }
          : {
              hba: FILEIO_HBA,
              name,
              kind: 'fileio',
              path,
              sizeBytes: l.backing.sizeBytes,
              buffered: l.cache === 'write-back',
              blockSize: l.blockSize,
              serial: l.serial,
              enabled: true,
            },
      );
    }
  devices.sort((a, b) => (devKey(a) < devKey(b) ? -1 : devKey(a) > devKey(b) ? 1 : 0));
  const hbas = [...new Set(devices.map((d) => d.hba))].sort();
  return {
    fabric: state.targets.length > 0,
    hbas,
    devices,
    targets: [...state.targets]
      .sort((a, b) => a.tid - b.tid)
      .map((t) => ({ iqn: t.iqn, tpgs: [tpgOf(t, o)] })),
  };
}

/** The saved configuration (lio.json): the desired tree, stable text. */
export function renderLioJson(tree: LioTree): string {
  return `${JSON.stringify({ format: 'calypso-lio/1', ...tree }, null, 2)}\n`;
}

/** lio.json with every CHAP password hidden (diffs, history). */
export function redactLioJson(text: string): string {
  return text.replace(/("password(?:Mutual)?": )"(?:[^"\\]|\\.)+"/g, '$1"********"');
}
