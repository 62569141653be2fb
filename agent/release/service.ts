/**
 * release.*: versioned releases under opt/adastra/calypso/releases, the atomic upgrade and the
 * rollback. The methods verify and stage; the switch, restart, health check and automatic
 * rollback are carried out by the upgrader outside the agent (agent/release/upgrader.ts), since
 * the agent cannot survive its own restart.
 */
import { Type } from '@sinclair/typebox';
import { listed, listResult } from '../../rpc/list.js';
import { defineMethod } from '../../rpc/registry.js';
import { configOf, defineConfigSlice } from '../config.js';
import type { AgentDeps, Service, ServiceFactory, Subsystem } from '../deps.js';
import { detectController, launchUpgrader } from './control.js';
import { isAlive, readHistory, readJournal } from './journal.js';
import { VERSION_RE } from './manifest.js';
import { installRelease, previousRelease, type ReleaseEnv, rollbackRelease } from './prepare.js';
import { cleanLeftovers, currentVersion, listReleases } from './releases.js';

const Version = Type.String({ pattern: VERSION_RE.source, description: 'release version X.Y.Z' });
const HealthTimeout = Type.Optional(
  Type.Integer({
    minimum: 2,
    maximum: 600,
    description: 'seconds the new release has to answer ping and capabilities (default 60)',
  }),
);

const UpgradeRecordSchema = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('install'), Type.Literal('rollback')]),
  from: Type.String(),
  to: Type.String(),
  outcome: Type.Union(
    ['success', 'rolled-back', 'failed', 'interrupted'].map((o) => Type.Literal(o)),
    {
      description: 'rolled-back: the new release failed its health check and the previous one runs again',
    },
  ),
  current: Type.Optional(Type.String({ description: 'the release current afterwards' })),
  reason: Type.Optional(Type.String()),
  startedAt: Type.Number(),
  finishedAt: Type.Number(),
  steps: Type.Array(Type.Object({ step: Type.String(), at: Type.Number() })),
});

const PendingSchema = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  from: Type.String(),
  to: Type.String(),
  step: Type.String({ description: 'last step the upgrader recorded' }),
  upgraderRunning: Type.Boolean(),
  createdAt: Type.Number(),
});

const StatusSchema = Type.Object({
  pending: Type.Optional(PendingSchema),
  last: Type.Optional(UpgradeRecordSchema),
});

const HandOverSchema = Type.Object({
  version: Type.String({ description: 'the release installed or rolled back to' }),
  from: Type.Optional(Type.String()),
  activated: Type.Boolean({ description: 'false: only unpacked into releases/' }),
  upgrade: Type.Optional(Type.String({ description: 'upgrade id; follow it with release.status' })),
  backup: Type.Optional(Type.String({ description: 'where the state is backed up before the switch' })),
  restore: Type.Optional(
    Type.String({ description: 'the state backup restored (rollback across a migration)' }),
  ),
});

/** calypso.yaml `release:` */
export const releaseConfigSlice = defineConfigSlice(
  'release',
  Type.Object(
    {
      keep: Type.Integer({
        minimum: 2,
        maximum: 20,
        default: 3,
        description: 'releases (and state backups) kept: 3 keeps current, previous and one more',
      }),
    },
    { additionalProperties: false, default: {} },
  ),
);

export function releaseEnv(deps: AgentDeps): ReleaseEnv {
  const { keep } = configOf(deps.config, releaseConfigSlice);
  return {
    layout: deps.layout,
    runner: deps.runner,
    log: deps.log.child({ area: 'release' }),
    stateSchema: () => deps.store.schemaVersion(),
    controller: detectController(),
    keep: Math.max(2, keep),
    now: deps.clock.now,
  };
}

/**
 * The last upgrade, as the upgrader recorded it: one that rolled back (the new release failed
 * its health check) or failed raises `release.upgrade`; a successful one clears it.
 */
async function upgradeAlert(deps: AgentDeps): Promise<void> {
  const last = readHistory(deps.layout).at(-1);
  if (last?.kind !== 'install') return;
  if (last.outcome === 'success') {
    await deps.alerts.clear('release.upgrade');
    return;
  }
  if (last.outcome !== 'rolled-back' && last.outcome !== 'failed') return;
  await deps.alerts.raise({
    key: 'release.upgrade',
    level: last.outcome === 'failed' ? 'critical' : 'warning',
    source: 'release',
    title:
      last.outcome === 'rolled-back'
        ? `the upgrade to ${last.to} was rolled back; ${last.current ?? last.from} runs`
        : `the upgrade to ${last.to} failed`,
    detail: `${last.reason ?? 'see release.status'}. The configuration and data are those of the release that runs; read the upgrade's steps with release.status before trying again.`,
    data: { id: last.id, from: last.from, to: last.to, outcome: last.outcome },
  });
}

function status(deps: AgentDeps, id?: string) {
  const j = readJournal(deps.layout);
  const history = readHistory(deps.layout);
  const last = id ? history.find((r) => r.id === id) : history.at(-1);
  const pending =
    j && (!id || j.id === id)
      ? {
          id: j.id,
          kind: j.kind,
          from: j.from,
          to: j.to,
          step: j.step,
          upgraderRunning: isAlive(j.upgraderPid),
          createdAt: j.createdAt,
        }
      : undefined;
  return { ...(pending ? { pending } : {}), ...(last ? { last } : {}) };
}

