/**
 * What the tape methods share: the configuration slice, the changers and drives in use (from
 * the configuration or the hardware inventory), their drivers, the lock discipline and the last
 * status read of each changer (media.list answers from it between inventories).
 */
import { notFound } from '../../rpc/errors.js';
import { configOf } from '../config.js';
import type { AgentDeps } from '../deps.js';
import type { Runner } from '../runner.js';
import { type ChangerDriver, MtxChanger, type ToolOptions } from './changer.js';
import { type TapeConfig, tapeConfig } from './config.js';
import { type DriveDriver, MtDrive } from './drive.js';
import { type ChangerRef, type DriveRef, discover } from './libraries.js';
import { changerLockKey, driveLockKey } from './locks.js';
import type { ChangerStatus } from './types.js';

export interface TapeOptions {
  /** a runner for the tape tools instead of deps.runner (tests) */
  runner?: Runner;
  /** replace the drivers (tests of the layers above them) */
  changerDriver?: (ref: ChangerRef, o: ToolOptions) => ChangerDriver;
  driveDriver?: (ref: DriveRef, o: ToolOptions) => DriveDriver;
  /** how long a move waits for the robot's lock before `busy` */
  lockWaitMs?: number;
}

export interface CachedStatus {
  status: ChangerStatus;
  time: string;
}

export interface TapeContext {
  deps: AgentDeps;
  cfg: TapeConfig;
  tools: ToolOptions;
  options: TapeOptions;
  changers(): ChangerRef[];
  changer(id: string): { ref: ChangerRef; driver: ChangerDriver };
  drive(id: string): { ref: DriveRef; changer: ChangerRef; driver: DriveDriver };
  /** Run `fn` holding the changer's lock (queued behind other holders). */
  withChanger<T>(id: string, what: string, fn: () => Promise<T>): Promise<T>;
  withDrive<T>(id: string, what: string, fn: () => Promise<T>): Promise<T>;
  /** Read a changer's status now and remember it. */
  readStatus(id: string, signal?: AbortSignal): Promise<CachedStatus>;
  lastStatus(id: string): CachedStatus | undefined;
}

export function createTapeContext(deps: AgentDeps, options: TapeOptions = {}): TapeContext {
  const cfg = configOf(deps.config, tapeConfig);
  const runner = options.runner ?? deps.runner;
  const tools: ToolOptions = { runner, env: cfg.toolEnv, timeoutMs: cfg.commandTimeoutSec * 1000 };
  const statuses = new Map<string, CachedStatus>();
  const changers = () => discover(cfg, deps.sysroot);
  const changer = (id: string) => {
    const ref = changers().find((c) => c.id === id);
    if (!ref) throw notFound(`changer ${id} does not exist`, { changer: id });
    const driver = options.changerDriver?.(ref, tools) ?? new MtxChanger(ref.device, tools);
    return { ref, driver };
  };
  const ctx: TapeContext = {
    deps,
    cfg,
    tools,
    options,
    changers,
    changer,
    drive(id) {
      for (const c of changers()) {
        const ref = c.drives.find((d) => d.id === id);
        if (ref)
          return {
            ref,
            changer: c,
            driver: options.driveDriver?.(ref, tools) ?? new MtDrive(ref.device, ref.sg, tools),
          };
      }
      throw notFound(`drive ${id} does not exist`, { drive: id });
    },
    withChanger: (id, what, fn) => deps.locks.run(changerLockKey(id), what, fn, options.lockWaitMs),
    withDrive: (id, what, fn) => deps.locks.run(driveLockKey(id), what, fn, options.lockWaitMs),
    async readStatus(id, signal) {
      const status = await changer(id).driver.status(signal);
      const c: CachedStatus = { status, time: new Date(deps.clock.now()).toISOString() };
      statuses.set(id, c);
      return c;
    },
    lastStatus: (id) => statuses.get(id),
  };
  return ctx;
}
