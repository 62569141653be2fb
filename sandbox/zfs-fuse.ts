/**
 * The demo's own zfs-fuse, inside its private mount namespace (sandbox/namespace.ts): its socket
 * is in the namespace's /run, so it is not the host's daemon and sees none of the host's pools.
 * It must start empty: a pool already there means the socket is someone else's daemon, and the
 * demo stops rather than touch a pool it did not make.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ZfsFuse {
  pid: number;
  /** the pools this daemon has (names) */
  pools(): string[];
  stop(): Promise<void>;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export function zpoolNames(): string[] {
  return execFileSync('zpool', ['list', '-H', '-o', 'name'], { encoding: 'utf8', timeout: 30_000 })
    .split('\n')
    .filter(Boolean);
}

export async function startZfsFuse(dir: string, env: Record<string, string> = {}): Promise<ZfsFuse> {
  if (existsSync('/run/zfs/zfs_socket'))
    throw new Error('a zfs-fuse socket is already in this namespace: not the demo’s own daemon');
  const pidfile = path.join(dir, 'zfs-fuse.pid');
  // it daemonizes: the parent exits once the daemon is forked
  const child = spawn('zfs-fuse', ['--no-kstat-mount', '-p', pidfile], {
    stdio: 'ignore',
    env: { ...process.env, ...env },
  });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`zfs-fuse exited with ${code}`)),
    );
  });
  for (let i = 0; i < 50 && !existsSync(pidfile); i++) await sleep(100);
  const pid = Number(readFileSync(pidfile, 'utf8').trim());
  const stop = async () => {
    if (!alive(pid)) return;
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  };
  for (let i = 0; ; i++) {
    try {
      const pools = zpoolNames();
      if (pools.length) {
        await stop();
        throw new Error(`the demo's zfs-fuse already has pools (${pools.join(', ')}): refusing to use it`);
      }
      break;
    } catch (e) {
      if (i > 100 || /refusing/.test((e as Error).message)) {
        await stop();
        throw e;
      }
      await sleep(100);
    }
  }
  return { pid, pools: zpoolNames, stop };
}
