/**
 * Test helpers for the ZFS integration tests on a real ZFS: zfs-fuse on the host, the kernel's
 * OpenZFS 2.1 when the same files run inside the kernel lab guest (test/lab/openzfs-suite.test.ts):
 * - `useZfsFuse()` starts the daemon when it is not running and stops it at the end only if a test
 *   started it (a shared user count in the temp dir, so that parallel test files do not stop the
 *   daemon under each other's feet); in the lab guest it loads the zfs module instead;
 * - `zfsImpl()` says which of the two the file runs on (for the few zfs-fuse-only behaviours);
 * - `vdevFiles()` makes sparse file vdevs under a test prefix;
 * - `recordingRunner()` wraps the real runner and records every argv, so that a test can assert
 *   that nothing ran;
 * - `startZfsAgent()` starts an in-process agent with only the ZFS service and short polls.
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRunner, type Runner, SAFE_PATH } from '../../agent/runner.js';
import type { ZfsOptions } from '../../agent/zfs/context.js';
import { createZfsService } from '../../agent/zfs/service.js';
import { startTestAgent, type TestAgent, type TestAgentOptions } from '../helpers/agent.js';
import { suiteTag } from '../leftovers.js';

const STATE = path.join(os.tmpdir(), 'calypso-test-zfs-fuse');
const LOCK = path.join(STATE, 'lock');
const STARTED = path.join(STATE, 'started-pid');
const PIDFILE = path.join(STATE, 'zfs-fuse.pid');

function daemonPids(): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/comm`, 'utf8').trim() === 'zfs-fuse') out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(STATE, { recursive: true });
  for (let i = 0; ; i++) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      if (i > 600) rmSync(LOCK, { recursive: true, force: true }); // a crashed holder
      await sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

async function waitReady(runner: Runner): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await runner.run(['zpool', 'list', '-H'], { timeoutMs: 5000 });
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error('zfs-fuse did not come up');
}

/** In the kernel lab guest (scripts/lab/guest-init.sh writes this file): ZFS is the kernel's OpenZFS. */
const IN_LAB_GUEST = existsSync('/calypso-lab-run/cmd.sh');

/** The real ZFS these tests run on: zfs-fuse 0.7 on the host, OpenZFS in the lab guest. */
export function zfsImpl(): 'zfs-fuse' | 'openzfs' {
  return IN_LAB_GUEST ? 'openzfs' : 'zfs-fuse';
}

/** Make sure zfs-fuse runs for this test file; `release()` stops it if we started it and nobody else uses it. */
export async function useZfsFuse(): Promise<{ release(): Promise<void> }> {
  const runner = createRunner();
  if (IN_LAB_GUEST) {
    // the guest's zpool/zfs are zfsutils-linux (the lab's layer hides the host's zfs-fuse tools)
    await runner.run(['modprobe', 'zfs'], { timeoutMs: 120_000 });
    return { release: async () => {} };
  }
  const me = path.join(STATE, `user-${process.pid}`);
  await withLock(async () => {
    writeFileSync(me, '');
    if (daemonPids().length === 0) {
      // Not through the runner: zfs-fuse daemonizes and its child would keep captured pipes open.
      // No shell; the parent exits once the daemon is forked. Tagged with the suite's run
      // (test/leftovers.ts).
      rmSync(PIDFILE, { force: true }); // a stale one would name the wrong process
      const child = spawn('zfs-fuse', ['-p', PIDFILE], {
        stdio: 'ignore',
        env: { PATH: SAFE_PATH, ...suiteTag() },
      });
      await new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`zfs-fuse exited with ${code}`)),
        );
      });
      for (let i = 0; i < 50 && !existsSync(PIDFILE); i++) await sleep(100);
      writeFileSync(STARTED, readFileSync(PIDFILE, 'utf8').trim());
    }
    await waitReady(runner);
  });
  return {
    release: () =>
      withLock(async () => {
        rmSync(me, { force: true });
        const users = readdirSync(STATE).filter((f) => f.startsWith('user-'));
        const live = users.filter((f) => alive(Number(f.slice(5))));
        for (const f of users) if (!live.includes(f)) rmSync(path.join(STATE, f), { force: true });
        if (live.length > 0 || !existsSync(STARTED)) return;
        const pid = Number(readFileSync(STARTED, 'utf8'));
        rmSync(STARTED, { force: true });
        if (!pid || !alive(pid)) return;
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
      }),
  };
}