export const releaseService: ServiceFactory = (deps): Service => {
  const env = releaseEnv(deps);
  let resumeTimer: NodeJS.Timeout | undefined;
  return {
    name: 'release',
    async start() {
      await upgradeAlert(deps);
      const j = readJournal(deps.layout);
      if (!j) {
        const removed = await cleanLeftovers(deps.layout);
        if (removed.length) env.log.info({ removed }, 'release: removed leftovers of an interrupted install');
        return;
      }
      if (isAlive(j.upgraderPid) || !env.controller) return;
      // An upgrade was left unfinished (the machine went down, the upgrader and its resume both
      // died): start the upgrader again once this agent listens, so it can health-check it.
      env.log.warn({ upgrade: j.id, step: j.step }, 'release: unfinished upgrade; resuming it');
      resumeTimer = setTimeout(() => {
        // The resume run that systemd or the supervisor starts may have taken it up meanwhile.
        const again = readJournal(deps.layout);
        if (!again || isAlive(again.upgraderPid)) return;
        void launchUpgrader(
          j.controller,
          deps.layout,
          deps.runner,
          j.upgrader,
          `${j.id}-r${again.attempts}`,
        ).catch((err) => env.log.error({ err }, 'release: cannot start the upgrader'));
      }, 1000);
      resumeTimer.unref();
    },
    stop() {
      if (resumeTimer) clearTimeout(resumeTimer);
    },
    methods: [
      defineMethod({
        name: 'release.list',
        summary: 'Installed releases, the current one, and the state of the last or running upgrade.',
        params: Type.Object({}, { additionalProperties: false }),
        result: listResult(
          Type.Object({
            version: Type.String(),
            current: Type.Boolean(),
            installedAt: Type.Optional(Type.Number()),
            createdAt: Type.Optional(Type.String()),
            node: Type.Optional(Type.String({ description: 'Node.js version the release runs on' })),
            stateSchema: Type.Optional(Type.Integer()),
          }),
          {
            current: Type.Optional(Version),
            previous: Type.Optional(
              Type.String({ description: 'what release.rollback goes back to by default' }),
            ),
            upgrade: StatusSchema,
          },
          'installed releases, newest first',
        ),
        role: 'auditor',
        mutating: false,
        handler: async () => {
          const cur = currentVersion(deps.layout);
          const releases = (await listReleases(deps.layout)).map((r) => ({
            version: r.version,
            current: r.version === cur,
            installedAt: r.installedAt,
            createdAt: r.manifest?.createdAt,
            node: r.manifest?.node.version,
            stateSchema: r.manifest?.stateSchema,
          }));
          releases.sort((a, b) => (b.installedAt ?? 0) - (a.installedAt ?? 0));
          const previous = await previousRelease(deps.layout);
          return { ...listed(releases), current: cur, previous, upgrade: status(deps) };
        },
      }),
      defineMethod({
        name: 'release.status',
        summary: 'The state of an upgrade: pending (with its last step) or its recorded outcome.',
        params: Type.Object(
          {
            id: Type.Optional(
              Type.String({ pattern: '^[0-9A-Za-z-]{1,64}$', description: 'upgrade id; default the latest' }),
            ),
          },
          { additionalProperties: false },
        ),
        result: StatusSchema,
        role: 'auditor',
        mutating: false,
        handler: async (p) => status(deps, p.id),
      }),
      defineMethod({
        name: 'release.install',
        summary: 'Install a release tarball and switch to it, with health check and automatic rollback.',
        description:
          'Verifies the manifest (and its ed25519 signature when etc/calypso/release-signing.pub exists) against ' +
          'every file before anything changes, checks the state migrations, unpacks to releases/X.Y.Z, then hands ' +
          'over to the upgrader: state backup when a migration comes, atomic switch of `current`, agent restart, ' +
          'health check (ping with the new version and capabilities) and rollback on failure. The job ends at the ' +
          'hand-over; follow the upgrade with release.status.',
        params: Type.Object(
          {
            file: Type.String({
              pattern: '^/',
              maxLength: 4096,
              description: 'absolute path of the release tarball on the appliance',
            }),
            sha256: Type.Optional(
              Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'expected sha256 of the tarball' }),
            ),
            activate: Type.Optional(
              Type.Boolean({ description: 'switch to it (default true); false only unpacks it' }),
            ),
            backupState: Type.Optional(
              Type.Boolean({
                description: 'back up the state before switching (default: when the state schema changes)',
              }),
            ),
            healthTimeoutSec: HealthTimeout,
          },
          { additionalProperties: false },
        ),
        result: HandOverSchema,
        role: 'admin',
        mutating: true,
        job: { lock: () => 'release', title: (p) => `install release ${p.file}` },
        handler: async (p, ctx) => installRelease(env, p, ctx, ctx.dryRun),
      }),
      defineMethod({
        name: 'release.rollback',
        summary:
          'Switch back to an installed release (default: the previous one), restoring state across a migration.',
        params: Type.Object(
          { version: Type.Optional(Version), healthTimeoutSec: HealthTimeout },
          { additionalProperties: false },
        ),
        result: HandOverSchema,
        role: 'admin',
        mutating: true,
        job: { lock: () => 'release', title: (p) => `roll back to ${p.version ?? 'the previous release'}` },
        handler: async (p, ctx) => rollbackRelease(env, p, ctx, ctx.dryRun),
      }),
    ],
  };
};

export const releaseSubsystem: Subsystem = {
  name: 'release',
  service: releaseService,
  config: releaseConfigSlice,
  alertSources: ['release'],
};
