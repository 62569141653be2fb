/**
 * The upgrader: a short-lived process, started outside the agent (systemd-run or the test
 * supervisor), that carries an upgrade or rollback prepared by the agent through to the end:
 *
 *   wait for the handing-over job to be recorded → [stop the agent, back up or restore state]
 *   → switch `current` → (re)start the agent → health check (ping with the new version, then
 *   capabilities, within a deadline) → prune old releases | roll back.
 *
 * Every step is written to the journal before the next begins. The upgrader is run again in
 * resume mode whenever it ends (systemd ExecStopPost=, or the supervisor), and then continues
 * from the journal: before the switch it abandons the upgrade (nothing changed); after it, it
 * checks the release that is current and rolls back if it is not healthy. `current` is only
 * ever changed by an atomic rename to a complete release (releases.ts), so killing this process
 * at any instant leaves a release that starts.
 *
 * Usage: node upgrader.js --prefix DIR [--resume]
 */
import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreOnlyConfigSchema, loadConfig } from '../config.js';
import { createLayout, type Layout } from '../layout.js';
import { createRunner } from '../runner.js';
import { sleep } from '../util/time.js';
import { type AgentControl, createControl } from './control.js';
import { rpcCall, runningVersion, waitHealthy } from './health.js';
import {
  appendHistory,
  isAlive,
  type Journal,
  type Outcome,
  readJournal,
  removeJournal,
  stepIndex,
  type UpgradeStep,
  writeJournal,
} from './journal.js';
import { releaseDir, releasePaths } from './paths.js';
import { currentVersion, pruneReleases, readManifest, switchCurrent } from './releases.js';
import { backupState, pruneBackups, restoreState } from './state-backup.js';

const MAX_ATTEMPTS = 4;
const JOB_WAIT_MS = 20_000;

interface Ctx {
  layout: Layout;
  j: Journal;
  control: AgentControl;
  socket: string;
  log(message: string, extra?: Record<string, unknown>): void;
}

function logger(layout: Layout, id: string | undefined) {
  const file = releasePaths(layout).upgradeLog;
  return (message: string, extra: Record<string, unknown> = {}) => {
    const line = JSON.stringify({
      time: new Date().toISOString(),
      pid: process.pid,
      upgrade: id,
      msg: message,
      ...extra,
    });
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      appendFileSync(file, `${line}\n`);
    } catch {
      process.stderr.write(`${line}\n`);
    }
  };
}

/**
 * Fault injection for the crash tests: when the file named by CALYPSO_UPGRADER_CRASH_FILE holds
 * this step's name, the file is removed (so that the resume run does not crash again) and the
 * process kills itself with SIGKILL, exactly as an outside kill at that point would.
 */
function crashPoint(step: UpgradeStep): void {
  const file = process.env.CALYPSO_UPGRADER_CRASH_FILE;
  if (!file) return;
  let want = '';
  try {
    want = readFileSync(file, 'utf8').trim();
  } catch {
    return;
  }
  if (want !== step) return;
  rmSync(file, { force: true });
  process.kill(process.pid, 'SIGKILL');
}

function mark(ctx: Ctx, step: UpgradeStep): void {
  ctx.j.step = step;
  ctx.j.steps.push({ step, at: Date.now() });
  writeJournal(ctx.layout, ctx.j);
  ctx.log(`step: ${step}`);
  crashPoint(step);
}

const has = (ctx: Ctx, step: UpgradeStep) => ctx.j.steps.some((s) => s.step === step);

function finish(ctx: Ctx, outcome: Outcome, reason?: string): void {
  const { j } = ctx;
  appendHistory(ctx.layout, {
    id: j.id,
    kind: j.kind,
    from: j.from,
    to: j.to,
    outcome,
    current: currentVersion(ctx.layout),
    reason,
    startedAt: j.createdAt,
    finishedAt: Date.now(),
    steps: j.steps,
  });
  removeJournal(ctx.layout);
  ctx.log(`finished: ${outcome}`, { reason, current: currentVersion(ctx.layout) });
}

async function waitJob(ctx: Ctx): Promise<void> {
  if (!ctx.j.jobId) return;
  const start = Date.now();
  while (Date.now() - start < JOB_WAIT_MS) {
    try {
      const job = (await rpcCall(ctx.socket, 'job.get', { id: ctx.j.jobId }, 2000)) as { state?: string };
      if (job.state && !['waiting', 'running'].includes(job.state)) return;
    } catch {
      /* the agent may be busy; keep trying until the deadline */
    }
    await sleep(50);
  }
  ctx.log('job: not finished in time; going on');
}

async function forward(ctx: Ctx): Promise<void> {
  const { j, layout, control } = ctx;
  mark(ctx, 'started');
  await waitJob(ctx);
  mark(ctx, 'job-done');
  let stopped = false;
  if (j.backup || j.restore) {
    await control.stop();
    stopped = true;
    mark(ctx, 'stopped');
  }
  if (j.backup) {
    const schema = readManifest(releaseDir(layout, j.from))?.stateSchema ?? 0;
    backupState(layout, path.basename(j.backup.dir), { version: j.from, schema });
    mark(ctx, 'backed-up');
  }
  if (j.restore) {
    restoreState(layout, j.restore.dir);
    mark(ctx, 'restored');
  }
  await switchCurrent(layout, j.to);
  mark(ctx, 'switched');
  if (stopped) await control.start();
  else await control.restart();
  mark(ctx, 'restarted');
  await checkNew(ctx);
}

/** Exits since the restart (the old agent's own exit counts once) after which a release is declared crash-looping. */
const CRASH_LOOP_EXITS = 4;