/** Sparse files to serve as vdevs (zfs-fuse wants absolute paths). */
export function vdevFiles(dir: string, names: string[], size = 128 * 1024 * 1024): string[] {
  mkdirSync(dir, { recursive: true });
  return names.map((n) => {
    const p = path.join(dir, n);
    const fd = openSync(p, 'w');
    try {
      ftruncateSync(fd, size); // grows the file without writing blocks
    } finally {
      closeSync(fd);
    }
    return p;
  });
}

export interface RecordingRunner extends Runner {
  calls: string[][];
  /** commands other than reads (list/get/status/version/send -n/import listing) */
  mutations(): string[][];
  clear(): void;
}

const READS = new Set(['list', 'get', 'status', 'version', 'holds', 'upgrade', 'iostat']);

export function isRead(argv: readonly string[]): boolean {
  const sub = argv[1] ?? '';
  if (READS.has(sub)) return true;
  if (argv[0] === 'zfs' && sub === 'send' && argv.includes('-nvP')) return true;
  if (argv[0] === 'zpool' && sub === 'import' && !argv.includes('--')) return true;
  return false;
}

export function recordingRunner(inner: Runner = createRunner()): RecordingRunner {
  const calls: string[][] = [];
  return {
    calls,
    mutations: () => calls.filter((c) => !isRead(c)),
    clear: () => {
      calls.length = 0;
    },
    which: (n) => inner.which(n),
    run: (argv, opts) => {
      calls.push([...argv]);
      return inner.run(argv, opts);
    },
    spawn: (argv, opts) => {
      calls.push([...argv]);
      return inner.spawn(argv, opts);
    },
  };
}

export const FAST: Partial<ZfsOptions> = {
  scanPollMs: 100,
  healthIntervalMs: 0,
  schedulerTickMs: 0,
  statusTimeoutMs: 30_000,
};

export async function startZfsAgent(
  opts: Omit<TestAgentOptions, 'services'> & { zfs?: Partial<ZfsOptions> } = {},
): Promise<TestAgent> {
  const { zfs, ...rest } = opts;
  return startTestAgent({ ...rest, services: [createZfsService({ ...FAST, ...zfs })] });
}

/** A pool name no other test uses. */
export function poolName(tag: string): string {
  return `ct${tag}${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** Destroy pools by name (the ones already gone are fine), and check that none is left. */
export async function destroyPools(names: string[]): Promise<void> {
  await destroyPoolsChecked(names);
}

/**
 * Destroy pools and check they are gone: a test's cleanup must not leave a pool in zfs-fuse
 * (the Cockpit end-to-end test once did, ignoring a destroy that failed while its agent still
 * ran). Call it after stopping the agents that use the pools; it retries a busy destroy, then
 * throws naming what is left.
 */
export async function destroyPoolsChecked(names: string[]): Promise<void> {
  const runner = createRunner();
  const left = async () => {
    const r = await runner.run(['zpool', 'list', '-H', '-o', 'name'], { timeoutMs: 30_000 });
    const now = new Set(r.stdout.split('\n').filter(Boolean));
    return names.filter((n) => now.has(n));
  };
  let last = '';
  for (let i = 0; i < 5; i++) {
    const remaining = await left();
    if (remaining.length === 0) return;
    for (const n of remaining) {
      await runner
        .run(['zpool', 'destroy', '-f', '--', n], { timeoutMs: 60_000 })
        .catch((err: Error) => (last = err.message));
    }
    await sleep(500 * (i + 1));
  }
  const remaining = await left();
  if (remaining.length) throw new Error(`pools left in zfs-fuse: ${remaining.join(', ')} (${last})`);
}
