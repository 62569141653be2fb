/**
 * Desired-state methods: backup.<kind>.list/get/set/delete for client, fileset, schedule,
 * pool, storage and job; backup.settings.*; backup.config.apply/history/diff/restore.
 * Every change renders the whole configuration, and with `dryRun` returns the file diffs.
 */
import { type TObject, type TProperties, Type } from '@sinclair/typebox';
import { conflict, notFound } from '../../rpc/errors.js';
import { type AnyMethodDef, type CallContext, type DryRunPlan, defineMethod } from '../../rpc/registry.js';
import { changeOptions } from '../config-set/change.js';
import { configMethods as configSetMethods } from '../config-set/methods.js';
import { mutation, resourceMethods } from '../config-set/resource.js';
import { RELOAD } from './config-target.js';
import type { ApplyResult, BackupContext, BackupUpdater } from './context.js';
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
import { referencesTo } from './render.js';
import { builtinClient, builtinStorage } from './render-dir.js';
import { clientKey } from './secrets.js';
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

/** One change as a dry-run plan or, for real, what applying it did and the state it made. */
async function planOrApply(
  bctx: BackupContext,
  ctx: CallContext,
  summary: string,
  fn: BackupUpdater,
): Promise<{ applied: ApplyResult; next: DesiredState } | DryRunPlan> {
  const c = await bctx.change(fn, changeOptions(ctx, summary));
  if (ctx.dryRun) {
    // the same rendering, diff and steps as the apply (a reload only when the director runs)
    const plan = c.pipeline;
    const reloads = plan.commands.some((x) => x[0] === 'bconsole');
    return {
      dryRun: true,
      commands: plan.commands,
      files: plan.files,
      ...(reloads ? { console: [RELOAD] } : {}),
      notes: plan.notes,
    };
  }
  return { applied: c.applied!, next: c.next };
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
  return resourceMethods({
    prefix: `backup.${kind}`,
    listSummary: `List the Bacula ${label}s of the desired configuration.`,
    label,
    item: listItem,
    list: () => list() as never,
    key: { field: 'name', schema: BaculaName },
    mutations: {
      set: mutation({
        summary: `Create or replace a ${label}; renders, validates and applies the Bacula configuration.`,
        description:
          'The whole object is replaced (fields left out take their defaults). The configuration is validated with ' +
          'the daemons’ test mode and the director reloaded; on any failure the previous files are restored.',
        params: setParams(kind),
        result: Type.Object({ item: listItem, applied: ApplyResultSchema }),
        secretParams: kind === 'client' ? ['password'] : undefined,
        handler: async (params, ctx) => {
          const { password, ...rest } = params as Record<string, unknown> & { password?: string };
          const obj = normalize<{ name: string }>(KIND_SCHEMA[kind], rest, `${label} ${String(rest.name)}`);
          const r = await planOrApply(bctx, ctx, `backup.${kind}.set ${obj.name}`, (state) => {
            if (kind === 'client' && obj.name === builtinClient(state).name) {
              throw conflict(
                `client ${obj.name} is the appliance itself; change it with backup.settings.set`,
              );
            }
            return {
              state: withObject(state, kind, obj),
              // the given password is written with the change, and only if the change is made
              secrets:
                kind === 'client' && password
                  ? [{ key: clientKey(obj.name), value: password, comment: `director ↔ client ${obj.name}` }]
                  : [],
            };
          });
          if ('dryRun' in r) return r;
          return { item: obj, applied: r.applied } as never;
        },
      }),
      delete: mutation({
        summary: `Delete a ${label} that nothing refers to.`,
        params: NameParam,
        result: Type.Object({ applied: ApplyResultSchema }),
        handler: async (p, ctx) => {
          const r = await planOrApply(bctx, ctx, `backup.${kind}.delete ${p.name}`, (state) => {
            if (!(state[listKey(kind)] as { name: string }[]).some((o) => o.name === p.name))
              throw notFound(`${label} ${p.name} does not exist`);
            const refs = referencesTo(state, kind, p.name);
            if (refs.length)
              throw conflict(`${label} ${p.name} is used by ${refs.join(', ')}`, { usedBy: refs });
            return {
              state: withoutObject(state, kind, p.name),
              secrets: kind === 'client' ? [{ key: clientKey(p.name), value: undefined }] : [],
            };
          });
          if ('dryRun' in r) return r;
          return { applied: r.applied };
        },
      }),
    },
  });
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
      handler: async (p, ctx) => {
        const r = await planOrApply(bctx, ctx, 'backup.settings.set', (state) => ({
          state: {
            ...state,
            settings: normalize<Settings>(SettingsSchema, { ...state.settings, ...p }, 'settings'),
          },
        }));
        if ('dryRun' in r) return r;
        return { settings: r.next.settings, applied: r.applied };
      },
    }),
    defineMethod({
      name: 'backup.config.apply',
      summary:
        'Render and apply the stored desired state again (first setup, or after files were edited by hand).',
      params: Empty,
      result: ApplyResultSchema,
      role: 'admin',
      mutating: true,
      handler: async (_p, ctx) => {
        const r = await planOrApply(bctx, ctx, 'backup.config.apply', (state) => ({ state }));
        return 'dryRun' in r ? r : r.applied;
      },
    }),
    ...configSetMethods<DesiredState, ApplyResult>({
      area: 'backup',
      label: 'the Bacula configuration',
      config: () => bctx.config,
      restore: async (state, ctx, summary) => {
        const r = await planOrApply(bctx, ctx, summary, () => ({ state }));
        return 'dryRun' in r ? r : r.applied;
      },
      restoreResult: ApplyResultSchema,
    }),
  ];
}
