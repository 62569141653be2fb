/** iscsi.adopt's pure part: what a backend runs, turned into the desired state. */
import path from 'node:path';
import type { LiveState } from './backend.js';
import { type IscsiState, type Lun, newIdentity, type Target } from './model.js';

/**
 * The running state as desired state: LUNs whose backing is a zvol device or a file of the data
 * area are kept (identities from the running LUN when it reports them); anything else is
 * skipped and named. CHAP users are kept when the desired state already had them (their
 * secrets are in secrets.env); a running user the agent has no secret for is named in skipped.
 */
export function adopt(
  desired: IscsiState,
  live: LiveState,
  dataDir: string,
  /** what makes identities generated for LUNs the backend reports none for unique */
  nonce: string,
): { next: IscsiState; skipped: string[] } {
  const skipped: string[] = [];
  const prev = new Map(desired.targets.map((t) => [t.iqn, t]));
  let nextTid = Math.max(0, ...desired.targets.map((t) => t.tid), ...live.targets.map((t) => t.tid ?? 0)) + 1;
  const targets: Target[] = [];
  for (const r of live.targets) {
    const old = prev.get(r.iqn);
    const tid = old?.tid ?? r.tid ?? nextTid++;
    const luns: Lun[] = [];
    for (const l of r.luns) {
      const oldLun = old?.luns.find((x) => x.lun === l.lun);
      let backing: Lun['backing'] | undefined;
      if (l.path?.startsWith('/dev/zvol/'))
        backing = { kind: 'zvol', dataset: l.path.slice('/dev/zvol/'.length) };
      else if (l.path && path.dirname(l.path) === dataDir) {
        const name = path.basename(l.path);
        const size = l.sizeBytes ?? (oldLun?.backing.kind === 'file' ? oldLun.backing.sizeBytes : undefined);
        if (size && size >= 1048576) backing = { kind: 'file', name, sizeBytes: size };
      }
      if (!backing) {
        skipped.push(
          `${r.iqn} LUN ${l.lun}: backing ${l.path ?? '(none)'} is neither a zvol nor a data-area file`,
        );
        continue;
      }
      const id = newIdentity(r.iqn, l.lun, nonce);
      luns.push({
        lun: l.lun,
        backing,
        blockSize: l.blockSize === 4096 ? 4096 : 512,
        readonly: l.readonly ?? false,
        cache: oldLun?.cache ?? 'write-through',
        serial: l.serial && /^[A-Za-z0-9]{1,16}$/.test(l.serial) ? l.serial : (oldLun?.serial ?? id.serial),
        naa: l.naa && /^6[0-9a-f]{31}$/.test(l.naa) ? l.naa : (oldLun?.naa ?? id.naa),
      });
    }
    const lunSet = new Set(luns.map((l) => l.lun));
    const groups = r.groups.length
      ? r.groups.map((g) => ({ ...g, luns: g.luns.filter((m) => lunSet.has(m.target)) }))
      : r.allowAll
        ? []
        : [{ name: 'acl', initiators: r.initiators, luns: luns.map((l) => ({ lun: l.lun, target: l.lun })) }];
    let chap = old?.chap;
    if (r.chapUsers.length && r.chapUsers[0] !== chap?.user) {
      skipped.push(
        `${r.iqn}: CHAP user ${r.chapUsers[0]} runs but its secret is unknown; set it with iscsi.target.chap.set`,
      );
      chap = undefined;
    } else if (!r.chapUsers.length) chap = undefined;
    targets.push({
      tid,
      iqn: r.iqn,
      ...(old?.alias ? { alias: old.alias } : {}),
      portals: old?.portals ?? [],
      luns,
      groups,
      ...(chap ? { chap } : {}),
      enabled: r.enabled,
    });
  }
  return { next: { targets }, skipped };
}
