/**
 * The demo appliance's private mount namespace (it runs under `unshare -m --propagation
 * private`): a /dev with no block device (only null, zero, random, urandom, tty, fuse, ptmx, pts
 * and shm), and empty /run and /var/lib/zfs. So the demo's own zfs-fuse and tgtd have their
 * sockets where only the demo sees them, the host's zfs-fuse and tgtd (and their pools and
 * targets) are out of reach, and no host disk can be named in a pool or a LUN: the devices are
 * not there. The mounts go when the namespace's last process exits.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const DEV_FILES = ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'fuse', 'ptmx'];
const DEV_DIRS = ['pts', 'shm'];

const mount = (...args: string[]) => execFileSync('mount', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** True when this process has a mount namespace of its own (not its parent's). */
export function inPrivateMountNamespace(): boolean {
  try {
    return readlinkSync('/proc/self/ns/mnt') !== readlinkSync(`/proc/${process.ppid}/ns/mnt`);
  } catch {
    return false;
  }
}

/**
 * Replace /dev, /run and /var/lib/zfs inside this (private) namespace. `stage` is an empty
 * directory the new /dev is assembled in before it is moved over /dev. Refuses outside a
 * private namespace: the same mounts there would hide the host's devices from everyone.
 */
export function sandboxMounts(stage: string): void {
  if (!inPrivateMountNamespace())
    throw new Error(
      'refusing to replace /dev and /run: not in a mount namespace of its own (run under unshare -m)',
    );
  mkdirSync(stage, { recursive: true });
  mount('-t', 'tmpfs', '-o', 'mode=755,size=1m', 'calypso-demo-dev', stage);
  for (const f of DEV_FILES) {
    if (!existsSync(`/dev/${f}`)) continue;
    writeFileSync(path.join(stage, f), '');
    mount('--bind', `/dev/${f}`, path.join(stage, f));
  }
  for (const d of DEV_DIRS) {
    if (!existsSync(`/dev/${d}`)) continue;
    mkdirSync(path.join(stage, d));
    mount('--bind', `/dev/${d}`, path.join(stage, d));
  }
  for (const [i, name] of ['stdin', 'stdout', 'stderr'].entries())
    symlinkSync(`/proc/self/fd/${i}`, path.join(stage, name));
  symlinkSync('/proc/self/fd', path.join(stage, 'fd'));
  mount('--move', stage, '/dev');
  // /run: zfs-fuse's socket (/run/zfs) and lock (/run/lock/zfs), tgtd's control sockets
  // (/run/tgtd), and nothing of the host's (dbus, systemd)
  mount('-t', 'tmpfs', '-o', 'mode=755', 'calypso-demo-run', '/run');
  for (const d of ['/run/zfs', '/run/lock/zfs', '/run/tgtd']) mkdirSync(d, { recursive: true });
  // zfs-fuse's pool cache
  if (existsSync('/var/lib/zfs')) mount('-t', 'tmpfs', '-o', 'mode=755', 'calypso-demo-zfs', '/var/lib/zfs');
}
