/**
 * What the backup methods share: paths, the LMDB state, the config manager, the catalog and a
 * console bound to the current settings. Built once per agent by the service factory.
 */
import type { AgentDeps } from '../deps.js';
import { Bconsole } from './bconsole.js';
import { Catalog } from './catalog.js';
import { ConfigManager } from './config-manager.js';
import { BackupOps } from './ops.js';
import { type BaculaPaths, baculaPaths } from './paths.js';
import { StateStore } from './state-store.js';

export interface BackupContext {
  deps: AgentDeps;
  paths: BaculaPaths;
  store: StateStore;
  config: ConfigManager;
  catalog: Catalog;
  bconsole(): Bconsole;
  ops(): BackupOps;
  /** `unavailable` with the reason when a Bacula program is not installed */
  requireTools(...names: string[]): Promise<void>;
  /** Run configuration changes one at a time (load state → apply → store must not interleave). */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}

export interface BackupContextOptions {
  /** poll period while following a job (tests shorten it) */
  pollMs?: number;
}

export function createBackupContext(deps: AgentDeps, opts: BackupContextOptions = {}): BackupContext {
  const paths = baculaPaths(deps.layout);
  const store = new StateStore(deps.store.db('config'));
  const catalog = new Catalog({ runner: deps.runner, dbPath: paths.catalogDb });
  const bconsole = () => {
    const s = store.settings();
    return new Bconsole({
      runner: deps.runner,
      configFile: paths.bconsoleConf,
      address: s.address,
      port: s.dirPort,
      log: deps.log,
    });
  };
  const config = new ConfigManager({
    runner: deps.runner,
    paths,
    secretsFile: deps.layout.secretsFile,
    secrets: deps.secrets,
    bconsole,
    log: deps.log,
  });
  let chain: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn);
    chain = run.catch(() => {});
    return run;
  };
  return {
    exclusive,
    deps,
    paths,
    store,
    config,
    catalog,
    bconsole,
    ops: () => new BackupOps({ bconsole: bconsole(), catalog, pollMs: opts.pollMs }),
    requireTools: async (...names) => {
      for (const n of names) await deps.capabilities.require(n);
    },
  };
}
