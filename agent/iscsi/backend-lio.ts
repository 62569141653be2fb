/**
 * The LIO backend: the kernel's own target (target_core_mod + iscsi_target_mod, in every stock
 * kernel), configured through configfs with direct mkdir / write / symlink / rmdir — no
 * targetcli, no D-Bus. The pipeline saves the desired configfs tree as lio.json (mode 0600, CHAP
 * passwords redacted in diffs and history); activation reads configfs back and performs only the
 * ops that differ (lio-plan.ts): none when LIO already runs the saved tree. The dry run lists
 * the same ops from the same reading. Available when configfs shows the iSCSI fabric
 * (/sys/kernel/config/target/iscsi), or when its modules can be loaded (then the apply loads them).
 */
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import path from 'node:path';
import { unavailable } from '../../rpc/errors.js';
import type { ConfigTarget, Step } from '../config-set/index.js';
import type { Runner } from '../runner.js';
import {
  type BackendAvailability,
  type BackingPath,
  computeDrift,
  type DriftItem,
  type IscsiBackend,
  type LiveState,
} from './backend.js';
import { lioLive, lioRoot, readLioTree } from './lio-configfs.js';
import { applyLioOp, type LioOp, planLio, shownOp } from './lio-plan.js';
import { desiredLioTree, type LioTree, redactLioJson, renderLioJson } from './lio-tree.js';
import { EMPTY_ISCSI, type IscsiState } from './model.js';
import type { BackendContext } from './service.js';

export const LIO_MODULES = ['target_core_mod', 'iscsi_target_mod', 'target_core_file', 'target_core_iblock'];

export interface LioBackendOptions {
  /** `/` on a real machine */
  sysroot: string;
  runner: Runner;
  /** where lio.json is written (layout.generated('lio')) */
  configDir: string;
  secrets: { get(key: string): string | undefined };
  backingPath: BackingPath;
  timeoutMs?: number;
}

export interface LioBackend extends IscsiBackend {
  name: 'lio';
  confPath: string;
  /** what configfs holds */
  tree(): Promise<LioTree>;
  /** the configfs ops from what runs to `state`, as shown (passwords hidden) */
  plan(state: IscsiState): Promise<string[][]>;
}

export function createLioBackend(o: LioBackendOptions): LioBackend {
  const confPath = path.join(o.configDir, 'lio.json');
  const root = lioRoot(o.sysroot);
  const timeoutMs = o.timeoutMs ?? 60_000;
  const build = { backingPath: o.backingPath, secret: (k: string) => o.secrets.get(k) };
  const loaded = (m: string) => existsSync(path.join(o.sysroot, 'sys/module', m));
  /** LIO with its iSCSI fabric loaded (configfs shows iscsi/ once iscsi_target_mod is in) */
  const fabric = () =>
    existsSync(path.join(root, 'iscsi')) ||
    (loaded('iscsi_target_mod') && existsSync(path.join(root, 'core')));

  function loadable(): string | undefined {
    if (!o.runner.which('modprobe')) return 'modprobe (kmod) is not installed';
    const dep = path.join(o.sysroot, 'lib/modules', release(), 'modules.dep');
    let text = '';
    try {
      text = readFileSync(dep, 'utf8');
    } catch {
      return `no ${dep}`;
    }
    const missing = LIO_MODULES.filter((m) => !loaded(m) && !text.includes(`/${m}.ko`));
    return missing.length ? `the kernel has no ${missing.join(', ')}` : undefined;
  }

  async function probe(): Promise<BackendAvailability> {
    if (fabric()) return { available: true };
    const why = loadable();
    if (why)
      return { available: false, reason: `LIO is not loaded (no ${path.join(root, 'iscsi')}) and ${why}` };
    return {
      available: true,
      fallback: true,
      reason:
        'LIO is not loaded; its modules can be loaded (taken when no other backend runs; the first apply loads them)',
    };
  }

  async function running(): Promise<LioTree> {
    // modules not loaded yet (probe said they can be): LIO runs nothing
    if (!existsSync(path.join(root, 'core'))) return { fabric: false, hbas: [], devices: [], targets: [] };
    return readLioTree(o.sysroot);
  }

  async function ops(state: IscsiState): Promise<LioOp[]> {
    return planLio(desiredLioTree(state, build), await running());
  }

  const modprobe: Step = {
    argv: ['modprobe', '-a', ...LIO_MODULES],
    timeoutMs,
    when: {
      describe: 'a LIO module is not loaded',
      test: async () => LIO_MODULES.some((m) => !loaded(m)),
    },
  };

  const step = (op: LioOp): Step => ({
    argv: shownOp(op),
    shown: shownOp(op),
    run: () => applyLioOp(root, op),
  });

  const target: ConfigTarget<IscsiState> = {
    name: 'lio',
    initial: () => EMPTY_ISCSI,
    render: (s) => new Map([[confPath, renderLioJson(desiredLioTree(s, build))]]),
    redact: (text) => redactLioJson(text),
    mode: () => 0o600,
    activate: async (ctx) => [modprobe, ...(await ops(ctx.state)).map(step)],
  };

  async function live(): Promise<LiveState> {
    const why = existsSync(path.join(root, 'core')) ? undefined : loadable();
    if (why) throw unavailable(`LIO is not loaded (no ${root}/core) and ${why}`, { reason: why });
    return lioLive(await running());
  }

  return {
    name: 'lio',
    confPath,
    probe,
    configTarget: () => target,
    live,
    tree: running,
    // LIO keeps nothing across a reboot or a module reload: no target in configfs at all
    emptyAfterRestart: async () => (await running()).targets.length === 0,
    plan: async (state) => (await ops(state)).map(shownOp),
    async drift(state: IscsiState): Promise<DriftItem[]> {
      const items = computeDrift(state, await live(), o.backingPath, { compareGroups: true });
      if (items.length) return items;
      // what the shared comparison does not see (attributes, links, CHAP secrets): the ops themselves
      return (await ops(state)).map((op) => ({
        target: /^iscsi\/([^/]+)/.exec(op.path)?.[1] ?? '(storage)',
        kind: 'different' as const,
        what: `configfs ${op.path}`,
        desired: shownOp(op).slice(1).join(' '),
      }));
    },
  };
}

/** The factory the iSCSI service takes (service.ts BackendFactory). */
export function lioBackendFactory(c: BackendContext): LioBackend {
  return createLioBackend({
    sysroot: c.deps.sysroot,
    runner: c.deps.runner,
    configDir: c.configDir('lio'),
    secrets: { get: c.secret },
    backingPath: c.backingPath,
    timeoutMs: c.cfg.commandTimeoutSec * 1000,
  });
}
