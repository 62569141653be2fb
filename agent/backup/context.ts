/**
 * What the backup methods share: paths, the desired state (a target of the managed-config
 * pipeline), the catalog and a console bound to the current settings. Built once per agent by
 * the service factory.
 */
import { changeState } from '../config-set/change.js';
import type { ApplyOptions, ManagedConfig, ApplyResult as PipelineResult } from '../config-set/index.js';
import type { AgentDeps } from '../deps.js';
import { Bconsole } from './bconsole.js';
import { Catalog } from './catalog.js';
import { baculaTarget, DAEMON_FILES, needsRestart, relPath } from './config-target.js';
import type { DesiredState, Settings } from './model.js';
import { BackupOps } from './ops.js';
import { type BaculaPaths, baculaPaths } from './paths.js';
import { checkState } from './render.js';
import { missingSecrets, type SecretChange } from './secrets.js';
import { LegacyStateStore } from './state-store.js';

/** backup.*.set / delete / config.* result: what applying the configuration did (published shape). */
export interface ApplyResult {
  changed: string[];
  reloaded: boolean;
  restartRequired: ('bacula-dir' | 'bacula-sd' | 'bacula-fd')[];
  version?: number;
  notes: string[];
}

export interface BackupContext {
  deps: AgentDeps;
  paths: BaculaPaths;
  /** the committed desired state */
  store: { load(): DesiredState; settings(): Settings };
  config: ManagedConfig<DesiredState>;
  catalog: Catalog;
  bconsole(): Bconsole;
  ops(): BackupOps;
  /** `unavailable` with the reason when a Bacula program is not installed */
  requireTools(...names: string[]): Promise<void>;
  /**
   * One change of the desired state: `fn` makes the next state of the committed one inside the
   * pipeline's lock (nothing else changes it in between), the state is checked, the passwords
   * it needs are generated, and all of it is applied — or, with `dryRun`, planned — as one
   * step. A refused change writes no secret; a real one needs the Bacula daemons installed.
   */
  change(fn: BackupUpdater, opts: ApplyOptions): Promise<BackupChange>;
}

/** The next desired state and the secrets it brings (a client's given password). */
export type BackupUpdater = (current: DesiredState) => { state: DesiredState; secrets?: SecretChange[] };

export interface BackupChange {
  /** the pipeline's answer (a plan for a dry run) */
  pipeline: PipelineResult;
  /** for a real run: the published shape */
  applied?: ApplyResult;
  previous: DesiredState;
  next: DesiredState;
}

/** The programs a real change needs (their test mode validates the files). */
const DAEMONS = ['bacula-dir', 'bacula-sd', 'bacula-fd'];

export interface BackupContextOptions {
  /** poll period while following a job (tests shorten it) */
  pollMs?: number;
}

/** The pipeline's result in the shape backup methods have always returned. */
export function toApplyResult(
  paths: BaculaPaths,
  r: PipelineResult,
  previous: DesiredState,
  next: DesiredState,
): ApplyResult {
  const rel = r.changed.map((c) => relPath(paths, c));
  const reloaded = r.commands.some((c) => c[0] === 'bconsole');
  const restartRequired: ApplyResult['restartRequired'] = [];
  if (rel.some((x) => DAEMON_FILES.dir.files.test(x)) && needsRestart(previous, next))
    restartRequired.push('bacula-dir');
  if (rel.some((x) => DAEMON_FILES.sd.files.test(x))) restartRequired.push('bacula-sd');
  if (rel.some((x) => DAEMON_FILES.fd.files.test(x))) restartRequired.push('bacula-fd');
  const notes = [...r.notes];
  if (rel.some((x) => DAEMON_FILES.dir.files.test(x)) && !reloaded && !needsRestart(previous, next))
    notes.push('director not running; the configuration is used at its next start');
  return {
    changed: r.changed,
    reloaded,
    restartRequired,
    ...(r.version !== undefined ? { version: r.version } : {}),
    notes,
  };
}

export function createBackupContext(deps: AgentDeps, opts: BackupContextOptions = {}): BackupContext {
  const paths = baculaPaths(deps.layout);
  const legacy = new LegacyStateStore(deps.store.db('config'));
  const catalog = new Catalog({ runner: deps.runner, dbPath: paths.catalogDb });
  let config: ManagedConfig<DesiredState> | undefined;
  const state = () => config!.state();
  const bconsole = () => {
    const s = state().settings;
    return new Bconsole({
      runner: deps.runner,
      configFile: paths.bconsoleConf,
      address: s.address,
      port: s.dirPort,
      log: deps.log,
    });
  };
  config = deps.configSet.register(
    baculaTarget({
      runner: deps.runner,
      paths,
      secrets: deps.secrets,
      bconsole,
      legacyState: () => legacy.load(),
    }),
  );
  return {
    deps,
    paths,
    store: { load: state, settings: () => state().settings },
    config,
    catalog,
    bconsole,
    ops: () => new BackupOps({ bconsole: bconsole(), catalog, pollMs: opts.pollMs }),
    requireTools: async (...names) => {
      for (const n of names) await deps.capabilities.require(n);
    },
    change: async (fn, opts) => {
      let previous: DesiredState | undefined;
      let next: DesiredState | undefined;
      const r = await changeState(
        config!,
        { dryRun: opts.dryRun === true, identity: { user: opts.user }, commitAudit: opts.audit },
        opts.summary,
        (current) => {
          const c = fn(current);
          previous = current;
          next = c.state;
          const given = c.secrets ?? [];
          const generated = missingSecrets(c.state, deps.secrets).filter(
            (m) => !given.some((g) => g.key === m.key),
          );
          return { state: c.state, secrets: [...given, ...generated] };
        },
        {
          check: checkState,
          refusal: ([p]) => `${p!.kind} ${p!.name}: ${p!.message}`,
          requireChecked: async () => {
            for (const n of DAEMONS) await deps.capabilities.require(n);
          },
        },
      );
      return {
        pipeline: r,
        ...(opts.dryRun ? {} : { applied: toApplyResult(paths, r, previous!, next!) }),
        previous: previous!,
        next: next!,
      };
    },
  };
}
