/**
 * Run the Bacula daemons in the foreground on the configuration an agent generated. Production
 * uses systemd units pointing at the same files (docs/backup.md); the tests and the demo use this
 * to run director, storage and file daemons under a prefix on loopback ports the kernel picks.
 */
import net from 'node:net';
import { probeTcp } from '../agent/backup/bconsole.js';
import type { BaculaPaths } from '../agent/backup/paths.js';
import { createRunner, type Runner, type SpawnedCommand } from '../agent/runner.js';
import { sleep } from '../agent/util/time.js';

/** Ports the kernel hands out for port 0 are free at that moment; good enough for a test. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => {
      const s = net.createServer();
      return new Promise<net.Server>((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
    }),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

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

export interface BaculaDaemons {
  ports: { dir: number; fd: number; sd: number };
  daemons: Map<DaemonKind, RunningDaemon>;
  start(kind: DaemonKind): Promise<void>;
  stopDaemon(kind: DaemonKind): Promise<void>;
  startAll(): Promise<void>;
  /** Stop every daemon; throws when one is still running afterwards. */
  stop(): Promise<void>;
}

/**
 * The three daemons of an agent's generated configuration (`paths`), on `ports` (the ports the
 * agent was told with backup.settings.set). Nothing starts until start()/startAll().
 */
export function baculaDaemons(o: {
  paths: BaculaPaths;
  ports: { dir: number; fd: number; sd: number };
  runner?: Runner;
  env?: Partial<Record<DaemonKind, Record<string, string>>>;
}): BaculaDaemons {
  const runner = o.runner ?? createRunner();
  const daemons = new Map<DaemonKind, RunningDaemon>();
  const b: BaculaDaemons = {
    ports: o.ports,
    daemons,
    start: async (kind) => {
      if (daemons.has(kind)) return;
      daemons.set(
        kind,
        await startDaemon(
          runner,
          o.paths,
          kind,
          { host: '127.0.0.1', port: o.ports[kind] },
          undefined,
          o.env?.[kind],
        ),
      );
    },
    stopDaemon: async (kind) => {
      await daemons.get(kind)?.stop();
      daemons.delete(kind);
    },
    startAll: async () => {
      for (const k of ['sd', 'fd', 'dir'] as const) await b.start(k);
    },
    stop: async () => {
      const pids = [...daemons.values()].map((d) => ({ kind: d.kind, pid: d.cmd.child.pid }));
      for (const k of ['dir', 'sd', 'fd'] as const) await b.stopDaemon(k).catch(() => {});
      // a stop that failed quietly must not leave a Bacula daemon serving
      const alive = pids.filter(({ pid }) => {
        if (!pid) return false;
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      });
      if (alive.length)
        throw new Error(
          `bacula daemons still running: ${alive.map((a) => `${a.kind} (pid ${a.pid})`).join(', ')}`,
        );
    },
  };
  return b;
}
