/**
 * iSCSI block storage: one desired state (model.ts) in the managed-config pipeline (target
 * `iscsi`), carried out by the backend the machine has — SCST when its sysfs tree and
 * scstadmin exist, else Linux tgt, else `unavailable` with both reasons. Every mutation
 * changes the desired state and applies it in one step (files, then the backend's commands,
 * rolled back together when one fails); a dry run lists the same file diffs and argv.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { conflict, invalid, notFound, unavailable } from '../../rpc/errors.js';
import { type AnyMethodDef, type CallContext, defineMethod } from '../../rpc/registry.js';
import { updateSecrets } from '../backup/secrets.js';
import { configOf } from '../config.js';
import type { ConfigTarget, Step } from '../config-set/index.js';
import { configMethods, planOf } from '../config-set/methods.js';
import type { AgentDeps, Service, ServiceFactory, Subsystem } from '../deps.js';
import * as zcmd from '../zfs/commands.js';
import { type BackendAvailability, computeDrift, type IscsiBackend, type LiveState } from './backend.js';
import { type IscsiConfig, iscsiConfig } from './config.js';
import {
  BackingSchema,
  CHAP_MAX,
  CHAP_MIN,
  chapSecretKey,
  checkIscsi,
  EMPTY_ISCSI,
  GroupSchema,
  type IscsiState,
  type Lun,
  LunSchema,
  newIdentity,
  PortalSchema,
  type Target,
  TargetSchema,
  TOKEN,
} from './model.js';
import { IqnSchema } from './names.js';

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

const SECRET_PATTERN = `^[A-Za-z0-9_.~+=!-]{${CHAP_MIN},${CHAP_MAX}}$`;
const Secret = Type.String({
  pattern: SECRET_PATTERN,
  minLength: CHAP_MIN,
  maxLength: CHAP_MAX,
  description: `CHAP secret, ${CHAP_MIN}–${CHAP_MAX} characters (letters, digits, _ . ~ + = ! -); stored in secrets.env only`,
});

const ChapInput = Type.Object(
  {
    user: Type.String({ pattern: TOKEN, description: 'CHAP user the initiator logs in as' }),
    secret: Secret,
    mutualUser: Type.Optional(
      Type.String({ pattern: TOKEN, description: 'mutual CHAP: the user the target answers as' }),
    ),
    mutualSecret: Type.Optional(Secret),
  },
  { additionalProperties: false },
);
type ChapInputT = Static<typeof ChapInput>;

const ApplyResult = Type.Object({
  changed: Type.Array(Type.String(), { description: 'files written' }),
  version: Type.Optional(Type.Integer()),
  commands: Type.Array(Type.Array(Type.String()), { description: 'argv run, in order' }),
  notes: Type.Array(Type.String()),
});
type ApplyResultT = Static<typeof ApplyResult>;

const TargetView = Type.Object(
  {
    ...TargetSchema.properties,
    chapSecretSet: Type.Boolean(),
    sessions: Type.Integer({ description: 'connected initiators (0 when the backend is down)' }),
  },
  { additionalProperties: false },
);

const SessionSchema = Type.Object({
  target: Type.String(),
  initiator: Type.String(),
  address: Type.Optional(Type.String()),
  luns: Type.Optional(Type.Array(Type.Integer())),
});

const DriftItemSchema = Type.Object({
  target: Type.String(),
  kind: Type.Union([Type.Literal('missing'), Type.Literal('extra'), Type.Literal('different')]),
  what: Type.String(),
  desired: Type.Optional(Type.String()),
  running: Type.Optional(Type.String()),
});

const IqnRef = Type.Object({ iqn: IqnSchema }, { additionalProperties: false });

const ZvolCreate = Type.Object(
  {
    sizeBytes: Type.Integer({ minimum: 1048576, maximum: 2 ** 56 }),
    thin: Type.Boolean({ default: true, description: 'sparse (no reservation)' }),
    volblocksize: Type.Optional(
      Type.Union(['4K', '8K', '16K', '32K', '64K', '128K'].map((v) => Type.Literal(v))),
    ),
  },
  { additionalProperties: false },
);

function localAddresses(): Set<string> {
  const out = new Set(['0.0.0.0', '::']);
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) out.add(a.address.toLowerCase());
  return out;
}

export function createIscsiService(opts: { backends?: BackendFactory[] } = {}): ServiceFactory {
  return (deps): Service => {
    const cfg = configOf(deps.config, iscsiConfig);
    /** a dry run's secrets as the change would set them (secrets.env is not written by a dry run) */
    const dryRunSecrets = new AsyncLocalStorage<Map<string, string | undefined>>();
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
      secret: (k) => {
        const pending = dryRunSecrets.getStore();
        return pending?.has(k) ? pending.get(k) : deps.secrets.get(k);
      },
    };
    const all = (opts.backends ?? []).map((f) => f(bctx));
    const wanted = cfg.backend === 'auto' ? all : all.filter((b) => b.name === cfg.backend);

    /** the backend in use for this change: the first available one, else the first candidate */
    let current: IscsiBackend | undefined = wanted[0];

    async function probeAll(): Promise<{ name: string; available: boolean; reason?: string }[]> {
      const out = [];
      for (const b of wanted) out.push({ name: b.name, ...(await b.probe()) });
      return out;
    }

    async function choose(): Promise<{ backend?: IscsiBackend; why: string; probes: BackendAvailability[] }> {
      const probes = await probeAll();
      const i = probes.findIndex((p) => p.available);
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
      activate: async (ctx) => [...backingSteps(ctx.state), ...((await delegate()?.activate?.(ctx)) ?? [])],
    };

    /** Sparse files for file-backed LUNs that do not exist yet (the dry run evaluates `when` too). */
    function backingSteps(s: IscsiState): Step[] {
      return s.targets.flatMap((t) =>
        t.luns.flatMap((l) => {
          if (l.backing.kind !== 'file') return [];
          const file = path.join(dataDir, l.backing.name);
          return [
            {
              argv: ['mkdir', '-p', dataDir],
              when: { describe: `${dataDir} does not exist`, test: async () => !existsSync(dataDir) },
            },
            {
              argv: ['truncate', '--size', String(l.backing.sizeBytes), file],
              when: { describe: `${file} does not exist`, test: async () => !existsSync(file) },
            },
          ];
        }),
      );
    }

    const managed = deps.configSet.register(target);
    const state = () => managed.state();
    /**
     * What makes a new LUN's serial and NAA id unique: the configuration version the change
     * will be. The same in a dry run and the real run that follows (so the plan shows the very
     * serial the LUN gets), different for a LUN deleted and created again (a new disk).
     */
    const identityNonce = () => `v${(managed.head()?.version ?? 0) + 1}`;

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
     * Apply a new desired state: check it, then (for real) make sure a backend runs, write the
     * CHAP secrets the change brings (restored if the apply fails), and apply through the
     * pipeline. `pre` are commands that run before the pipeline (creating a zvol) and are
     * undone by `undo` if it fails; a dry run lists them first.
     */
    async function change(
      next: IscsiState,
      ctx: CallContext,
      summary: string,
      extra: {
        secrets?: { key: string; value: string | undefined }[];
        pre?: string[][];
        undo?: string[][];
      } = {},
    ): Promise<ApplyResultT | ReturnType<typeof planOf>> {
      const problems = checkIscsi(next);
      if (problems.length) throw invalid(problems.join('; '), { problems });
      if (ctx.dryRun) {
        await choose();
        const pending = new Map((extra.secrets ?? []).map((x) => [x.key, x.value]));
        const plan = planOf(
          await dryRunSecrets.run(pending, () => managed.plan(next, { user: ctx.identity.user, summary })),
        );
        const secretNotes = (extra.secrets ?? []).map(
          (s) => `secrets.env: ${s.key} ${s.value === undefined ? 'removed' : 'set'} (value not shown)`,
        );
        return {
          ...plan,
          commands: [...(extra.pre ?? []), ...plan.commands],
          notes: [...secretNotes, ...(plan.notes ?? [])],
        };
      }
      await requireBackend();
      const before = (extra.secrets ?? []).map((s) => ({ key: s.key, value: deps.secrets.get(s.key) }));
      const ran: string[][] = [];
      try {
        for (const argv of extra.pre ?? []) {
          await deps.runner.run(argv, { timeoutMs: cfg.commandTimeoutSec * 1000 });
          ran.push(argv);
        }
        if (extra.secrets?.length) await updateSecrets(deps.layout.secretsFile, deps.secrets, extra.secrets);
        const r = await managed.apply(next, { user: ctx.identity.user, summary });
        return {
          changed: r.changed,
          ...(r.version !== undefined ? { version: r.version } : {}),
          commands: [...ran, ...r.commands],
          notes: r.notes,
        };
      } catch (err) {
        if (before.length) await updateSecrets(deps.layout.secretsFile, deps.secrets, before).catch(() => {});
        if (ran.length)
          for (const argv of extra.undo ?? [])
            await deps.runner.run(argv, { timeoutMs: cfg.commandTimeoutSec * 1000 }).catch(() => {});
        throw err;
      }
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

    const methods: AnyMethodDef[] = [
      defineMethod({
        name: 'iscsi.status',
        summary: 'Which iSCSI backend is in use and why (SCST, tgt, or none with the reasons)',
        params: Type.Object({}, { additionalProperties: false }),
        result: Type.Object({
          backend: Type.Union([Type.Literal('scst'), Type.Literal('tgt'), Type.Null()]),
          available: Type.Boolean(),
          reason: Type.String(),
          backends: Type.Array(
            Type.Object({
              name: Type.String(),
              available: Type.Boolean(),
              reason: Type.Optional(Type.String()),
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
            backends: c.probes as { name: string; available: boolean; reason?: string }[],
            targets: s.targets.length,
            luns: s.targets.reduce((n, t) => n + t.luns.length, 0),
          };
        },
      }),
      defineMethod({
        name: 'iscsi.target.list',
        summary: 'Targets as desired, with LUNs, groups, CHAP users (never secrets) and session counts',
        params: Type.Object({}, { additionalProperties: false }),
        result: Type.Array(TargetView),
        role: 'auditor',
        mutating: false,
        handler: async () => {
          const live = await liveOrUndefined();
          return state().targets.map((t) => view(t, live));
        },
      }),
      defineMethod({
        name: 'iscsi.target.create',
        summary: 'Create a target (IQN, alias, portals, optional CHAP); dryRun shows files and argv',
        params: Type.Object(
          {
            iqn: IqnSchema,
            alias: Type.Optional(
              Type.String({ pattern: TOKEN, description: 'a short name shown beside the IQN' }),
            ),
            portals: Type.Optional(
              Type.Array(PortalSchema, {
                maxItems: 16,
                description: 'address:port pairs of this machine (default: iscsi.defaultPortal)',
              }),
            ),
            chap: Type.Optional({
              ...ChapInput,
              description: 'CHAP user and secret (and mutual); secrets go to secrets.env only',
            }),
            enabled: Type.Optional(Type.Boolean({ description: 'exported now (default true)' })),
          },
          { additionalProperties: false },
        ),
        result: ApplyResult,
        role: 'admin',
        mutating: true,
        secretParams: ['chap'],
        handler: async (p, ctx) => {
          const s = state();
          if (s.targets.some((t) => t.iqn === p.iqn))
            throw conflict(`iSCSI target ${p.iqn} already exists`, { iqn: p.iqn });
          const portals = p.portals ?? (cfg.defaultPortal ? [cfg.defaultPortal] : []);
          checkPortals(portals);
          const tid = s.targets.reduce((m, t) => Math.max(m, t.tid), 0) + 1;
          const t: Target = {
            tid,
            iqn: p.iqn,
            ...(p.alias ? { alias: p.alias } : {}),
            portals,
            luns: [],
            groups: [],
            ...(p.chap
              ? {
                  chap: {
                    user: p.chap.user,
                    ...(p.chap.mutualUser ? { mutualUser: p.chap.mutualUser } : {}),
                  },
                }
              : {}),
            enabled: p.enabled ?? true,
          };
          return change({ targets: [...s.targets, t] }, ctx, `iscsi target ${p.iqn} created`, {
            secrets: p.chap ? chapSecrets(tid, p.chap) : [],
          });
        },
      }),
      defineMethod({
        name: 'iscsi.target.update',
        summary: 'Change a target’s alias, portals or enabled state',
        params: Type.Object(
          {
            iqn: IqnSchema,
            set: Type.Object(
              {
                alias: Type.Optional(Type.String({ pattern: TOKEN })),
                portals: Type.Optional(Type.Array(PortalSchema, { maxItems: 16 })),
                enabled: Type.Optional(Type.Boolean()),
              },
              { additionalProperties: false, description: 'the fields to change' },
            ),
          },
          { additionalProperties: false },
        ),
        result: ApplyResult,
        role: 'admin',
        mutating: true,
        handler: async (p, ctx) => {
          const s = state();
          findTarget(s, p.iqn);
          if (p.set.portals) checkPortals(p.set.portals);
          return change(
            withTarget(s, p.iqn, (t) => ({ ...t, ...p.set })),
            ctx,
            `iscsi target ${p.iqn} updated`,
          );
        },
      }),
      defineMethod({
        name: 'iscsi.target.delete',
        summary: 'Remove a target (its LUNs’ zvols and files stay); connected sessions need force',
        params: Type.Object(
          { iqn: IqnSchema, force: Type.Optional(Type.Boolean({ description: 'drop connected sessions' })) },
          { additionalProperties: false },
        ),
        result: ApplyResult,
        role: 'admin',
        mutating: true,
        handler: async (p, ctx) => {
          const s = state();
          const t = findTarget(s, p.iqn);
          const sessions = await sessionsOf(p.iqn);
          if (sessions.length && !p.force)
            throw conflict(
              `${p.iqn} has ${sessions.length} connected session(s) (${sessions.map((x) => x.initiator).join(', ')}); repeat with force to drop them`,
              { sessions: sessions.map((x) => x.initiator) },
            );
          return change(
            { targets: s.targets.filter((x) => x.iqn !== p.iqn) },
            ctx,
            `iscsi target ${p.iqn} deleted`,
            { secrets: chapSecrets(t.tid, undefined) },
          );
        },
      }),
      defineMethod({
        name: 'iscsi.target.chap.set',
        summary: 'Set a target’s CHAP user and secret (and optionally mutual CHAP)',
        params: Type.Object({ iqn: IqnSchema, ...ChapInput.properties }, { additionalProperties: false }),
        result: ApplyResult,
        role: 'admin',
        mutating: true,
        secretParams: ['secret', 'mutualSecret'],
        handler: async (p, ctx) => {
          const s = state();
          const t = findTarget(s, p.iqn);
          const chap = {
            user: p.user,
            secret: p.secret,
            mutualUser: p.mutualUser,
            mutualSecret: p.mutualSecret,
          };
          return change(
            withTarget(s, p.iqn, (x) => ({
              ...x,
              chap: { user: p.user, ...(p.mutualUser ? { mutualUser: p.mutualUser } : {}) },
            })),
            ctx,
            `iscsi target ${p.iqn}: CHAP set`,
            { secrets: chapSecrets(t.tid, chap as ChapInputT) },
          );
        },
      }),
      defineMethod({
        name: 'iscsi.target.chap.clear',
        summary: 'Remove CHAP from a target (initiators then log in without authentication)',
        params: IqnRef,
        result: ApplyResult,
        role: 'admin',
        mutating: true,
        handler: async (p, ctx) => {
          const s = state();
          const t = findTarget(s, p.iqn);
          return change(
            withTarget(s, p.iqn, ({ chap: _c, ...x }) => x),
            ctx,
            `iscsi target ${p.iqn}: CHAP removed`,
            { secrets: chapSecrets(t.tid, undefined) },
          );
        },
      }),
      defineMethod({
        name: 'iscsi.lun.create',
        summary:
          'Add a LUN backed by a zvol (created in the same call with `create`) or a file under the iSCSI data area',
        params: Type.Object(
          {
            target: IqnSchema,
            lun: Type.Optional(
              Type.Integer({
                minimum: 0,
                maximum: 255,
                description: 'LUN number (default: the lowest free)',
              }),
            ),
            backing: BackingSchema,
            create: Type.Optional({
              ...ZvolCreate,
              description: 'create the zvol in the same call (size, thin, volblocksize)',
            }),
            blockSize: Type.Optional(LunSchema.properties.blockSize),
            readonly: Type.Optional(Type.Boolean({ description: 'export read-only (default false)' })),
            cache: Type.Optional(LunSchema.properties.cache),
          },
          { additionalProperties: false },
        ),
        result: ApplyResult,
        role: 'admin',
        mutating: true,
        handler: async (p, ctx) => {
          const s = state();
          const t = findTarget(s, p.target);
          const used = new Set(t.luns.map((l) => l.lun));
          let lun = p.lun;
          if (lun === undefined) {
            // tgt keeps LUN 0 for its controller
            lun = (await choose()).backend?.name === 'tgt' ? 1 : 0;
            while (used.has(lun)) lun++;
          } else if (used.has(lun))
            throw invalid(`${p.target}: LUN ${lun} is already used`, { target: p.target, lun });
          if (p.create && p.backing.kind !== 'zvol')
            throw invalid('`create` makes a zvol: only for a zvol backing', {});
          const pre: string[][] = [];
          const undo: string[][] = [];
          if (p.backing.kind === 'zvol') {
            const dev = path.join('/dev/zvol', p.backing.dataset);
            if (p.create) {
              pre.push(
                zcmd.zvolCreate({
                  name: p.backing.dataset,
                  size: String(p.create.sizeBytes),
                  sparse: p.create.thin,
                  ...(p.create.volblocksize ? { blocksize: p.create.volblocksize } : {}),
                }),
              );
              undo.push(['zfs', 'destroy', '--', p.backing.dataset]);
              if (!ctx.dryRun) await deps.capabilities.require('zfs');
            } else if (!ctx.dryRun && !existsSync(dev))
              throw notFound(`zvol ${p.backing.dataset} does not exist (${dev}); pass create to make it`, {
                dataset: p.backing.dataset,
              });
          }
          const id = newIdentity(t.iqn, lun, identityNonce());
          const l: Lun = {
            lun,
            backing: p.backing,
            blockSize: p.blockSize ?? 512,
            readonly: p.readonly ?? false,
            cache: p.cache ?? 'write-through',
            ...id,
          };
          return change(
            withTarget(s, t.iqn, (x) => ({ ...x, luns: [...x.luns, l].sort((a, b) => a.lun - b.lun) })),
            ctx,
            `iscsi ${t.iqn}: LUN ${lun} added`,
            { pre, undo },
          );
        },
      }),
      defineMethod({
        name: 'iscsi.lun.update',
        summary: 'Change a LUN’s read-only flag or cache mode',
        params: Type.Object(
          {
            target: IqnSchema,
            lun: Type.Integer({ minimum: 0, maximum: 255, description: 'LUN number' }),
            set: Type.Object(
              { readonly: Type.Optional(Type.Boolean()), cache: Type.Optional(LunSchema.properties.cache) },
              { additionalProperties: false, description: 'the fields to change' },
            ),
          },
          { additionalProperties: false },
        ),
        result: ApplyResult,
        role: 'admin',
        mutating: true,
        handler: async (p, ctx) => {
          const s = state();
          const t = findTarget(s, p.target);
          if (!t.luns.some((l) => l.lun === p.lun))
            throw notFound(`${p.target} has no LUN ${p.lun}`, { target: p.target, lun: p.lun });
          return change(
            withTarget(s, t.iqn, (x) => ({
              ...x,
              luns: x.luns.map((l) => (l.lun === p.lun ? { ...l, ...p.set } : l)),
            })),
            ctx,
            `iscsi ${t.iqn}: LUN ${p.lun} updated`,
          );
        },
      }),
      defineMethod({
        name: 'iscsi.lun.delete',
        summary: 'Remove a LUN (its zvol or file stays); with connected sessions it needs force',
        params: Type.Object(
          {
            target: IqnSchema,
            lun: Type.Integer({ minimum: 0, maximum: 255, description: 'LUN number' }),
            force: Type.Optional(Type.Boolean({ description: 'remove it although initiators use it' })),
          },
          { additionalProperties: false },
        ),
        result: ApplyResult,
        role: 'admin',
        mutating: true,
        handler: async (p, ctx) => {
          const s = state();
          const t = findTarget(s, p.target);
          if (!t.luns.some((l) => l.lun === p.lun))
            throw notFound(`${p.target} has no LUN ${p.lun}`, { target: p.target, lun: p.lun });
          const sessions = await sessionsOf(p.target, p.lun);
          if (sessions.length && !p.force)
            throw conflict(
              `LUN ${p.lun} of ${p.target} is in use by ${sessions.map((x) => x.initiator).join(', ')}; repeat with force to remove it anyway`,
              { sessions: sessions.map((x) => x.initiator) },
            );
          return change(
            withTarget(s, t.iqn, (x) => ({
              ...x,
              luns: x.luns.filter((l) => l.lun !== p.lun),
              groups: x.groups.map((g) => ({ ...g, luns: g.luns.filter((m) => m.target !== p.lun) })),
            })),
            ctx,
            `iscsi ${t.iqn}: LUN ${p.lun} removed`,
          );
        },
      }),
      ...groupMethods(),
      defineMethod({
        name: 'iscsi.session.list',
        summary: 'Connected initiators (per target, with the LUNs they see where the backend says)',
        params: Type.Object({ target: Type.Optional(IqnSchema) }, { additionalProperties: false }),
        result: Type.Array(SessionSchema),
        role: 'auditor',
        mutating: false,
        handler: async (p) => {
          const b = await requireBackend();
          const live = await b.live();
          return live.sessions.filter((x) => !p.target || x.target === p.target);
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
          const items = computeDrift(state(), await b.live(), backingPath, {
            compareGroups: b.name === 'scst',
          });
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
          if (ctx.dryRun) {
            await choose();
            return planOf(
              await managed.plan(state(), {
                user: ctx.identity.user,
                summary: 'iscsi.apply',
                forceActivate: true,
              }),
            );
          }
          await requireBackend();
          const r = await managed.reapply({ user: ctx.identity.user, summary: 'iscsi.apply' });
          await deps.alerts.clear('iscsi.drift');
          return {
            changed: r.changed,
            ...(r.version !== undefined ? { version: r.version } : {}),
            commands: r.commands,
            notes: r.notes,
          };
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
          const { next, skipped } = adopt(state(), await b.live(), dataDir, identityNonce());
          const r = await change(next, ctx, 'iscsi.adopt');
          return { ...r, skipped } as never;
        },
      }),
      ...configMethods<IscsiState, ApplyResultT>({
        area: 'iscsi',
        label: 'the iSCSI configuration',
        config: () => managed,
        restore: (s, ctx, summary) => change(s, ctx, summary) as never,
        restoreResult: ApplyResult,
      }),
    ];

    function groupMethods(): AnyMethodDef[] {
      const GroupParams = Type.Object(
        {
          target: IqnSchema,
          name: GroupSchema.properties.name,
          initiators: { ...GroupSchema.properties.initiators, description: 'initiator IQNs allowed in' },
          luns: Type.Optional({
            ...GroupSchema.properties.luns,
            description:
              'LUN numbers as this group sees them → the target’s LUN (default: as the target numbers them)',
          }),
        },
        { additionalProperties: false },
      );
      const put = (create: boolean) =>
        defineMethod({
          name: create ? 'iscsi.group.create' : 'iscsi.group.update',
          summary: create
            ? 'Add an initiator group: only its initiators see the target, each LUN under the group’s own number (default: as the target numbers them)'
            : 'Replace an initiator group’s initiators and LUN mapping',
          params: GroupParams,
          result: ApplyResult,
          role: 'admin',
          mutating: true,
          handler: async (p, ctx) => {
            const s = state();
            const t = findTarget(s, p.target);
            const exists = t.groups.some((g) => g.name === p.name);
            if (create && exists) throw conflict(`${p.target}: group ${p.name} already exists`, {});
            if (!create && !exists) throw notFound(`${p.target} has no group ${p.name}`, {});
            const g = {
              name: p.name,
              initiators: p.initiators,
              luns: p.luns ?? t.luns.map((l) => ({ lun: l.lun, target: l.lun })),
            };
            return change(
              withTarget(s, t.iqn, (x) => ({
                ...x,
                groups: create ? [...x.groups, g] : x.groups.map((y) => (y.name === p.name ? g : y)),
              })),
              ctx,
              `iscsi ${t.iqn}: group ${p.name} ${create ? 'created' : 'updated'}`,
            );
          },
        });
      return [
        put(true),
        put(false),
        defineMethod({
          name: 'iscsi.group.delete',
          summary: 'Remove an initiator group (its initiators lose access unless another group has them)',
          params: Type.Object(
            { target: IqnSchema, name: GroupSchema.properties.name },
            { additionalProperties: false },
          ),
          result: ApplyResult,
          role: 'admin',
          mutating: true,
          handler: async (p, ctx) => {
            const s = state();
            const t = findTarget(s, p.target);
            if (!t.groups.some((g) => g.name === p.name))
              throw notFound(`${p.target} has no group ${p.name}`, {});
            return change(
              withTarget(s, t.iqn, (x) => ({ ...x, groups: x.groups.filter((g) => g.name !== p.name) })),
              ctx,
              `iscsi ${t.iqn}: group ${p.name} removed`,
            );
          },
        }),
      ];
    }

    return {
      name: 'iscsi',
      methods,
      async start() {
        await choose().catch(() => {});
      },
    };
  };
}

/**
 * The running state as desired state: LUNs whose backing is a zvol device or a file of the data
 * area are kept (identities from the running LUN when it reports them); anything else is
 * skipped and named. CHAP users are kept when the desired state already had them (their
 * secrets are in secrets.env); a running user the agent has no secret for is named in skipped.
 */
export function adopt(
  desired: IscsiState,
  live: LiveState,
  dataDir: string,
  /** what makes identities generated for LUNs the backend reports none for unique */
  nonce: string,
): { next: IscsiState; skipped: string[] } {
  const skipped: string[] = [];
  const prev = new Map(desired.targets.map((t) => [t.iqn, t]));
  let nextTid = Math.max(0, ...desired.targets.map((t) => t.tid), ...live.targets.map((t) => t.tid ?? 0)) + 1;
  const targets: Target[] = [];
  for (const r of live.targets) {
    const old = prev.get(r.iqn);
    const tid = old?.tid ?? r.tid ?? nextTid++;
    const luns: Lun[] = [];
    for (const l of r.luns) {
      const oldLun = old?.luns.find((x) => x.lun === l.lun);
      let backing: Lun['backing'] | undefined;
      if (l.path?.startsWith('/dev/zvol/'))
        backing = { kind: 'zvol', dataset: l.path.slice('/dev/zvol/'.length) };
      else if (l.path && path.dirname(l.path) === dataDir) {
        const name = path.basename(l.path);
        const size = l.sizeBytes ?? (oldLun?.backing.kind === 'file' ? oldLun.backing.sizeBytes : undefined);
        if (size && size >= 1048576) backing = { kind: 'file', name, sizeBytes: size };
      }
      if (!backing) {
        skipped.push(
          `${r.iqn} LUN ${l.lun}: backing ${l.path ?? '(none)'} is neither a zvol nor a data-area file`,
        );
        continue;
      }
      const id = newIdentity(r.iqn, l.lun, nonce);
      luns.push({
        lun: l.lun,
        backing,
        blockSize: l.blockSize === 4096 ? 4096 : 512,
        readonly: l.readonly ?? false,
        cache: oldLun?.cache ?? 'write-through',
        serial: l.serial && /^[A-Za-z0-9]{1,16}$/.test(l.serial) ? l.serial : (oldLun?.serial ?? id.serial),
        naa: l.naa && /^6[0-9a-f]{31}$/.test(l.naa) ? l.naa : (oldLun?.naa ?? id.naa),
      });
    }
    const lunSet = new Set(luns.map((l) => l.lun));
    const groups = r.groups.length
      ? r.groups.map((g) => ({ ...g, luns: g.luns.filter((m) => lunSet.has(m.target)) }))
      : r.allowAll
        ? []
        : [{ name: 'acl', initiators: r.initiators, luns: luns.map((l) => ({ lun: l.lun, target: l.lun })) }];
    let chap = old?.chap;
    if (r.chapUsers.length && r.chapUsers[0] !== chap?.user) {
      skipped.push(
        `${r.iqn}: CHAP user ${r.chapUsers[0]} runs but its secret is unknown; set it with iscsi.target.chap.set`,
      );
      chap = undefined;
    } else if (!r.chapUsers.length) chap = undefined;
    targets.push({
      tid,
      iqn: r.iqn,
      ...(old?.alias ? { alias: old.alias } : {}),
      portals: old?.portals ?? [],
      luns,
      groups,
      ...(chap ? { chap } : {}),
      enabled: r.enabled,
    });
  }
  return { next: { targets }, skipped };
}

export function iscsiSubsystem(backends: BackendFactory[]): Subsystem {
  return { name: 'iscsi', service: createIscsiService({ backends }), config: iscsiConfig };
}
