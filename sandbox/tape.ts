/**
 * An emulated tape library (tests and the demo): tgtd (foreground, loopback portal, own control port) with a
 * medium changer, two tape drives and barcoded tapes, reached through the LD_PRELOAD shim.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './paths.js';
import { buildPreload } from './tape-preload.js';

export interface TapeLab {
  env: Record<string, string>;
  changerDevice: string;
  driveDevices: string[];
  /** sg pass-through devices of the drives (for tapeinfo, sg_inq). */
  driveSgDevices: string[];
  slots: number;
  mailslots: number;
  barcodes: string[];
  dir: string;
  /** a cartridge put into a storage slot (mtx numbering) by hand, as through the library's door */
  insert(slot: number, barcode: string): void;
  /** the library's iSCSI target and portal (the kernel lab logs in to it with open-iscsi) */
  iqn: string;
  portal: string;
  stop(): Promise<void>;
}

let nextPort = 13300 + (process.pid % 400) * 2;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `preload: false` (the kernel lab): no shim; the device fields then name the shim's devices, and the caller
 * reaches the library through the kernel's initiator at `portal` instead.
 */
export async function startTapeLab(
  opts: {
    slots?: number;
    mailslots?: number;
    tapes?: number;
    preload?: boolean;
    /** where its files go (a fresh directory under it); default the system's temporary directory */
    parent?: string;
    /** the portal's port and tgtd's control port; default ones derived from the process id */
    port?: number;
    control?: number;
  } = {},
): Promise<TapeLab> {
  const slots = opts.slots ?? 6;
  const mailslots = opts.mailslots ?? 1;
  const tapes = Math.min(opts.tapes ?? 4, slots);
  const { dir, cleanup } = tempDir('calypso-tapeemu-', opts.parent);
  const port = opts.port ?? nextPort;
  if (opts.port === undefined) nextPort += 2;
  const control = opts.control ?? port % 10000;
  const iqn = 'iqn.2024-01.calypso.test:vtl';
  const media = path.join(dir, 'media');
  execFileSync('mkdir', ['-p', media]);
  writeFileSync(path.join(media, 'smc'), Buffer.alloc(1024));
  const barcodes = Array.from({ length: tapes }, (_, i) => `CAL${String(i + 1).padStart(3, '0')}L5`);
  const newTape = (b: string) =>
    execFileSync(
      'tgtimg',
      [
        '--op',
        'new',
        '--device-type',
        'tape',
        '--barcode',
        b,
        '--size',
        '64',
        '--type',
        'data',
        '--file',
        path.join(media, b),
      ],
      { stdio: 'ignore' },
    );
  for (const b of barcodes) newTape(b);
  const tgtd: ChildProcess = spawn(
    'tgtd',
    ['-f', '-C', String(control), '--iscsi', `portal=127.0.0.1:${port}`],
    { stdio: 'ignore' },
  );
  const stop = async (): Promise<void> => {
    if (tgtd.exitCode === null && tgtd.pid) {
      const gone = new Promise((r) => tgtd.once('exit', r));
      // tgtd ignores SIGTERM while it has targets; the control port shuts it down cleanly.
      try {
        execFileSync('tgtadm', ['-C', String(control), '--op', 'delete', '--mode', 'system', '--force'], {
          stdio: 'ignore',
          timeout: 5000,
        });
      } catch {
        tgtd.kill('SIGTERM');
      }
      await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
      if (tgtd.exitCode === null && tgtd.signalCode === null) {
        tgtd.kill('SIGKILL');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
      }
    }
    if (tgtd.pid && pidAlive(tgtd.pid)) throw new Error(`tgtd ${tgtd.pid} still running`);
    cleanup();
  };
  const adm = (...a: string[]) =>
    execFileSync('tgtadm', ['-C', String(control), '--lld', 'iscsi', ...a], { stdio: 'pipe' });
  try {
    for (let i = 0; ; i++) {
      try {
        adm('--op', 'show', '--mode', 'target');
        break;
      } catch (e) {
        if (i > 50) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    adm('--op', 'new', '--mode', 'target', '--tid', '1', '-T', iqn);
    for (const lun of [1, 2]) {
      adm(
        '--mode',
        'logicalunit',
        '--op',
        'new',
        '--tid',
        '1',
        '--lun',
        String(lun),
        '-b',
        path.join(media, barcodes[lun - 1] ?? 'none'),
        '--device-type=tape',
      );
      adm(
        '--mode',
        'logicalunit',
        '--op',
        'update',
        '--tid',
        '1',
        '--lun',
        String(lun),
        '--params',
        'online=0',
      );
    }
    const u = (p: string) =>
      adm('--mode', 'logicalunit', '--op', 'update', '--tid', '1', '--lun', '3', '--params', p);
    adm(
      '--mode',
      'logicalunit',
      '--op',
      'new',
      '--tid',
      '1',
      '--lun',
      '3',
      '-b',
      path.join(media, 'smc'),
      '--device-type=changer',
    );
    u(`media_home=${media}`);
    u('element_type=4,start_address=1,quantity=2');
    u('element_type=4,address=1,tid=1,lun=1');
    u('element_type=4,address=2,tid=1,lun=2');
    u('element_type=1,start_address=3,quantity=1');
    u(`element_type=2,start_address=10,quantity=${slots}`);
    u(`element_type=3,start_address=${10 + slots},quantity=${mailslots}`);
    for (const [i, b] of barcodes.entries()) u(`element_type=2,address=${10 + i},barcode=${b},sides=1`);
    adm('--op', 'bind', '--mode', 'target', '--tid', '1', '-I', 'ALL');
    const url = (lun: number) => `iscsi://127.0.0.1:${port}/${iqn}/${lun}`;
    const cfg = path.join(dir, 'tape-emu.conf');
    writeFileSync(
      cfg,
      [
        `/dev/sg5 sg ${url(3)}`,
        `/dev/nst0 st ${url(1)}`,
        `/dev/nst1 st ${url(2)}`,
        `/dev/sg6 sg ${url(1)}`,
        `/dev/sg7 sg ${url(2)}`,
      ].join('\n') + '\n',
    );
    const so = opts.preload === false ? undefined : buildPreload(dir);
    if (so !== undefined && !existsSync(so)) throw new Error('preload not built');
    return {
      env: so ? { LD_PRELOAD: so, TAPE_EMU_CONFIG: cfg } : {},
      changerDevice: '/dev/sg5',
      driveDevices: ['/dev/nst0', '/dev/nst1'],
      driveSgDevices: ['/dev/sg6', '/dev/sg7'],
      slots,
      mailslots,
      barcodes,
      dir,
      insert: (slot, barcode) => {
        newTape(barcode);
        u(`element_type=2,address=${9 + slot},barcode=${barcode},sides=1`);
      },
      iqn,
      portal: `127.0.0.1:${port}`,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