async function crashLoopCheck(ctx: Ctx): Promise<() => Promise<string | undefined>> {
  const base = await ctx.control.exits();
  return async () => {
    const n = await ctx.control.exits();
    if (base === undefined || n === undefined || n - base < CRASH_LOOP_EXITS) return undefined;
    return `the agent exited ${n - base} times since the switch (crash loop)`;
  };
}

async function checkNew(ctx: Ctx): Promise<void> {
  const h = await waitHealthy(ctx.socket, ctx.j.to, ctx.j.healthTimeoutMs, await crashLoopCheck(ctx));
  if (h.ok) {
    ctx.log(`health: ${ctx.j.to} healthy after ${h.ms} ms`);
    mark(ctx, 'healthy');
    await afterHealthy(ctx);
    return;
  }
  ctx.j.reason = h.reason;
  ctx.log(`health: ${ctx.j.to} unhealthy: ${h.reason}`);
  mark(ctx, 'unhealthy');
  await rollback(ctx, h.reason ?? 'health check failed');
}

async function afterHealthy(ctx: Ctx): Promise<void> {
  const removed = await pruneReleases(ctx.layout, ctx.j.keep, [ctx.j.from, ctx.j.to]);
  const droppedBackups = pruneBackups(ctx.layout, ctx.j.keep);
  if (removed.length || droppedBackups.length)
    ctx.log('pruned', { releases: removed, backups: droppedBackups });
  mark(ctx, 'pruned');
  finish(ctx, 'success');
}

async function rollback(ctx: Ctx, reason: string): Promise<void> {
  const { j, layout, control } = ctx;
  if (!j.rollingBack) {
    j.rollingBack = true;
    j.reason = reason;
    mark(ctx, 'rolling-back');
  }
  let stopped = false;
  if (j.backup) {
    // The new release may have migrated the state: put back the copy taken before the switch.
    await control.stop();
    stopped = true;
    mark(ctx, 'rb-stopped');
    restoreState(layout, j.backup.dir);
    mark(ctx, 'rb-restored');
  }
  await switchCurrent(layout, j.from);
  mark(ctx, 'rb-switched');
  if (stopped) await control.start();
  else await control.restart();
  mark(ctx, 'rb-restarted');
  const h = await waitHealthy(ctx.socket, j.from, j.healthTimeoutMs, await crashLoopCheck(ctx));
  if (h.ok) finish(ctx, 'rolled-back', reason);
  else
    finish(ctx, 'failed', `${reason}; the previous release ${j.from} did not come back either: ${h.reason}`);
}

/** Continue from the journal after the previous upgrader run ended without finishing. */
async function resume(ctx: Ctx): Promise<void> {
  const { j, layout, control } = ctx;
  ctx.log(`resume: from step ${j.step}`);
  if (j.rollingBack) {
    await rollback(ctx, j.reason ?? 'interrupted upgrade');
    return;
  }
  if (stepIndex(j.step) < stepIndex('switched')) {
    // Nothing was switched: abandon the upgrade. A rollback that had already restored old
    // state gets the state it started from back.
    if (has(ctx, 'restored') && j.backup) {
      await control.stop();
      restoreState(layout, j.backup.dir);
    }
    await control.start();
    finish(
      ctx,
      'interrupted',
      `the upgrader stopped at step ${j.step}; nothing was switched and ${j.from} is still current`,
    );
    return;
  }
  if (j.step === 'healthy' || j.step === 'pruned') {
    await afterHealthy(ctx);
    return;
  }
  if (j.step === 'unhealthy') {
    await rollback(ctx, j.reason ?? 'health check failed');
    return;
  }
  // Switched, maybe restarted: make sure the agent runs the current release, then check it.
  await control.start();
  if ((await runningVersion(ctx.socket)) !== j.to) await control.restart();
  await checkNew(ctx);
}

export async function runUpgrader(prefix: string, resumeOnly: boolean): Promise<number> {
  const layout = createLayout(prefix);
  const j = readJournal(layout);
  const log = logger(layout, j?.id);
  if (!j) {
    if (resumeOnly) log('resume: no unfinished upgrade');
    return 0;
  }
  if (j.upgraderPid && j.upgraderPid !== process.pid && isAlive(j.upgraderPid)) {
    log(`another upgrader (pid ${j.upgraderPid}) is working on this upgrade`);
    return 0;
  }
  const fresh = j.step === 'prepared' && !j.upgraderPid;
  j.upgraderPid = process.pid;
  j.attempts = (j.attempts ?? 0) + 1;
  writeJournal(layout, j);
  let socket = layout.socket;
  try {
    socket = loadConfig(layout.configFile, CoreOnlyConfigSchema).agent.socket.path ?? layout.socket;
  } catch (err) {
    log(`config: ${(err as Error).message}; using the default socket`);
  }
  const control = createControl(j.controller, layout, createRunner());
  const ctx: Ctx = { layout, j, control, socket, log };
  try {
    if (j.attempts > MAX_ATTEMPTS) {
      await control.start();
      finish(ctx, 'failed', `gave up after ${MAX_ATTEMPTS} attempts; ${currentVersion(layout)} is current`);
      return 1;
    }
    if (fresh) await forward(ctx);
    else await resume(ctx);
    return 0;
  } catch (err) {
    log(`error: ${(err as Error).message}`, { step: j.step });
    // Before the switch nothing changed; after it, the rollback path decides. Either way the
    // journal stays, and the resume run (or the agent at start) continues from it.
    return 1;
  }
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--prefix');
  const prefix = i >= 0 ? args[i + 1] : undefined;
  if (!prefix) {
    process.stderr.write('usage: upgrader --prefix DIR [--resume]\n');
    process.exit(2);
  }
  runUpgrader(prefix, args.includes('--resume')).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`upgrader: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
