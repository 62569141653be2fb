/**
 * The same library definition on tgt's SMC/SSC emulation (tgt README.vtl): where mhvtl cannot
 * run (no kernel module), a VtlLibrary becomes an iSCSI target on tgtd with one tape LUN per
 * drive and a changer LUN whose elements mirror the definition: data transfer elements (one per
 * drive, bound to the drive LUNs), a picker, the storage slots with the cartridges' barcodes,
 * and the mailslots (import/export elements). Cartridges are tgtimg images named by barcode in
 * the changer's media home, so mtx's slot n holds the same barcode as mhvtl's `Slot n:`.
 * Pure argv; the caller runs them in order (tgtd must be listening on the control port).
 */
import path from 'node:path';
import { barcodesOf, type VtlLibrary } from './model.js';

export interface TgtMapOptions {
  /** directory for the changer's state file, the drives' idle images and the cartridges */
  dir: string;
  /** tgtd control port (-C) */
  control: number;
  tid: number;
  iqn: string;
  /** initiator address allowed to log in (loopback in tests) */
  initiator: string;
}

export function tgtLibraryPlan(l: VtlLibrary, o: TgtMapOptions): string[][] {
  const adm = (...a: string[]) => ['tgtadm', '-C', String(o.control), '--lld', 'iscsi', ...a];
  const lu = (lun: number, ...a: string[]) =>
    adm(
      '--mode',
      'logicalunit',
      '--op',
      a[0] === 'new' ? 'new' : 'update',
      '--tid',
      String(o.tid),
      '--lun',
      String(lun),
      ...a.slice(1),
    );
  const img = (barcode: string, kind: 'data' | 'clean') => [
    'tgtimg',
    '--op',
    'new',
    '--device-type',
    'tape',
    '--barcode',
    barcode,
    '--size',
    String(l.capacityMB),
    '--type',
    kind,
    '--file',
    path.join(o.dir, barcode),
  ];
  const n = l.drives.length;
  const changer = n + 1;
  const firstSlot = changer + 1;
  const out: string[][] = [];
  for (const b of barcodesOf(l)) out.push(img(b.barcode, b.kind));
  // a drive LUN needs a backing image even while empty; it is taken offline at once
  for (let i = 1; i <= n; i++) out.push(img(`IDLE${String(i).padStart(2, '0')}`, 'data'));
  out.push(['truncate', '-s', '1024', path.join(o.dir, 'smc')]);
  out.push(adm('--mode', 'target', '--op', 'new', '--tid', String(o.tid), '-T', o.iqn));
  for (let i = 1; i <= n; i++) {
    out.push(lu(i, 'new', '-b', path.join(o.dir, `IDLE${String(i).padStart(2, '0')}`), '--device-type=tape'));
    out.push(lu(i, 'update', '--params', 'online=0'));
  }
  out.push(lu(changer, 'new', '-b', path.join(o.dir, 'smc'), '--device-type=changer'));
  out.push(lu(changer, 'update', '--params', `media_home=${o.dir}`));
  out.push(lu(changer, 'update', '--params', `element_type=4,start_address=1,quantity=${n}`));
  for (let i = 1; i <= n; i++)
    out.push(lu(changer, 'update', '--params', `element_type=4,address=${i},tid=${o.tid},lun=${i}`));
  out.push(lu(changer, 'update', '--params', `element_type=1,start_address=${changer},quantity=1`));
  out.push(
    lu(changer, 'update', '--params', `element_type=2,start_address=${firstSlot},quantity=${l.slots}`),
  );
  for (const b of barcodesOf(l))
    out.push(
      lu(
        changer,
        'update',
        '--params',
        `element_type=2,address=${firstSlot + b.slot - 1},barcode=${b.barcode},sides=1`,
      ),
    );
  if (l.mailslots > 0)
    out.push(
      lu(
        changer,
        'update',
        '--params',
        `element_type=3,start_address=${firstSlot + l.slots},quantity=${l.mailslots}`,
      ),
    );
  out.push(adm('--mode', 'target', '--op', 'bind', '--tid', String(o.tid), '-I', o.initiator));
  return out;
}
