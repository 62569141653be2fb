/**
 * What the agent does for `release.install` and `release.rollback` before handing over to the
 * upgrader: verify the archive (manifest, every file, the signature when a key is configured),
 * check the state migrations, put the release under releases/X.Y.Z, write the journal and start
 * the upgrader outside the agent. Nothing here touches `current`, the running agent or the state;
 * a refused archive leaves no trace (its staging directory is removed).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { busy, conflict, invalid, notFound, unavailable } from '../../rpc/errors.js';
import type { DryRunPlan } from '../../rpc/registry.js';
import type { Layout } from '../layout.js';
import type { Runner } from '../runner.js';
import { launchUpgrader } from './control.js';
import { type Controller, isAlive, type Journal, readHistory, readJournal, writeJournal } from './journal.js';
import type { Manifest } from './manifest.js';
import { releaseDir, releasePaths } from './paths.js';
import {
  commitStaged,
  currentVersion,
  listReleases,
  readManifest,
  stageTarball,
  untarArgv,
} from './releases.js';
import { backupDirFor, listBackups } from './state-backup.js';

export interface ReleaseEnv {
  layout: Layout;
  runner: Runner;
  log: Logger;
  /** the LMDB state schema version in use now */
  stateSchema(): number;
  controller: Controller | undefined;
  keep: number;
  now(): number;
}

export interface JobCtx {
  signal: AbortSignal;
  progress(percent: number, description?: string): void;
  jobId?: string;
}

export interface InstallParams {
  file: string;
  sha256?: string;
  activate?: boolean;
  backupState?: boolean;
  healthTimeoutSec?: number;
}

export interface HandOver {
  version: string;
  from?: string;
  activated: boolean;
  upgrade?: string;
  backup?: string;
  restore?: string;
}

/** [node, upgrader.js] of this release: the upgrader that knows this release's journal format. */
export function upgraderArgv(): string[] {
  return [process.execPath, fileURLToPath(new URL('./upgrader.js', import.meta.url))];
}

function newId(now: number): string {
  return `${new Date(now).toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}-${randomBytes(3).toString('hex')}`;
}

function ensureNoUpgrade(layout: Layout): void {
  const j = readJournal(layout);
  if (!j) return;
  if (isAlive(j.upgraderPid))
    throw busy(`upgrade ${j.id} (${j.from} -> ${j.to}) is in progress`, { upgrade: j.id });
  throw busy(`upgrade ${j.id} (${j.from} -> ${j.to}) is unfinished and is being resumed; try again shortly`, {
    upgrade: j.id,
  });
}

function sha256Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (b) => h.update(b))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** The migrations a release carries must form the chain 1..stateSchema. */
export function checkMigrations(m: Manifest, currentSchema: number): void {
  if (m.stateSchema < currentSchema) {
    throw invalid(
      `release ${m.version} knows state schema ${m.stateSchema} but the state is at ${currentSchema}; ` +
        'an older release can only return through release.rollback, which restores the state backed up before the migration',
    );
  }
  const versions = m.migrations.map((x) => x.version);
  const expected = Array.from({ length: m.stateSchema }, (_, i) => i + 1);
  if (versions.join(',') !== expected.join(',')) {
    throw invalid(
      `release ${m.version}: its migrations (${versions.join(', ') || 'none'}) do not lead to schema ${m.stateSchema}`,
    );
  }
}

function requireHandOver(env: ReleaseEnv): { controller: Controller; from: string } {
  if (!env.controller) {
    throw unavailable(
      'the agent runs neither under systemd nor under the Calypso supervisor; it cannot restart itself',
    );
  }
  const from = currentVersion(env.layout);
  if (!from) throw unavailable('the agent does not run from an installed release (no current link)');
  return { controller: env.controller, from };
}

async function handOver(env: ReleaseEnv, j: Journal): Promise<string[]> {
  writeJournal(env.layout, j);
  env.log.info(
    { upgrade: j.id, from: j.from, to: j.to, kind: j.kind },
    `release: handing over to the upgrader`,
  );
  return launchUpgrader(j.controller, env.layout, env.runner, j.upgrader, j.id);
}

function journalFor(
  env: ReleaseEnv,
  base: Pick<Journal, 'kind' | 'from' | 'to' | 'controller'>,
  extra: Partial<Journal>,
  ctx: JobCtx,
  healthTimeoutSec?: number,
): Journal {
  const now = env.now();
  return {
    id: extra.id ?? newId(now),
    ...base,
    jobId: ctx.jobId,
    createdAt: now,
    step: 'prepared',
    steps: [{ step: 'prepared', at: now }],
    healthTimeoutMs: (healthTimeoutSec ?? 60) * 1000,
    keep: env.keep,
    upgrader: upgraderArgv(),
    attempts: 0,
    ...extra,
  };
}

