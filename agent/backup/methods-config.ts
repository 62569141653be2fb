/**
 * Desired-state methods: backup.<kind>.list/get/set/delete for client, fileset, schedule,
 * pool, storage and job; backup.settings.*; backup.config.apply/history/diff/restore.
 * Every change renders the whole configuration, and with `dryRun` returns the file diffs.
 */
import { type TObject, type TProperties, Type } from '@sinclair/typebox';
import { conflict, invalid, notFound } from '../../rpc/errors.js';
import { type AnyMethodDef, type CallContext, type DryRunPlan, defineMethod } from '../../rpc/registry.js';
import { configMethods as configSetMethods } from '../config-set/methods.js';
import { RELOAD } from './config-target.js';
import type { ApplyResult, BackupContext } from './context.js';
import {
  BaculaName,
  type DesiredState,
  KINDS,
  type Kind,
  Password,
  type Settings,
  SettingsSchema,
  StorageSchema,
} from './model.js';
import { checkState, referencesTo } from './render.js';
import { builtinClient, builtinStorage } from './render-dir.js';
import { clientKey, updateSecrets } from './secrets.js';
import { KIND_SCHEMA, listKey, normalize, withObject, withoutObject } from './state-store.js';

export const ApplyResultSchema = Type.Object(
  {
    changed: Type.Array(Type.String(), { description: 'config files rewritten' }),
    reloaded: Type.Boolean({ description: 'the director reloaded the new configuration' }),
    restartRequired: Type.Array(Type.String(), {
      description: 'daemons to restart for the change to take effect',
    }),
    version: Type.Optional(Type.Integer({ description: 'configuration history version' })),
    notes: Type.Array(Type.String()),
  },
  { description: 'what applying the configuration did' },
);
const Empty = Type.Object({}, { additionalProperties: false });
const NameParam = Type.Object({ name: BaculaName }, { additionalProperties: false });

const LABEL: Record<Kind, string> = {
  client: 'file daemon client',
  fileset: 'fileset',
  schedule: 'schedule',
  pool: 'pool',
  storage: 'storage',
  job: 'job',
};

/** Fields with a default become optional in `set` params (defaults are applied on the way in). */
function setParams(kind: Kind): TObject {
  let props: TProperties;
  if (kind === 'storage') {
    props = {};
    for (const member of StorageSchema.anyOf) {
      for (const [k, v] of Object.entries(member.properties)) {
        if (!(k in props))
          props[k] =
            k === 'name'
              ? v
              : Type.Optional(
                  k === 'type'
                    ? Type.Union([Type.Literal('disk'), Type.Literal('tape')], {
                        description: 'disk or tape',
                      })
                    : v,
                );
      }
    }
    props.type = Type.Union([Type.Literal('disk'), Type.Literal('tape')], {
      description: 'disk: file volumes; tape: autochanger',
    });
  } else {
    const schema = KIND_SCHEMA[kind] as TObject;
    props = Object.fromEntries(
      Object.entries(schema.properties).map(([k, v]) => [
        k,
        (v as { default?: unknown }).default !== undefined || (schema.required ?? []).indexOf(k) < 0
          ? Type.Optional(v)
          : v,
      ]),
    );
  }
  if (kind === 'client') {
    props.password = Type.Optional(
      Type.Unsafe<string>({
        ...Password,
        description: 'the file daemon’s Director password; generated when absent',
      }),
    );
  }
  return Type.Object(props, { additionalProperties: false });
}

async function planOrApply(
  bctx: BackupContext,
  state: DesiredState,
  ctx: CallContext,
  summary: string,
): Promise<ApplyResult | DryRunPlan> {
  const problems = checkState(state);
  if (problems.length) {
    const p = problems[0]!;
    throw invalid(`${p.kind} ${p.name}: ${p.message}`, { problems });
  }
  if (ctx.dryRun) {
    // the same rendering, diff and steps as the apply (a reload only when the director runs)
    const plan = await bctx.config.plan(state, { user: ctx.identity.user, summary });
    const reloads = plan.commands.some((c) => c[0] === 'bconsole');
    return {
      dryRun: true,
      commands: plan.commands,
      files: plan.files,
      ...(reloads ? { console: [RELOAD] } : {}),
      notes: plan.notes,
    };
  }
  await bctx.requireTools('bacula-dir', 'bacula-sd', 'bacula-fd');
  return bctx.apply(state, ctx.identity.user, summary);
}

