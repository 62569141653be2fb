/**
 * A real tgtd for tests and the demo: foreground, on a loopback portal away from 3260, with its
 * own control port (tgtadm -C), so it never meets another test's or the machine's tgtd. `kill()`
 * takes it away as a crash would; `restart()` brings up an empty one on the same ports (tgtd
 * keeps nothing across restarts). `blockio` is test/iscsi/blockio.c built for this lab (tests; the demo passes `blockio: false`).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot, tempDir } from './paths.js';

export interface TgtLab {
  dir: string;
  port: number;
  control: number;
  portal: string;
  blockio: string;
  /** `iscsi://[user%secret@]127.0.0.1:port/iqn/lun` */
  url(iqn: string, lun: number, chap?: { user: string; secret: string }): string;
  tgtadm(...args: string[]): string;
  pid(): number | undefined;
  /** SIGKILL, as a crash */
  kill(): Promise<void>;
  /** a fresh, empty tgtd on the same ports */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

let nextPort = 14100 + (process.pid % 300) * 3;

export function buildBlockio(outDir: string): string {
  const out = path.join(outDir, 'blockio');
  execFileSync('cc', ['-O1', '-Wall', '-o', out, path.join(repoRoot(), 'test/iscsi/blockio.c'), '-liscsi'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface TgtLabOptions {
  /** where its files go (a fresh directory under it); default the system's temporary directory */
  parent?: string;
  /** the portal's port and the control port; default ones derived from the process id */
  port?: number;
  control?: number;
  /** build the blockio tool (needs cc and libiscsi's headers); default true */
  blockio?: boolean;
  env?: Record<string, string>;
}

export async function startTgtLab(o: TgtLabOptions = {}): Promise<TgtLab> {
  const { dir, cleanup } = tempDir('calypso-tgt-', o.parent);
  const port = o.port ?? nextPort;
  if (o.port === undefined) nextPort += 3;
  const control = o.control ?? 2000 + (port % 7000);
  const blockio = o.blockio === false ? '' : buildBlockio(dir);
  let tgtd: ChildProcess | undefined;
  const tgtadm = (...args: string[]) =>
    execFileSync('tgtadm', ['-C', String(control), ...args], {
      encoding: 'utf8',
      stdio: 'pipe',
      timeout: 10_000,
    });

  async function start(): Promise<void> {
    const child = spawn('tgtd', ['-f', '-C', String(control), '--iscsi', `portal=127.0.0.1:${port}`], {
      stdio: 'ignore',
      env: o.env ? { ...process.env, ...o.env } : undefined,
    });
    tgtd = child;
    for (let i = 0; ; i++) {
      try {
        tgtadm('--lld', 'iscsi', '--mode', 'target', '--op', 'show');
        return;
      } catch (e) {
        if (i > 80 || child.exitCode !== null) throw e;
        await sleep(100);
      }
    }
  }

  async function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
    if (child.exitCode !== null || child.signalCode !== null) return true;
    return Promise.race([
      new Promise<boolean>((r) => child.once('exit', () => r(true))),
      sleep(ms).then(() => false),
    ]);
  }

  async function kill(): Promise<void> {
    const child = tgtd;
    if (!child) return;
    child.kill('SIGKILL');
    await waitExit(child, 5000);
    tgtd = undefined;
  }

  async function stop(): Promise<void> {
    const child = tgtd;
    if (child && child.exitCode === null && child.signalCode === null) {
      // tgtd leaves only when it has no target: delete them, then the system
      try {
        const show = tgtadm('--lld', 'iscsi', '--mode', 'target', '--op', 'show');
        for (const m of show.matchAll(/^Target (\d+):/gm))
          tgtadm('--lld', 'iscsi', '--mode', 'target', '--op', 'delete', '--force', '--tid', m[1]!);
        tgtadm('--op', 'delete', '--mode', 'system');
      } catch {
        child.kill('SIGTERM');
      }
      if (!(await waitExit(child, 3000))) {
        child.kill('SIGKILL');
        await waitExit(child, 3000);
      }
    }
    tgtd = undefined;
    cleanup();
  }

  try {
    await start();
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    dir,
    port,
    control,
    portal: `127.0.0.1:${port}`,
    blockio,
    url: (iqn, lun, chap) =>
      `iscsi://${chap ? `${chap.user}%${chap.secret}@` : ''}127.0.0.1:${port}/${iqn}/${lun}`,
    tgtadm,
    pid: () => tgtd?.pid,
    kill,
    restart: async () => {
      await kill();
      await start();
    },
    stop,
  };
}
