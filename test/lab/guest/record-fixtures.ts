/**
 * In the lab guest (not a test): records the tape and SCSI fixtures from the real tools on the real kernel.
 * tgt's virtual tape library (changer, two drives, barcoded cartridges, a cleaning cartridge, two mailslots) is
 * reached through open-iscsi, so the kernel's st/sg/ch drivers make the devices; scsi_debug adds two disks. Written
 * under OUT in the layout of test/fixtures/ (scripts/lab/record-fixtures.sh copies them there):
 *
 *   mtx/lab-tgt/        mtx status in several states (full, drive 0 loaded, a mailslot full, unloaded), mtx inquiry
 *   mt-st/lab-tgt/      mt status of a loaded drive and of an empty one
 *   lsscsi/lab-tgt/     lsscsi -g
 *   sg3-utils/lab-tgt/  sg_inq of the changer and of a drive
 *   mtx/lab-tgt/tapeinfo.drive0-loaded.txt
 *   sysfs/lab-tgt-scsi-debug/  the SCSI devices' sysfs, udev records and by-id links (record-scsi.ts, record-tree.ts)
 *   RECORDED.txt        kernel, tool versions and date
 *
 *   scripts/lab/run.sh -t 900 -x DIR -- node dist/test/lab/guest/record-fixtures.js /calypso-lab-run/export
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseMtxStatus } from '../../../agent/tape/parse-mtx-status.js';
import { startTapeLab, type TapeLab } from '../../../sandbox/tape.js';
import { recordScsi } from '../../hardware/record-scsi.js';
import { recordTree } from '../../hardware/record-tree.js';
import { sessionLuns, waitLuns } from './scsi-sysfs.js';
import { assertInGuest, labLib, ok, sh } from './sh.js';

const out = path.resolve(process.argv[2] ?? '/calypso-lab-run/export');

function put(rel: string, text: string): void {
  const p = path.join(out, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, text);
  console.log(`recorded ${rel} (${text.length} bytes)`);
}

/** stdout of a command whatever its exit status (mt status of an empty drive exits non-zero) */
async function any(argv: string[], ms = 60_000): Promise<string> {
  const r = await sh(argv, ms);
  return r.stdout + (r.code !== 0 ? r.stderr : '');
}

const version = async (argv: string[]) => (await any(argv)).trim().split('\n')[0] ?? '';
// dpkg-query's own format field, not a template
// biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's format syntax
const pkg = async (name: string) => (await any(['dpkg-query', '-W', '-f', '${Version}', name])).trim();

async function main(): Promise<void> {
  assertInGuest();
  let lab: TapeLab | undefined;
  let node: (...a: string[]) => string[] = () => [];
  try {
    await ok(['modprobe', 'scsi_debug', 'add_host=2', 'per_host_store=1', 'dev_size_mb=64']);
    lab = await startTapeLab({ slots: 8, mailslots: 2, tapes: 4, preload: false });
    lab.insert(6, 'CLN001L5');
    const l = lab;
    node = (...a) => ['iscsiadm', '-m', 'node', '-T', l.iqn, '-p', l.portal, ...a];
    await labLib('lab_iscsid');
    for (const m of ['st', 'sg', 'ch']) await ok(['modprobe', m]);
    await ok(['iscsiadm', '-m', 'discovery', '-t', 'st', '-p', lab.portal]);
    await ok(node('--login'));
    const luns = await waitLuns(lab.iqn, (x) => x.filter((y) => y.sg && (y.type !== 1 || y.nst)).length >= 3);
    await sh(['udevadm', 'settle', '-t', '30']);
    const changer = luns.find((x) => x.type === 8)!.sg!;
    const [d0, d1] = luns.filter((x) => x.type === 1);
    // st waits ~123 s for an empty drive to become ready: drive 1 stays empty, asked once, in the background
    const empty = any(['mt', '-f', d1!.nst!, 'status'], 300_000);

    const mtx = (...a: string[]) => ok(['mtx', '-f', changer, ...a]);
    put('mtx/lab-tgt/mtx-status.full.txt', await mtx('status'));
    put('mtx/lab-tgt/mtx-inquiry.changer.txt', await mtx('inquiry'));
    put('mtx/lab-tgt/mtx-inquiry.drive.txt', await ok(['mtx', '-f', d0!.sg!, 'inquiry']));
    await mtx('load', '1', '0');
    const loaded = await mtx('status');
    put('mtx/lab-tgt/mtx-status.drive0-loaded.txt', loaded);
    const mail = parseMtxStatus(loaded).slots.find((s) => s.importExport && !s.full)!;
    await mtx('transfer', '2', String(mail.index));
    put('mtx/lab-tgt/mtx-status.drive0-loaded-mailslot-full.txt', await mtx('status'));
    await ok(['mt', '-f', d0!.nst!, 'rewind']);
    put('mt-st/lab-tgt/mt-status.loaded-bot.txt', await any(['mt', '-f', d0!.nst!, 'status']));
    put('mtx/lab-tgt/tapeinfo.drive0-loaded.txt', await any(['tapeinfo', '-f', d0!.sg!]));
    await mtx('unload', '1', '0');
    put('mtx/lab-tgt/mtx-status.unloaded.txt', await mtx('status'));

    put('lsscsi/lab-tgt/lsscsi-g.txt', await ok(['lsscsi', '-g']));
    put('sg3-utils/lab-tgt/sg_inq.changer.txt', await ok(['sg_inq', changer]));
    put('sg3-utils/lab-tgt/sg_inq.drive.txt', await ok(['sg_inq', d0!.sg!]));
    put('mt-st/lab-tgt/mt-status.empty.txt', await empty);

    const tree = path.join(out, 'sysfs/lab-tgt-scsi-debug');
    const disks = readdirSync('/sys/block').filter((b) => {
      try {
        return readFileSync(`/sys/block/${b}/device/model`, 'utf8').trim() === 'scsi_debug';
      } catch {
        return false;
      }
    });
    recordTree('/', tree, disks);
    const nodes = recordScsi('/', tree);
    console.log(`recorded sysfs of ${disks.join(' ')} and ${nodes.length} SCSI char nodes`);

    const versions = [
      `recorded: ${new Date().toISOString()} in the kernel lab (scripts/lab/record-fixtures.sh)`,
      `kernel: ${(await ok(['uname', '-r'])).trim()}`,
      `tgt: ${await pkg('tgt')}`,
      `mtx: ${await pkg('mtx')}`,
      `mt-st: ${await pkg('mt-st')}`,
      `lsscsi: ${await pkg('lsscsi')}`,
      `sg3-utils: ${await pkg('sg3-utils')}`,
      `open-iscsi: ${await version(['iscsiadm', '--version'])}`,
      `library: tgt VTL, 2 drives, 8 slots, 2 mailslots; LUNs ${JSON.stringify(sessionLuns(lab.iqn).map((x) => [x.hctl, x.type, x.sg, x.nst ?? null]))}`,
    ];
    put('RECORDED.txt', `${versions.join('\n')}\n`);
  } finally {
    if (lab) await sh(node('--logout'));
    await lab?.stop();
    await sh(['modprobe', '-r', 'scsi_debug']);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
