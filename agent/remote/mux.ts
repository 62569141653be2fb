/**
 * One SSH connection per replication run: a master (`ssh -M -N`, ssh.ts masterArgv) started when
 * the run starts and stopped when it ends, also when it fails or is aborted; the run's commands
 * are sessions of it (ControlMaster=no with its ControlPath), so the run pays one key exchange
 * instead of one per remote step. The control socket is in a 0700 directory under the agent's
 * state directory, named after the task (one run of a task at a time: its job lock), so the dry
 * run shows the same argv as the run. Without a master (it failed to start, or the path is too
 * long for a socket), each ssh connects on its own, as before.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RemoteContext } from './context.js';
import type { RemoteRecord } from './model.js';
import { masterArgv } from './ssh.js';

/** sun_path holds 108 bytes; ssh adds a temporary suffix while it binds */
const MAX_SOCKET = 80;

/** the task's control socket, or undefined when the path would be too long for one */
export function muxPath(stateDir: string, taskId: string): string | undefined {
  const p = path.join(
    stateDir,
    'remote',
    'mux',
    createHash('sha256').update(taskId).digest('hex').slice(0, 12),
  );
  return Buffer.byteLength(p) <= MAX_SOCKET ? p : undefined;
}

export interface Mux {
  /** the master is up: the run's ssh commands go through it */
  up: boolean;
  /** why not, when it is not */
  note?: string;
  close(): Promise<void>;
}

/** Start the run's master connection and wait until it is up (or gave up). */
export async function openMux(
  x: RemoteContext,
  r: RemoteRecord,
  controlPath: string | undefined,
  signal: AbortSignal,
): Promise<Mux> {
  if (!controlPath)
    return {
      up: false,
      note: 'no shared connection: the state directory’s path is too long for a socket',
      close: async () => {},
    };
  const dir = path.dirname(controlPath);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  rmSync(controlPath, { force: true }); // a crashed run's
  const files = await x.materialize(r);
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const master = x.deps.runner.spawn(masterArgv(r, files, controlPath), {
    timeoutMs: 0,
    dieWithParent: true,
    signal: stop.signal,
  });
  let exited: string | undefined;
  master.done.then(
    (res) => (exited = `the master connection ended (exit ${res.code}): ${res.stderr.trim()}`),
    (err: Error) => (exited = err.message),
  );
  const close = async () => {
    signal.removeEventListener('abort', onAbort);
    stop.abort();
    await master.done.catch(() => {});
    rmSync(controlPath, { force: true });
  };
  const deadline = Date.now() + (x.cfg.commandTimeoutSec ?? 60) * 1000;
  while (!existsSync(controlPath) && !exited && !signal.aborted && Date.now() < deadline) await sleep(10);
  if (existsSync(controlPath)) return { up: true, close };
  await close();
  return {
    up: false,
    note: `no shared connection, each step connects on its own: ${exited ?? 'the master did not come up'}`,
    close: async () => {},
  };
}
