/** The kernel's view of an iSCSI session's LUNs, from sysfs: device nodes by LUN number and SCSI type. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface ScsiLun {
  hctl: string;
  lun: number;
  /** SCSI peripheral type: 0 disk, 1 tape, 8 medium changer */
  type: number;
  vendor: string;
  model: string;
  /** /dev/sdX, /dev/nstN, /dev/sgN where the kernel made them */
  block?: string;
  nst?: string;
  sg?: string;
}

const one = (dir: string): string | undefined =>
  existsSync(dir) ? readdirSync(dir).map((e) => `/dev/${e}`)[0] : undefined;

/** the LUNs of the (first) iSCSI session to `iqn`; empty when there is none */
export function sessionLuns(iqn: string): ScsiLun[] {
  const out: ScsiLun[] = [];
  if (!existsSync('/sys/class/iscsi_session')) return out;
  for (const s of readdirSync('/sys/class/iscsi_session')) {
    const dir = `/sys/class/iscsi_session/${s}`;
    if (readFileSync(`${dir}/targetname`, 'utf8').trim() !== iqn) continue;
    const dev = path.join(dir, 'device');
    for (const tgt of readdirSync(dev).filter((e) => e.startsWith('target'))) {
      for (const hctl of readdirSync(path.join(dev, tgt)).filter((e) => /^\d+:\d+:\d+:\d+$/.test(e))) {
        const d = path.join(dev, tgt, hctl);
        const read = (f: string) => readFileSync(path.join(d, f), 'utf8').trim();
        const tape = one(path.join(d, 'scsi_tape'));
        out.push({
          hctl,
          lun: Number(hctl.split(':')[3]),
          type: Number(read('type')),
          vendor: read('vendor'),
          model: read('model'),
          block: one(path.join(d, 'block')),
          // scsi_tape lists st0, nst0, st0a...: the non-rewinding node of the drive
          nst: tape && existsSync(path.join(d, 'scsi_tape')) ? nstOf(path.join(d, 'scsi_tape')) : undefined,
          sg: one(path.join(d, 'scsi_generic')),
        });
      }
    }
  }
  return out.sort((a, b) => a.lun - b.lun);
}

function nstOf(dir: string): string | undefined {
  const n = readdirSync(dir).find((e) => /^nst\d+$/.test(e));
  return n ? `/dev/${n}` : undefined;
}

/** wait until `pred` holds for the session's LUNs (udev and the SCSI scan are asynchronous) */
export async function waitLuns(
  iqn: string,
  pred: (l: ScsiLun[]) => boolean,
  ms = 30_000,
): Promise<ScsiLun[]> {
  const end = Date.now() + ms;
  for (;;) {
    const l = sessionLuns(iqn);
    if (pred(l)) return l;
    if (Date.now() > end) throw new Error(`iSCSI LUNs of ${iqn} not as expected: ${JSON.stringify(l)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