export async function installRelease(
  env: ReleaseEnv,
  p: InstallParams,
  ctx: JobCtx,
  dryRun: boolean,
): Promise<HandOver | DryRunPlan> {
  const { layout } = env;
  const activate = p.activate ?? true;
  if (dryRun) {
    return {
      dryRun: true,
      commands: [
        untarArgv(p.file, `${layout.releases}/.staging-XXXX`),
        ...(activate ? [[...upgraderArgv(), '--prefix', layout.prefix]] : []),
      ],
      notes: [
        'verify manifest.json (and manifest.sig when a release key is configured) against every file',
        'rename the staging directory to releases/<version>',
        ...(activate
          ? ['switch current atomically, restart the agent, health-check it, roll back on failure']
          : []),
      ],
    };
  }
  ensureNoUpgrade(layout);
  const hand = activate ? requireHandOver(env) : undefined;
  if (p.sha256) {
    ctx.progress(2, 'checking the archive checksum');
    if ((await sha256Of(p.file).catch(() => '')) !== p.sha256.toLowerCase())
      throw invalid('release: the archive sha256 differs from the one given');
  }
  ctx.progress(5, 'unpacking and verifying the release');
  const trustedKeyFile = releasePaths(layout).trustedKey;
  const trustedKey = existsSync(trustedKeyFile) ? readFileSync(trustedKeyFile, 'utf8') : undefined;
  const { staging, manifest } = await stageTarball(env.runner, layout, p.file, {
    trustedKey,
    signal: ctx.signal,
  });
  let committed = false;
  try {
    ctx.progress(60, 'checking state migrations');
    const schema = env.stateSchema();
    if (hand && manifest.version === hand.from)
      throw conflict(`release ${manifest.version} is already current`);
    checkMigrations(manifest, schema);
    ctx.progress(70, `installing release ${manifest.version}`);
    await commitStaged(layout, staging, manifest, env.now());
    committed = true;
  } finally {
    if (!committed) await rm(staging, { recursive: true, force: true });
  }
  if (!hand) return { version: manifest.version, activated: false };
  const backup = p.backupState ?? manifest.stateSchema !== env.stateSchema();
  const id = newId(env.now());
  const j = journalFor(
    env,
    { kind: 'install', from: hand.from, to: manifest.version, controller: hand.controller },
    { id, ...(backup ? { backup: { dir: backupDirFor(layout, id) } } : {}) },
    ctx,
    p.healthTimeoutSec,
  );
  ctx.progress(90, 'handing over to the upgrader');
  await handOver(env, j);
  return {
    version: manifest.version,
    from: hand.from,
    activated: true,
    upgrade: j.id,
    backup: j.backup?.dir,
  };
}

/** The release to go back to: the one the last successful upgrade to `current` came from. */
export async function previousRelease(layout: Layout): Promise<string | undefined> {
  const cur = currentVersion(layout);
  const installed = new Set((await listReleases(layout)).map((r) => r.version));
  const last = [...readHistory(layout)].reverse().find((r) => r.outcome === 'success' && r.to === cur);
  if (last && installed.has(last.from) && last.from !== cur) return last.from;
  const others = (await listReleases(layout)).filter((r) => r.version !== cur);
  others.sort((a, b) => (b.installedAt ?? 0) - (a.installedAt ?? 0));
  return others[0]?.version;
}

export async function rollbackRelease(
  env: ReleaseEnv,
  p: { version?: string; healthTimeoutSec?: number },
  ctx: JobCtx,
  dryRun: boolean,
): Promise<HandOver | DryRunPlan> {
  const { layout } = env;
  const target = p.version ?? (await previousRelease(layout));
  if (!target) throw notFound('release: there is no other installed release to roll back to');
  const m = readManifest(releaseDir(layout, target));
  if (!m) throw notFound(`release ${target} is not installed`);
  const schema = env.stateSchema();
  // Going back across a migration needs the state as it was before it: the newest backup taken
  // while `target` was current with the schema `target` knows.
  let restore: string | undefined;
  if (m.stateSchema < schema) {
    const b = listBackups(layout)
      .reverse()
      .find((x) => x.version === target && x.schema === m.stateSchema);
    if (!b)
      throw invalid(
        `release ${target} uses state schema ${m.stateSchema} and there is no state backup of it to restore`,
      );
    restore = b.dir;
  }
  if (dryRun) {
    return {
      dryRun: true,
      commands: [[...upgraderArgv(), '--prefix', layout.prefix]],
      notes: [
        `switch current to ${target}${restore ? `, restoring the state from ${restore}` : ''}, restart, health-check`,
      ],
    };
  }
  ensureNoUpgrade(layout);
  const hand = requireHandOver(env);
  if (target === hand.from) throw conflict(`release ${target} is already current`);
  const id = newId(env.now());
  const j = journalFor(
    env,
    { kind: 'rollback', from: hand.from, to: target, controller: hand.controller },
    { id, ...(restore ? { restore: { dir: restore }, backup: { dir: backupDirFor(layout, id) } } : {}) },
    ctx,
    p.healthTimeoutSec,
  );
  await handOver(env, j);
  return { version: target, from: hand.from, activated: true, upgrade: j.id, restore, backup: j.backup?.dir };
}
