/**
 * Run the Bacula daemons in the foreground on the generated configuration. Production uses
 * systemd units pointing at the same files (README, Backup); the tests use
 * this to run director, storage and file daemons under a prefix on loopback ports.
 */

import { probeTcp } from '../../agent/backup/bconsole.js';
import type { BaculaPaths } from '../../agent/backup/paths.js';
import type { Runner, SpawnedCommand } from '../../agent/runner.js';
import { sleep } from '../../agent/util/time.js';

export type DaemonKind = 'dir' | 'sd' | 'fd';

export function daemonArgv(kind: DaemonKind, p: BaculaPaths): string[] {
  const conf = kind === 'dir' ? p.dirConf : kind === 'sd' ? p.sdConf : p.fdConf;
  // -f: stay in the foreground (the runner owns the process group); -c: our config only.
  return [`bacula-${kind}`, '-f', '-c', conf];
}

export interface RunningDaemon {
  kind: DaemonKind;
  cmd: SpawnedCommand;
  stop(): Promise<void>;
  output(): string;
}

/** Start one daemon and wait until its port accepts connections. */
export async function startDaemon(
  runner: Runner,
  p: BaculaPaths,
  kind: DaemonKind,
  endpoint: { host: string; port: number },
  timeoutMs = 20_000,
  env?: Record<string, string>,
): Promise<RunningDaemon> {
  const ac = new AbortController();
  const cmd = runner.spawn(daemonArgv(kind, p), {
    env,
    timeoutMs: 0,
    signal: ac.signal,
    captureStdout: true,
    okCodes: [0, 1, 2, 15],
  });
  let out = '';
  cmd.child.stdout?.on('data', (d: Buffer) => {
    out = (out + d.toString('utf8')).slice(-8192);
  });
  let exited = false;
  const settled = cmd.done.then(
    () => {
      exited = true;
    },
    () => {
      exited = true;
    },
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`bacula-${kind} exited at start: ${out.slice(-1000)}`);
    if ((await probeTcp(endpoint.host, endpoint.port, 500)).ok) break;
    if (Date.now() > deadline) {
      ac.abort();
      await settled;
      throw new Error(
        `bacula-${kind} did not listen on ${endpoint.host}:${endpoint.port} in time: ${out.slice(-1000)}`,
      );
    }
    await sleep(50);
  }
  return {
    kind,
    cmd,
    output: () => out,
    stop: async () => {
      if (!exited) ac.abort(); // SIGTERM to the process group, SIGKILL after the runner's grace period
      await settled;
    },
  };
}
