/** iSCSI LUN and initiator-group methods. */
import { Type } from '@sinclair/typebox';
import { conflict, invalid, notFound } from '../../rpc/errors.js';
import { type AnyMethodDef, defineMethod } from '../../rpc/registry.js';
import type { Effect } from '../config-set/index.js';
import { ZVOLS } from '../zfs/port.js';
import { ApplyResult, ZvolCreate } from './api-schemas.js';
import type { IscsiMethodsContext } from './methods-targets.js';
import { BackingSchema, GroupSchema, type IscsiState, type Lun, LunSchema, newIdentity } from './model.js';
import { IqnSchema } from './names.js';

const LunNumber = Type.Integer({ minimum: 0, maximum: 255, description: 'LUN number' });

/** The target that has this LUN in a desired state; not_found when either is missing. */
function lunOf(ic: IscsiMethodsContext, s: IscsiState, target: string, lun: number) {
  const t = ic.findTarget(s, target);
  if (!t.luns.some((l) => l.lun === lun)) throw notFound(`${target} has no LUN ${lun}`, { target, lun });
  return { s, t };
}

export function lunMethods(ic: IscsiMethodsContext): AnyMethodDef[] {
  return [
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
        if (p.create && p.backing.kind !== 'zvol')
          throw invalid('`create` makes a zvol: only for a zvol backing', {});
        // tgt keeps LUN 0 for its controller
        const first = (await ic.backendName()) === 'tgt' ? 1 : 0;
        const backing = p.backing;
        const r = await ic.change(ctx, `iscsi ${p.target}: LUN added`, async (s) => {
          const t = ic.findTarget(s, p.target);
          const used = new Set(t.luns.map((l) => l.lun));
          let lun = p.lun;
          if (lun === undefined) {
            lun = first;
            while (used.has(lun)) lun++;
          } else if (used.has(lun))
            throw invalid(`${p.target}: LUN ${lun} is already used`, { target: p.target, lun });
          const effects: Effect[] = [];
          if (backing.kind === 'zvol') {
            const zvols = ic.deps.ports.need(ZVOLS);
            if (p.create) {
              if (!ctx.dryRun) {
                await zvols.require();
                if (zvols.exists(backing.dataset))
                  throw conflict(`zvol ${backing.dataset} exists already; leave out create to use it`, {
                    dataset: backing.dataset,
                  });
              }
              // journaled by the pipeline: destroyed again when the change fails or is cut short
              effects.push(
                zvols.create(
                  {
                    name: backing.dataset,
                    sizeBytes: p.create.sizeBytes,
                    thin: p.create.thin,
                    ...(p.create.volblocksize ? { volblocksize: p.create.volblocksize } : {}),
                  },
                  ic.cfg.commandTimeoutSec * 1000,
                ),
              );
            } else if (!ctx.dryRun && !zvols.exists(backing.dataset))
              throw notFound(
                `zvol ${backing.dataset} does not exist (${zvols.device(backing.dataset)}); pass create to make it`,
                { dataset: backing.dataset },
              );
          }
          const l: Lun = {
            lun,
            backing,
            blockSize: p.blockSize ?? 512,
            readonly: p.readonly ?? false,
            cache: p.cache ?? 'write-through',
            ...newIdentity(t.iqn, lun, ic.identityNonce()),
          };
          return {
            state: ic.withTarget(s, t.iqn, (x) => ({
              ...x,
              luns: [...x.luns, l].sort((a, b) => a.lun - b.lun),
            })),
            effects,
            summary: `iscsi ${t.iqn}: LUN ${lun} added`,
          };
        });
        return r;
      },
    }),
    defineMethod({
      name: 'iscsi.lun.update',
      summary: 'Change a LUN’s read-only flag or cache mode',
      params: Type.Object(
        {
          target: IqnSchema,
          lun: LunNumber,
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
        return ic.change(ctx, `iscsi ${p.target}: LUN ${p.lun} updated`, (cur) => {
          const { s, t } = lunOf(ic, cur, p.target, p.lun);
          return {
            state: ic.withTarget(s, t.iqn, (x) => ({
              ...x,
              luns: x.luns.map((l) => (l.lun === p.lun ? { ...l, ...p.set } : l)),
            })),
          };
        });
      },
    }),
    defineMethod({
      name: 'iscsi.lun.delete',
      summary: 'Remove a LUN (its zvol or file stays); with connected sessions it needs force',
      params: Type.Object(
        {
          target: IqnSchema,
          lun: LunNumber,
          force: Type.Optional(Type.Boolean({ description: 'remove it although initiators use it' })),
        },
        { additionalProperties: false },
      ),
      result: ApplyResult,
      role: 'admin',
      mutating: true,
      handler: async (p, ctx) => {
        lunOf(ic, ic.state(), p.target, p.lun);
        const sessions = await ic.sessionsOf(p.target, p.lun);
        if (sessions.length && !p.force)
          throw conflict(
            `LUN ${p.lun} of ${p.target} is in use by ${sessions.map((x) => x.initiator).join(', ')}; repeat with force to remove it anyway`,
            { sessions: sessions.map((x) => x.initiator) },
          );
        return ic.change(ctx, `iscsi ${p.target}: LUN ${p.lun} removed`, (cur) => {
          const { s, t } = lunOf(ic, cur, p.target, p.lun);
          return {
            state: ic.withTarget(s, t.iqn, (x) => ({
              ...x,
              luns: x.luns.filter((l) => l.lun !== p.lun),
              groups: x.groups.map((g) => ({ ...g, luns: g.luns.filter((m) => m.target !== p.lun) })),
            })),
          };
        });
      },
    }),
  ] as AnyMethodDef[];
}

export function groupMethods(ic: IscsiMethodsContext): AnyMethodDef[] {
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
      handler: async (p, ctx) =>
        ic.change(ctx, `iscsi ${p.target}: group ${p.name} ${create ? 'created' : 'updated'}`, (s) => {
          const t = ic.findTarget(s, p.target);
          const exists = t.groups.some((g) => g.name === p.name);
          if (create && exists) throw conflict(`${p.target}: group ${p.name} already exists`, {});
          if (!create && !exists) throw notFound(`${p.target} has no group ${p.name}`, {});
          const g = {
            name: p.name,
            initiators: p.initiators,
            luns: p.luns ?? t.luns.map((l) => ({ lun: l.lun, target: l.lun })),
          };
          return {
            state: ic.withTarget(s, t.iqn, (x) => ({
              ...x,
              groups: create ? [...x.groups, g] : x.groups.map((y) => (y.name === p.name ? g : y)),
            })),
          };
        }),
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
      handler: async (p, ctx) =>
        ic.change(ctx, `iscsi ${p.target}: group ${p.name} removed`, (s) => {
          const t = ic.findTarget(s, p.target);
          if (!t.groups.some((g) => g.name === p.name))
            throw notFound(`${p.target} has no group ${p.name}`, {});
          return {
            state: ic.withTarget(s, t.iqn, (x) => ({
              ...x,
              groups: x.groups.filter((g) => g.name !== p.name),
            })),
          };
        }),
    }),
  ];
}
