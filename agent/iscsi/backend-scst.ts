/**
 * The SCST backend: scst.conf rendered from the desired state (scst-conf.ts) under the
 * generated-config directory, checked with `scstadmin -check_config` and applied with
 * `scstadmin -noprompt -force -config`; the running state and sessions read from
 * `<sysroot>/sys/kernel/scst_tgt` (scst-sysfs.ts). It is available when that tree (with the
 * iscsi target driver) exists and scstadmin is on the runner's PATH.
 *
 * For hosts without scstadmin, or to show what a re-apply would change, `sysfsPlan()` lists
 * the exact management writes from the running state to a desired one and `applySysfs()`
 * performs them (scst-plan.ts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ConfigTarget } from '../config-set/index.js';
import type { Runner } from '../runner.js';
import type { BackendAvailability, BackingPath, IscsiBackend, LiveState } from './backend.js';
import { EMPTY_ISCSI, type IscsiState } from './model.js';
import { redactScst, renderScstConf, type SecretLookup } from './scst-conf.js';
import {
  applySysfsWrites,
  planSysfs,
  redactWrites,
  type SysfsWrite,
  scstadminCheck,
  scstadminConfig,
} from './scst-plan.js';
import { readScstLive, readScstRunning, scstRoot } from './scst-sysfs.js';
import type { BackendContext } from './service.js';

export interface ScstBackendOptions {
  /** `/` on a real machine; a recorded tree in tests */
  sysroot: string;
  runner: Runner;
  /** where scst.conf is written (layout.generated('scst')) */
  configDir: string;
  secrets: SecretLookup;
  backingPath: BackingPath;
  /** timeout of scstadmin runs */
  timeoutMs?: number;
}

export interface ScstBackend extends IscsiBackend {
  name: 'scst';
  confPath: string;
  /** the sysfs writes from the running state to `state` (secrets redacted unless `reveal`) */
  sysfsPlan(state: IscsiState, reveal?: boolean): Promise<SysfsWrite[]>;
  /** perform those writes; returns them, redacted */
  applySysfs(state: IscsiState): Promise<SysfsWrite[]>;
}

export function createScstBackend(o: ScstBackendOptions): ScstBackend {
  const confPath = path.join(o.configDir, 'scst.conf');
  const render = { backingPath: o.backingPath, secrets: o.secrets };
  const timeoutMs = o.timeoutMs ?? 120_000;

  async function probe(): Promise<BackendAvailability> {
    const root = scstRoot(o.sysroot);
    if (!existsSync(root)) return { available: false, reason: `SCST is not loaded (no ${root})` };
    if (!existsSync(path.join(root, 'targets', 'iscsi')))
      return { available: false, reason: 'SCST is loaded but its iscsi target driver (iscsi-scst) is not' };
    if (!o.runner.which('scstadmin')) return { available: false, reason: 'scstadmin is not installed' };
    return { available: true };
  }

  const target: ConfigTarget<IscsiState> = {
    name: 'scst',
    initial: () => EMPTY_ISCSI,
    render: (s) => new Map([[confPath, renderScstConf(s, render)]]),
    redact: (text) => redactScst(text),
    // CHAP secrets are in the file
    mode: () => 0o600,
    validate: () => [{ argv: scstadminCheck(confPath), timeoutMs }],
    activate: () => [{ argv: scstadminConfig(confPath), timeoutMs }],
  };

  return {
    name: 'scst',
    confPath,
    probe,
    configTarget: () => target,
    live: (): Promise<LiveState> => readScstLive(o.sysroot),
    async sysfsPlan(state, reveal = false) {
      const w = planSysfs(state, await readScstRunning(o.sysroot), render);
      return reveal ? w : redactWrites(w);
    },
    async applySysfs(state) {
      const w = planSysfs(state, await readScstRunning(o.sysroot), render);
      await applySysfsWrites(o.sysroot, w);
      return redactWrites(w);
    },
  };
}

/** The factory the iSCSI service takes (service.ts BackendFactory). */
export function scstBackendFactory(c: BackendContext): ScstBackend {
  return createScstBackend({
    sysroot: c.deps.sysroot,
    runner: c.deps.runner,
    configDir: c.configDir('scst'),
    secrets: { get: c.secret },
    backingPath: c.backingPath,
    timeoutMs: c.cfg.commandTimeoutSec * 1000,
  });
}