function kindMethods(bctx: BackupContext, kind: Kind): AnyMethodDef[] {
  const label = LABEL[kind];
  const item = KIND_SCHEMA[kind];
  const builtinFlag = {
    builtin: Type.Optional(Type.Boolean({ description: 'part of the appliance; cannot be changed' })),
  };
  const listItem =
    kind === 'client'
      ? Type.Object({ ...(item as TObject).properties, ...builtinFlag }, { additionalProperties: false })
      : kind === 'storage'
        ? Type.Union(
            StorageSchema.anyOf.map((m) =>
              Type.Object({ ...m.properties, ...builtinFlag }, { additionalProperties: false }),
            ),
          )
        : item;
  const list = () => {
    const state = bctx.store.load();
    const items = state[listKey(kind)] as unknown[];
    if (kind === 'client') return [{ ...builtinClient(state), builtin: true }, ...items];
    if (kind === 'storage') return [{ ...builtinStorage(), builtin: true }, ...items];
    return items;
  };
  return [
    defineMethod({
      name: `backup.${kind}.list`,
      summary: `List the Bacula ${label}s of the desired configuration.`,
      params: Empty,
      result: Type.Object({ items: Type.Array(listItem) }),
      role: 'auditor',
      mutating: false,
      handler: async () => ({ items: list() }) as never,
    }),
    defineMethod({
      name: `backup.${kind}.get`,
      summary: `One ${label} by name.`,
      params: NameParam,
      result: listItem,
      role: 'auditor',
      mutating: false,
      handler: async (p) => {
        const found = (list() as { name: string }[]).find((o) => o.name === p.name);
        if (!found) throw notFound(`${label} ${p.name} does not exist`);
        return found as never;
      },
    }),
    defineMethod({
      name: `backup.${kind}.set`,
      summary: `Create or replace a ${label}; renders, validates and applies the Bacula configuration.`,
      description:
        'The whole object is replaced (fields left out take their defaults). The configuration is validated with ' +
        'the daemons’ test mode and the director reloaded; on any failure the previous files are restored.',
      params: setParams(kind),
      result: Type.Object({ item: listItem, applied: ApplyResultSchema }),
      role: 'admin',
      mutating: true,
      secretParams: kind === 'client' ? ['password'] : undefined,
      handler: (params, ctx) =>
        bctx.exclusive(async () => {
          const { password, ...rest } = params as Record<string, unknown> & { password?: string };
          const obj = normalize<{ name: string }>(KIND_SCHEMA[kind], rest, `${label} ${String(rest.name)}`);
          const state = bctx.store.load();
          if (kind === 'client' && obj.name === builtinClient(state).name) {
            throw conflict(`client ${obj.name} is the appliance itself; change it with backup.settings.set`);
          }
          const next = withObject(state, kind, obj);
          if (kind === 'client' && password && !ctx.dryRun) {
            await updateSecrets(bctx.deps.layout.secretsFile, bctx.deps.secrets, [
              { key: clientKey(obj.name), value: password, comment: `director ↔ client ${obj.name}` },
            ]);
          }
          const applied = await planOrApply(bctx, next, ctx, `backup.${kind}.set ${obj.name}`);
          if ('dryRun' in applied) return applied;
          return { item: obj, applied } as never;
        }),
    }),
    defineMethod({
      name: `backup.${kind}.delete`,
      summary: `Delete a ${label} that nothing refers to.`,
      params: NameParam,
      result: Type.Object({ applied: ApplyResultSchema }),
      role: 'admin',
      mutating: true,
      handler: (p, ctx) =>
        bctx.exclusive(async () => {
          const state = bctx.store.load();
          if (!(state[listKey(kind)] as { name: string }[]).some((o) => o.name === p.name))
            throw notFound(`${label} ${p.name} does not exist`);
          const refs = referencesTo(state, kind, p.name);
          if (refs.length)
            throw conflict(`${label} ${p.name} is used by ${refs.join(', ')}`, { usedBy: refs });
          const applied = await planOrApply(
            bctx,
            withoutObject(state, kind, p.name),
            ctx,
            `backup.${kind}.delete ${p.name}`,
          );
          if ('dryRun' in applied) return applied;
          if (kind === 'client') {
            await updateSecrets(bctx.deps.layout.secretsFile, bctx.deps.secrets, [
              { key: clientKey(p.name), value: undefined },
            ]);
          }
          return { applied };
        }),
    }),
  ];
}

export function configMethods(bctx: BackupContext): AnyMethodDef[] {
  const settingsParams = Type.Object(
    Object.fromEntries(Object.entries(SettingsSchema.properties).map(([k, v]) => [k, Type.Optional(v)])),
    { additionalProperties: false },
  );
  return [
    ...KINDS.flatMap((k) => kindMethods(bctx, k)),
    defineMethod({
      name: 'backup.settings.get',
      summary: 'Director name, listen address and ports of the appliance’s Bacula daemons.',
      params: Empty,
      result: SettingsSchema,
      role: 'auditor',
      mutating: false,
      handler: async () => bctx.store.settings(),
    }),
    defineMethod({
      name: 'backup.settings.set',
      summary: 'Change the daemons’ names, address or ports (fields left out keep their value).',
      params: settingsParams,
      result: Type.Object({ settings: SettingsSchema, applied: ApplyResultSchema }),
      role: 'admin',
      mutating: true,
      handler: (p, ctx) =>
        bctx.exclusive(async () => {
          const state = bctx.store.load();
          const settings = normalize<Settings>(SettingsSchema, { ...state.settings, ...p }, 'settings');
          const applied = await planOrApply(bctx, { ...state, settings }, ctx, 'backup.settings.set');
          if ('dryRun' in applied) return applied;
          return { settings, applied };
        }),
    }),
    defineMethod({
      name: 'backup.config.apply',
      summary:
        'Render and apply the stored desired state again (first setup, or after files were edited by hand).',
      params: Empty,
      result: ApplyResultSchema,
      role: 'admin',
      mutating: true,
      handler: (_p, ctx) =>
        bctx.exclusive(async () => planOrApply(bctx, bctx.store.load(), ctx, 'backup.config.apply')),
    }),
    ...configSetMethods<DesiredState, ApplyResult>({
      area: 'backup',
      label: 'the Bacula configuration',
      config: () => bctx.config,
      restore: (state, ctx, summary) => bctx.exclusive(() => planOrApply(bctx, state, ctx, summary)),
      restoreResult: ApplyResultSchema,
    }),
  ];
}
