/**
 * iSCSI block storage: one desired state (model.ts) in the managed-config pipeline (target
 * `iscsi`), carried out by the backend the machine has — SCST when its sysfs tree and
 * scstadmin exist, else Linux tgt, else `unavailable` with both reasons. Every mutation
 * changes the desired state and applies it in one step (files, then the backend's commands,
 * rolled back together when one fails); a dry run lists the same file diffs and argv.
 */
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { invalid, notFound, unavailable } from '../../rpc/errors.js';
import { listed, listResult } from '../../rpc/list.js';
import { type AnyMethodDef, type CallContext, defineMethod } from '../../rpc/registry.js';
import { configOf } from '../config.js';
import { answerOf, changeState, type planOf, reapplyState } from '../config-set/change.js';
import type { ConfigTarget, Step } from '../config-set/index.js';
import { configMethods } from '../config-set/methods.js';
import type { AgentDeps, Service, ServiceFactory, Subsystem } from '../deps.js';
import { ZVOLS } from '../zfs/port.js';
import { adopt } from './adopt.js';
import {
  ApplyResult,
  type ApplyResultT,
  type ChapInputT,
  DriftItemSchema,
  SessionSchema,
} from './api-schemas.js';
import { type BackendAvailability, computeDrift, type IscsiBackend, type LiveState } from './backend.js';
import { backingFileSteps } from './backing-file.js';
import { type IscsiConfig, iscsiConfig } from './config.js';
import { groupMethods, lunMethods } from './methods-luns.js';
import { type IscsiMethodsContext, type IscsiUpdater, targetMethods } from './methods-targets.js';
import { iscsiMetrics } from './metrics.js';
import { chapSecretKey, checkIscsi, EMPTY_ISCSI, type IscsiState, type Lun, type Target } from './model.js';
import { IqnSchema } from './names.js';
import { ISCSI_PROBES } from './probes.js';
import { restoreAtStart } from './restore-at-start.js';

/** What a backend factory receives: everything it needs, nothing of the agent's internals. */
export interface BackendContext {
  deps: AgentDeps;
  cfg: IscsiConfig;
  /** where the backend writes its rendered files */
  configDir: (backend: string) => string;
  /** file-backed LUNs live here (srv/calypso/iscsi) */
  dataDir: string;
  backingPath: (lun: Lun) => string;
  /** CHAP secrets by key (secrets.env); undefined when not set */
  secret: (key: string) => string | undefined;
}

export type BackendFactory = (c: BackendContext) => IscsiBackend;

function localAddresses(): Set<string> {
  const out = new Set(['0.0.0.0', '::']);
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) out.add(a.address.toLowerCase());
  return out;
}

