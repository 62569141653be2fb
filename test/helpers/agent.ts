/**
 * Test harness: an in-process agent (`startTestAgent`) and a real agent process with its Unix
 * socket (`startAgentProcess`), both under a temporary prefix that is removed afterwards.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import type { Config } from '../../agent/config.js';
import { type Agent, createAgent } from '../../agent/create-agent.js';
import type { AgentDeps, Clock, ServiceFactory, Subsystem } from '../../agent/deps.js';
import type { EventBus } from '../../agent/events.js';
import type { JobRecord } from '../../agent/jobs.js';
import { createLayout } from '../../agent/layout.js';
import type { Runner } from '../../agent/runner.js';
import { AgentClient } from '../../rpc/client.js';
import type { Role } from '../../rpc/roles.js';
import { entry, tempDir } from './paths.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export interface TestAgent {
  agent: Agent;
  /** with `listen`: the Unix socket path and the WebSocket URL (when enabled) */
  socket?: string;
  websocket?: string;
  /** a client on the Unix socket (with `listen`), closed by stop() */
  client(): Promise<AgentClient>;
  deps: AgentDeps;
  events: EventBus;
  prefix: string;
  call<T = unknown>(
    method: string,
    params?: Record<string, unknown>,
    as?: { role?: Role; user?: string },
  ): Promise<T>;
  waitJob(id: string): Promise<JobRecord>;
  stop(): Promise<void>;
}

export interface TestAgentOptions {
  sysroot?: string;
  runner?: Runner;
  clock?: Clock;
  /** the core configuration, plus any subsystem slice by its key (`iscsi: {...}`) */
  config?: DeepPartial<Config> & Record<string, unknown>;
  /** the subsystems to load (a bare factory is a subsystem without a config slice); default all */
  services?: (ServiceFactory | Subsystem)[];
  /** open the Unix socket (and the WebSocket when the config enables it) */
  listen?: boolean;
  /** keep the prefix (debugging) */
  keep?: boolean;
  prefix?: string;
  /** validate every result against its schema (default true; a benchmark measures as the production agent, off) */
  checkResults?: boolean;
}

export async function startTestAgent(opts: TestAgentOptions = {}): Promise<TestAgent> {
  const tmp = opts.prefix ? { dir: opts.prefix, cleanup: () => {} } : tempDir();
  // the WebSocket (when a test enables it or leaves it at its default, enabled) on a free port:
  // no test may depend on 8787, which a demo or an installed agent may hold
  const config = {
    ...opts.config,
    agent: { ...opts.config?.agent, websocket: { port: 0, ...opts.config?.agent?.websocket } },
    log: { file: false, level: 'silent', ...opts.config?.log },
  };
  const agent = await createAgent({
    prefix: tmp.dir,
    config: config as Partial<Config>,
    runner: opts.runner,
    sysroot: opts.sysroot,
    clock: opts.clock,
    services: opts.services,
    log: pino({ level: process.env.CALYPSO_TEST_LOG ?? 'silent' }),
    checkResults: opts.checkResults ?? true,
  });
  let where: { socket: string; websocket?: string } | undefined;
  try {
    where = opts.listen ? await agent.listen() : undefined;
  } catch (err) {
    // a port taken, say: the agent is already open (LMDB, the Unix socket, its timers) and the
    // caller gets no handle to stop it, so stop it here, or it keeps the test file from exiting
    await agent.stop().catch(() => {});
    if (!opts.keep) tmp.cleanup();
    throw err;
  }
  const clients: AgentClient[] = [];
  return {
    agent,
    socket: where?.socket,
    websocket: where?.websocket,
    client: async () => {
      if (!where) throw new Error('startTestAgent: pass listen: true for a socket client');
      const c = await AgentClient.connectUnix(where.socket);
      clients.push(c);
      return c;
    },
    deps: agent.deps,
    events: agent.deps.events,
    prefix: tmp.dir,
    call: async <T>(
      method: string,
      params: Record<string, unknown> = {},
      as: { role?: Role; user?: string } = {},
    ) =>
      (await agent.inject(method, params, {
        role: as.role ?? 'admin',
        user: as.user ?? `test-${as.role ?? 'admin'}`,
      })) as T,
    waitJob: (id) => agent.deps.jobs.wait(id),
    stop: async () => {
      for (const c of clients) c.close();
      await agent.stop();
      if (!opts.keep) tmp.cleanup();
    },
  };
}

export interface AgentProcess {
  proc: ChildProcess;
  prefix: string;
  socket: string;
  wsUrl?: string;
  stderr(): string;
  client(): Promise<AgentClient>;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
  cleanup(): void;
}

export interface AgentProcessOptions {
  prefix?: string;
  config?: DeepPartial<Config> | string;
  env?: Record<string, string>;
  args?: string[];
  /** ms to wait for readiness */
  timeoutMs?: number;
}

/** Start `calypso-agent --prefix DIR` as a real process and wait until system.ping answers. */
export async function startAgentProcess(opts: AgentProcessOptions = {}): Promise<AgentProcess> {
  const tmp = opts.prefix ? { dir: opts.prefix, cleanup: () => {} } : tempDir();
  const layout = createLayout(tmp.dir);
  mkdirSync(layout.etc, { recursive: true });
  const cfg =
    typeof opts.config === 'string'
      ? opts.config
      : stringify({
          ...opts.config,
          agent: { ...opts.config?.agent, websocket: { port: 0, ...opts.config?.agent?.websocket } },
          log: { level: 'info', ...opts.config?.log },
        });
  writeFileSync(layout.configFile, cfg);
  const proc = spawn(
    process.execPath,
    [...entry('agent/main'), '--prefix', tmp.dir, '--quiet', ...(opts.args ?? [])],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...opts.env },
    },
  );
  let err = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`agent exited with ${proc.exitCode}: ${err}`);
    if (/ready/.test(err)) {
      try {
        const c = await AgentClient.connectUnix(layout.socket);
        await c.call('system.ping');
        c.close();
        break;
      } catch {
        /* not yet */
      }
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`agent not ready in time: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const wsUrl = /websocket: (\S+)/.exec(err)?.[1];
  return {
    proc,
    prefix: tmp.dir,
    socket: layout.socket,
    wsUrl,
    stderr: () => err,
    client: () => AgentClient.connectUnix(layout.socket),
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return exited;
    },
    kill9: async () => {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      await exited;
    },
    cleanup: () => tmp.cleanup(),
  };
}

export { path };
