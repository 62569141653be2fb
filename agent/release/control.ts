/**
 * Starting, stopping and restarting the agent from outside it, and launching the upgrader where a
 * restart of the agent cannot kill it.
 *
 * In production that is systemd: the upgrader runs as a transient unit (systemd-run), outside the
 * agent's cgroup, with `ExecStopPost=` running the upgrader again in resume mode whenever it ends,
 * however it ends. The test supervisor (supervisor.ts) mirrors exactly that contract with signals
 * and a hold file, so the same upgrader code is exercised by the tests.
 */
import { readFileSync, rmSync } from 'node:fs';
import { unavailable } from '../../rpc/errors.js';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import type { Layout } from '../layout.js';
import type { Runner } from '../runner.js';
import { sleep } from '../util/time.js';
import type { Controller } from './journal.js';
import { AGENT_UNIT, releasePaths } from './paths.js';

export interface AgentControl {
  restart(): Promise<void>;
  /** Stop the agent and keep it stopped while this process lives (or until start()). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** How many times the agent process has ended so far (crash-loop detection), if known. */
  exits(): Promise<number | undefined>;
}

export interface SupervisorState {
  pid: number;
  state: 'running' | 'stopped' | 'held';
  childPid?: number;
  restarts: number;
}

/** Which controller runs this agent: the supervisor says so in the environment, systemd too. */
export function detectController(env: NodeJS.ProcessEnv = process.env): Controller | undefined {
  const forced = env.CALYPSO_RELEASE_CONTROL;
  if (forced === 'systemd' || forced === 'supervisor') return forced;
  if (forced === 'none') return undefined;
  if (env.CALYPSO_SUPERVISOR_PID) return 'supervisor';
  if (env.INVOCATION_ID) return 'systemd';
  return undefined;
}

export function createControl(controller: Controller, layout: Layout, runner: Runner): AgentControl {
  return controller === 'systemd' ? systemdControl(runner) : supervisorControl(layout);
}

function systemdControl(runner: Runner, unit = AGENT_UNIT): AgentControl {
  // reset-failed first: a release that crash-looped has hit the start limit, and systemd would
  // refuse to start the previous one during the rollback.
  const reset = () =>
    runner.run(['systemctl', 'reset-failed', '--', unit], { okCodes: [0, 1], timeoutMs: 30_000 });
  return {
    async restart() {
      await reset();
      await runner.run(['systemctl', 'restart', '--', unit], { timeoutMs: 120_000 });
    },
    async stop() {
      await runner.run(['systemctl', 'stop', '--', unit], { timeoutMs: 120_000 });
    },
    async start() {
      await reset();
      await runner.run(['systemctl', 'start', '--', unit], { timeoutMs: 120_000 });
    },
    async exits() {
      try {
        const r = await runner.run(['systemctl', 'show', '--property=NRestarts', '--value', '--', unit], {
          timeoutMs: 10_000,
        });
        const n = Number(r.stdout.trim());
        return Number.isInteger(n) ? n : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

export function readSupervisorPid(layout: Layout): number | undefined {
  try {
    const pid = Number(readFileSync(releasePaths(layout).supervisorPid, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

export function readSupervisorState(layout: Layout): SupervisorState | undefined {
  try {
    return JSON.parse(readFileSync(releasePaths(layout).supervisorState, 'utf8')) as SupervisorState;
  } catch {
    return undefined;
  }
}

function supervisorControl(layout: Layout): AgentControl {
  const paths = releasePaths(layout);
  const signal = (sig: NodeJS.Signals) => {
    const pid = readSupervisorPid(layout);
    if (!pid) throw unavailable('the supervisor is not running');
    process.kill(pid, sig);
  };
  return {
    async restart() {
      signal('SIGHUP');
    },
    async stop() {
      writeFileAtomicSync(paths.holdFile, `${JSON.stringify({ pid: process.pid })}\n`, { mode: 0o600 });
      signal('SIGHUP');
      const start = Date.now();
      while (Date.now() - start < 60_000) {
        const st = readSupervisorState(layout);
        if (st?.state === 'held' && !st.childPid) return;
        await sleep(50);
      }
      throw unavailable('the supervisor did not stop the agent within 60 s');
    },
    async start() {
      // SIGUSR2 only re-reads the hold: a running agent is left alone (systemctl start semantics).
      rmSync(paths.holdFile, { force: true });
      signal('SIGUSR2');
    },
    async exits() {
      return readSupervisorState(layout)?.restarts;
    },
  };
}

/**
 * Start the upgrader outside the agent. It runs `argv` (node + upgrader.js of the running release)
 * once and again in resume mode when it ends; see the module comment.
 */
export async function launchUpgrader(
  controller: Controller,
  layout: Layout,
  runner: Runner,
  argv: string[],
  id: string,
): Promise<string[]> {
  const cmd = [...argv, '--prefix', layout.prefix];
  if (controller === 'supervisor') {
    const pid = readSupervisorPid(layout);
    if (!pid) throw unavailable('the supervisor is not running');
    process.kill(pid, 'SIGUSR1');
    return cmd;
  }
  const run = [
    'systemd-run',
    '--unit',
    `calypso-upgrade-${id}`,
    '--description',
    `Calypso upgrade ${id}`,
    '--collect',
    '--quiet',
    '--property',
    `ExecStopPost=${[...cmd, '--resume'].join(' ')}`,
    // the resume run may restart the agent and health-check it twice: more than the default 90 s
    '--property',
    'TimeoutStopSec=15min',
    '--',
    ...cmd,
  ];
  await runner.run(run, { timeoutMs: 30_000 });
  return run;
}