export function createIscsiService(opts: { backends?: BackendFactory[] } = {}): ServiceFactory {
  return (deps): Service => {
    const cfg = configOf(deps.config, iscsiConfig);
    const dataDir = deps.layout.data.iscsi;
    const backingPath = (l: Lun) =>
      l.backing.kind === 'zvol'
        ? path.join('/dev/zvol', l.backing.dataset)
        : path.join(dataDir, l.backing.name);
    const bctx: BackendContext = {
      deps,
      cfg,
      configDir: (b) => deps.layout.generated(b),
      dataDir,
      backingPath,
      // a dry run sees the secrets its change brings (the pipeline previews them)
      secret: (k) => deps.secrets.get(k),
    };
    const all = (opts.backends ?? []).map((f) => f(bctx));
    const wanted = cfg.backend === 'auto' ? all : all.filter((b) => b.name === cfg.backend);

    /** the backend in use for this change: the first available one, else the first candidate */
    let current: IscsiBackend | undefined = wanted[0];

    // Concurrent callers share one probe run (issue #28 item 4: an auditor pipelining
    // iscsi.status queued thousands of identical probes ahead of everyone else's commands).
    let probing: Promise<({ name: string } & BackendAvailability)[]> | undefined;
    function probeAll(): Promise<({ name: string } & BackendAvailability)[]> {
      if (probing) return probing;
      const run = (async () => {
        const out = [];
        for (const b of wanted) out.push({ name: b.name, ...(await b.probe()) });
        return out;
      })();
      probing = run;
      const done = () => {
        if (probing === run) probing = undefined;
      };
      run.then(done, done);
      return run;
    }

    async function choose(): Promise<{ backend?: IscsiBackend; why: string; probes: BackendAvailability[] }> {
      const probes = await probeAll();
      // a fallback (LIO loadable but not loaded) only when nothing else runs
      let i = probes.findIndex((p) => p.available && !p.fallback);
      if (i < 0) i = probes.findIndex((p) => p.available);
      if (i >= 0) {
        current = wanted[i]!;
        return {
          backend: current,
          why:
            cfg.backend === 'auto'
              ? i === 0
                ? `${current.name} is available`
                : `${probes
                    .slice(0, i)
                    .map((p) => `${p.name}: ${p.reason}`)
                    .join('; ')}; using ${current.name}`
              : `configured: ${current.name}`,
          probes,
        };
      }
      const why = wanted.length
        ? probes.map((p) => `${p.name}: ${p.reason ?? 'not available'}`).join('; ')
        : `no iSCSI backend is built in for "${cfg.backend}"`;
      return { why, probes };
    }

    async function requireBackend(): Promise<IscsiBackend> {
      const c = await choose();
      if (!c.backend) throw unavailable(`no iSCSI target can run here: ${c.why}`, { reason: c.why });
      return c.backend;
    }

    const delegate = (): ConfigTarget<IscsiState> | undefined => current?.configTarget();
    const target: ConfigTarget<IscsiState> = {
      name: 'iscsi',
      initial: () => EMPTY_ISCSI,
      render: (s) => delegate()?.render(s) ?? new Map(),
      redact: (t, f) => delegate()?.redact?.(t, f) ?? t,
      mode: (f) => delegate()?.mode?.(f) ?? 0o600,
      prepare: async (s) => {
        await delegate()?.prepare?.(s);
      },
      validate: async (ctx) => (await delegate()?.validate?.(ctx)) ?? [],
      activate: async (ctx) => [
        ...(await backingSteps(ctx.state)),
        ...((await delegate()?.activate?.(ctx)) ?? []),
      ],
    };

    /** Sparse files for file-backed LUNs that do not exist yet; never through a link (backing-file.ts). */
    const backingSteps = (s: IscsiState): Promise<Step[]> =>
      backingFileSteps(
        dataDir,
        s.targets.flatMap((t) => t.luns.flatMap((l) => (l.backing.kind === 'file' ? [l.backing] : []))),
      );

    const managed = deps.configSet.register(target);
    const state = () => managed.state();
    /**
     * What makes a new LUN's serial and NAA id unique: this appliance's random id (two appliances
     * with the same IQNs must never export the same identity: multipath would merge them) and the
     * configuration version the change will be. The same in a dry run and the real run that
     * follows (so the plan shows the very serial the LUN gets), different for a LUN deleted and
     * created again (a new disk). Once made, an identity is stored in the desired state and
     * never derived again.
     */
    const identityNonce = () => `${deps.store.applianceId()}:v${(managed.head()?.version ?? 0) + 1}`;

    // a zvol backing a LUN is not destroyed from under it
    deps.usage.register('dataset', (name, recursive) =>
      state().targets.flatMap((t) =>
        t.luns.flatMap((l) =>
          l.backing.kind === 'zvol' &&
          (l.backing.dataset === name || (recursive && l.backing.dataset.startsWith(`${name}/`)))
            ? [`iSCSI LUN ${l.lun} of ${t.iqn}`]
            : [],
        ),
      ),
    );

    function findTarget(s: IscsiState, iqn: string): Target {
      const t = s.targets.find((x) => x.iqn === iqn);
      if (!t) throw notFound(`iSCSI target ${iqn} does not exist`, { iqn });
      return t;
    }

    function checkPortals(portals: { address: string; port: number }[]): void {
      const local = localAddresses();
      for (const p of portals)
        if (!local.has(p.address.toLowerCase()))
          throw invalid(`portal ${p.address}:${p.port}: ${p.address} is not an address of this machine`, {
            portal: p,
          });
    }

    async function liveOrUndefined(): Promise<LiveState | undefined> {
      const c = await choose();
      if (!c.backend) return undefined;
      try {
        return await c.backend.live();
      } catch {
        return undefined;
      }
    }

    async function sessionsOf(iqn: string, lun?: number) {
      const live = await liveOrUndefined();
      return (live?.sessions ?? []).filter(
        (s) => s.target === iqn && (lun === undefined || !s.luns || s.luns.includes(lun)),
      );
    }

    /**
     * One change: for real, a backend must run; then `fn` makes the next state of the committed
     * one inside the pipeline's lock, it is checked, and the pipeline plans or applies it with
     * the CHAP secrets and side effects (a zvol) it brings — all undone together on failure.
     */
    async function change(
      ctx: CallContext,
      summary: string,
      fn: IscsiUpdater,
    ): Promise<ApplyResultT | ReturnType<typeof planOf>> {
      if (ctx.dryRun) await choose();
      const r = await changeState(managed, ctx, summary, fn, {
        check: checkIscsi,
        require: () => requireBackend().then(() => {}),
      });
      return answerOf(ctx, r);
    }

    const withTarget = (s: IscsiState, iqn: string, fn: (t: Target) => Target): IscsiState => ({
      targets: s.targets.map((t) => (t.iqn === iqn ? fn(t) : t)),
    });

    function chapSecrets(tid: number, chap: ChapInputT | undefined) {
      const mutual = chap?.mutualUser !== undefined;
      if (chap && mutual !== (chap.mutualSecret !== undefined))
        throw invalid('mutual CHAP needs both mutualUser and mutualSecret', {});
      if (chap?.mutualSecret && chap.mutualSecret === chap.secret)
        throw invalid('the mutual CHAP secret must differ from the incoming one', {});
      return [
        { key: chapSecretKey(tid), value: chap?.secret },
        { key: chapSecretKey(tid, true), value: mutual ? chap?.mutualSecret : undefined },
      ];
    }

    const view = (t: Target, live: LiveState | undefined) => ({
      ...t,
      chapSecretSet: !!t.chap && deps.secrets.has(chapSecretKey(t.tid)),
      sessions: (live?.sessions ?? []).filter((s) => s.target === t.iqn).length,
    });

    const ic: IscsiMethodsContext = {
      deps,
      cfg,
      state,
      change,
      findTarget,
      withTarget,
      chapSecrets,
      checkPortals,
      sessionsOf,
      liveOrUndefined,
      view,
      backendName: async () => (await choose()).backend?.name,
      identityNonce,
    };

    deps.capabilities.declare(...ISCSI_PROBES);
    deps.metrics.contribute(...iscsiMetrics(async () => (await (await requireBackend()).live()).sessions));

    const methods: AnyMethodDef[] = [
      defineMethod({
        name: 'iscsi.status',
        summary: 'Which iSCSI backend is in use and why (SCST, tgt, or none with the reasons)',
        params: Type.Object({}, { additionalProperties: false }),
        result: Type.Object({
          backend: Type.Union([Type.Literal('scst'), Type.Literal('lio'), Type.Literal('tgt'), Type.Null()]),
          available: Type.Boolean(),
          reason: Type.String(),
          backends: Type.Array(
            Type.Object({
              name: Type.String(),
              available: Type.Boolean(),
              reason: Type.Optional(Type.String()),
              fallback: Type.Optional(Type.Boolean()),
            }),
          ),
          targets: Type.Integer(),
          luns: Type.Integer(),
        }),
        role: 'auditor',
        mutating: false,
        handler: async () => {
          const c = await choose();
          const s = state();
          return {
            backend: c.backend?.name ?? null,
            available: !!c.backend,
            reason: c.why,
            backends: c.probes as { name: string; available: boolean; reason?: string; fallback?: boolean }[],
            targets: s.targets.length,
            luns: s.targets.reduce((n, t) => n + t.luns.length, 0),
          };
        },
      }),
      ...targetMethods(ic),
      ...lunMethods(ic),
      ...groupMethods(ic),
      defineMethod({
        name: 'iscsi.session.list',
        summary: 'Connected initiators (per target, with the LUNs they see where the backend says)',
        params: Type.Object({ target: Type.Optional(IqnSchema) }, { additionalProperties: false }),
        result: listResult(SessionSchema),
        role: 'auditor',
        mutating: false,
        handler: async (p) => {
          const b = await requireBackend();
          const live = await b.live();
          return listed(live.sessions.filter((x) => !p.target || x.target === p.target));
        },
      }),
      defineMethod({
        name: 'iscsi.drift',
        summary: 'What differs between the desired iSCSI state and what the backend runs',
        params: Type.Object({}, { additionalProperties: false }),
        result: Type.Object({
          backend: Type.String(),
          inSync: Type.Boolean(),
          items: Type.Array(DriftItemSchema),
        }),
        role: 'auditor',
        mutating: false,
        handler: async () => {
          const b = await requireBackend();
          const items = b.drift
            ? await b.drift(state())
            : computeDrift(state(), await b.live(), backingPath, { compareGroups: b.name === 'scst' });
          if (items.length)
            await deps.alerts.raise({
              key: 'iscsi.drift',
              level: 'warning',
              source: 'iscsi',
              title: `iSCSI: ${b.name} runs something else than configured (${items.length} difference(s))`,
              detail:
                'Open the iSCSI page and re-apply the configuration, or adopt what runs (iscsi.apply / iscsi.adopt).',
              data: { items: items.slice(0, 20) },
            });
          else await deps.alerts.clear('iscsi.drift');
          return { backend: b.name, inSync: items.length === 0, items };
        },
      }),
      defineMethod({
        name: 'iscsi.apply',
        summary:
          'Make the running target match the desired state again (after a restart or a change by hand)',
        params: Type.Object({}, { additionalProperties: false }),
        result: ApplyResult,
        role: 'admin',
        mutating: true,
        handler: async (_p, ctx) => {
          if (ctx.dryRun) await choose();
          const r = await reapplyState(managed, ctx, 'iscsi.apply', requireBackend);
          if (!ctx.dryRun) await deps.alerts.clear('iscsi.drift');
          return answerOf(ctx, r);
        },
      }),
      defineMethod({
        name: 'iscsi.adopt',
        summary:
          'Take what the backend runs as the desired state (targets, LUNs on zvols or data-area files, ACLs, CHAP users)',
        params: Type.Object({}, { additionalProperties: false }),
        result: Type.Intersect([ApplyResult, Type.Object({ skipped: Type.Array(Type.String()) })]),
        role: 'admin',
        mutating: true,
        handler: async (_p, ctx) => {
          const b = await requireBackend();
          const live = await b.live();
          let skipped: string[] = [];
          const r = await change(ctx, 'iscsi.adopt', (cur) => {
            const a = adopt(cur, live, dataDir, identityNonce());
            skipped = a.skipped;
            return { state: a.next };
          });
          return { ...r, skipped } as never;
        },
      }),
      ...configMethods<IscsiState, ApplyResultT>({
        area: 'iscsi',
        label: 'the iSCSI configuration',
        config: () => managed,
        restore: (s, ctx, summary) => change(ctx, summary, () => ({ state: s })) as never,
        restoreResult: ApplyResult,
      }),
    ];

    let restoring: Promise<void> | undefined;
    return {
      name: 'iscsi',
      methods,
      async start() {
        const c = await choose().catch(() => undefined);
        // in the background (start must not hold the agent's readiness); stop() waits for it
        restoring = restoreAtStart(deps, managed, c?.backend).catch((err) =>
          deps.log.error({ err, area: 'iscsi' }, 'iscsi: restore at start failed'),
        );
      },
      async stop() {
        await restoring;
      },
    };
  };
}

export function iscsiSubsystem(backends: BackendFactory[]): Subsystem {
  return {
    name: 'iscsi',
    service: createIscsiService({ backends }),
    config: iscsiConfig,
    needs: [ZVOLS],
    alertSources: ['iscsi'],
  };
}
