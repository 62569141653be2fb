/**
 * A small process supervisor standing in for systemd in tests, demos and prefix installs. It
 * keeps `<prefix>/opt/adastra/calypso/current/bin/calypso-agent` running and offers the upgrader
 * the same contract as systemd (control.ts):
 *
 *   SIGHUP   restart the agent (systemctl restart); the new process starts from whatever
 *            `current` points at then
 *   SIGUSR2  re-read the hold file
 *   SIGUSR1  run the upgrader named in the upgrade journal, then run it once more with
 *            --resume when it ends, however it ends (systemd-run + ExecStopPost=)
 *   SIGTERM  stop the agent (SIGTERM, SIGKILL after 15 s) and the upgrader, then exit 0
 *
 * While the hold file names a live process, the agent is kept stopped (systemctl stop); when
 * that process dies, the hold lapses and the agent is started again, so an upgrader killed while
 * it held the agent stopped never leaves the appliance down.
 *
 * Usage: node supervisor.js --prefix DIR [--log FILE] [--restart-delay-ms N] [-- AGENT_ARGS...]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import { createLayout } from '../layout.js';
import { isAlive, readJournal } from './journal.js';
import { releasePaths } from './paths.js';

export interface SupervisorOptions {
  prefix: string;
  agentArgs: string[];
  log?: string;
  restartDelayMs: number;
}

export function parseSupervisorArgs(argv: string[]): SupervisorOptions {
  const dash = argv.indexOf('--');
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  const opts: SupervisorOptions = {
    prefix: '',
    agentArgs: dash >= 0 ? argv.slice(dash + 1) : [],
    restartDelayMs: 250,
  };
  for (let i = 0; i < own.length; i++) {
    const v = own[i + 1];
    if (own[i] === '--prefix' && v) opts.prefix = path.resolve(v);
    else if (own[i] === '--log' && v) opts.log = path.resolve(v);
    else if (own[i] === '--restart-delay-ms' && v) opts.restartDelayMs = Number(v);
    else continue;
    i++;
  }
  if (!opts.prefix)
    throw new Error('usage: supervisor --prefix DIR [--log FILE] [--restart-delay-ms N] [-- AGENT_ARGS...]');
  return opts;
}

export function runSupervisor(opts: SupervisorOptions): void {
  const layout = createLayout(opts.prefix);
  const paths = releasePaths(layout);
  mkdirSync(layout.runDir, { recursive: true });
  let child: ChildProcess | undefined;
  let upgrader: ChildProcess | undefined;
  let restarts = 0;
  let nextStart = 0;
  let shuttingDown = false;
  let killTimer: NodeJS.Timeout | undefined;

  const out = () => (opts.log ? openSync(opts.log, 'a') : 'ignore');
  const env = { ...process.env, CALYPSO_SUPERVISOR_PID: String(process.pid) };

  const held = (): boolean => {
    if (!existsSync(paths.holdFile)) return false;
    try {
      const { pid } = JSON.parse(readFileSync(paths.holdFile, 'utf8')) as { pid?: number };
      if (isAlive(pid)) return true;
    } catch {
      /* unreadable hold: treat as lapsed */
    }
    rmSync(paths.holdFile, { force: true });
    return false;
  };

  const writeState = () => {
    const state = child ? 'running' : held() ? 'held' : 'stopped';
    writeFileAtomicSync(
      paths.supervisorState,
      `${JSON.stringify({ pid: process.pid, state, childPid: child?.pid, restarts })}\n`,
      { mode: 0o644 },
    );
  };

  const stopChild = () => {
    if (!child || child.exitCode !== null || killTimer) return;
    child.kill('SIGTERM');
    const c = child;
    killTimer = setTimeout(() => c.kill('SIGKILL'), 15_000);
  };

  const startChild = () => {
    const bin = path.join(layout.current, 'bin', 'calypso-agent');
    if (!existsSync(bin)) return;
    const fd = out();
    const c = spawn(bin, ['--prefix', layout.prefix, ...opts.agentArgs], { env, stdio: ['ignore', fd, fd] });
    if (typeof fd === 'number') closeSync(fd);
    child = c;
    c.on('exit', () => {
      if (killTimer) clearTimeout(killTimer);
      killTimer = undefined;
      if (child === c) child = undefined;
      restarts++;
      if (nextStart !== -1) nextStart = Date.now() + opts.restartDelayMs;
      if (shuttingDown) finishShutdown();
      else tick();
    });
    c.on('error', () => {
      /* exit follows */
    });
    writeState();
  };

  const tick = () => {
    if (shuttingDown) return;
    const hold = held();
    if (hold && child) stopChild();
    else if (!hold && !child && (nextStart === -1 || Date.now() >= nextStart)) {
      nextStart = 0;
      startChild();
    }
    writeState();
  };

  const runUpgrader = (resume: boolean) => {
    if (upgrader || shuttingDown) return;
    const j = readJournal(layout);
    if (!j?.upgrader?.length) return;
    const [cmd, ...args] = j.upgrader as [string, ...string[]];
    const fd = out();
    const u = spawn(cmd, [...args, '--prefix', layout.prefix, ...(resume ? ['--resume'] : [])], {
      env,
      stdio: ['ignore', fd, fd],
    });
    if (typeof fd === 'number') closeSync(fd);
    upgrader = u;
    u.on('exit', () => {
      upgrader = undefined;
      // Like ExecStopPost=: whatever happened, let the resume mode look at the journal.
      if (!resume) runUpgrader(true);
      tick();
    });
    u.on('error', () => {
      /* exit follows */
    });
  };

  const finishShutdown = () => {
    if (child) return;
    rmSync(paths.supervisorPid, { force: true });
    rmSync(paths.supervisorState, { force: true });
    process.exit(0);
  };

  process.on('SIGHUP', () => {
    nextStart = -1; // restart at once, no back-off
    if (child) stopChild();
    else tick();
  });
  process.on('SIGUSR2', tick);
  process.on('SIGUSR1', () => runUpgrader(false));
  const shutdown = () => {
    shuttingDown = true;
    upgrader?.kill('SIGKILL');
    if (child) stopChild();
    finishShutdown();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  writeFileAtomicSync(paths.supervisorPid, `${process.pid}\n`, { mode: 0o644 });
  setInterval(tick, 100);
  tick();
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    runSupervisor(parseSupervisorArgs(process.argv.slice(2)));
  } catch (err) {
    process.stderr.write(`supervisor: ${(err as Error).message}\n`);
    process.exit(2);
  }
}
