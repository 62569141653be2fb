/**
 * Virtual tape libraries (mhvtl): desired libraries in the managed-config pipeline, rendered
 * into mhvtl's files, cartridges made with mktape, applied by restarting mhvtl.target. A dry
 * run works anywhere (it is the plan the wizard shows); a real change needs the mhvtl kernel
 * module and daemons, else `unavailable` with the reason.
 */
import { type Static, Type } from '@sinclair/typebox';
import { conflict, invalid, notFound } from '../../rpc/errors.js';
import { type AnyMethodDef, defineMethod } from '../../rpc/registry.js';
import { answerOf, changeState, reapplyState } from '../config-set/change.js';
import { configMethods } from '../config-set/methods.js';
import { mutation, resourceMethods } from '../config-set/resource.js';
import type { Service, ServiceFactory, Subsystem } from '../deps.js';
import {
  barcodesOf,
  checkVtl,
  PERSONALITIES,
  type VtlLibrary,
  VtlLibrarySchema,
  type VtlState,
} from './model.js';
import { vtlTarget } from './target.js';

const ApplyResult = Type.Object({
  changed: Type.Array(Type.String(), { description: 'files written' }),
  version: Type.Optional(Type.Integer()),
  commands: Type.Array(Type.Array(Type.String()), { description: 'argv run (mktape, systemctl)' }),
  notes: Type.Array(Type.String()),
});

const LibraryView = Type.Intersect([
  VtlLibrarySchema,
  Type.Object({
    cartridges: Type.Integer(),
    barcodes: Type.Object({ first: Type.String(), last: Type.String() }),
  }),
]);

export function createVtlService(): ServiceFactory {
  return (deps): Service => {
    const paths = { configDir: deps.layout.generated('mhvtl'), home: deps.layout.data.vtl };
    deps.capabilities.declare({
      name: 'mhvtl',
      bins: ['vtlcmd', 'vtllibrary', 'vtltape', 'mktape'],
      paths: ['sys/module/mhvtl'],
    });
    const present = () => deps.capabilities.get('mhvtl')?.available === true;
    const managed = deps.configSet.register(vtlTarget(paths, deps.runner, present));

    /** One change: `fn` makes the next state of the committed one inside the pipeline's lock. */
    async function change(
      ctx: { dryRun: boolean; identity: { user: string } },
      summary: string,
      fn: (current: VtlState) => VtlState,
    ) {
      const r = await changeState(managed, ctx, summary, (cur) => ({ state: fn(cur) }), {
        check: checkVtl,
        // the module and daemons must exist before files that only they read are changed
        require: () => deps.capabilities.require('mhvtl').then(() => {}),
      });
      return answerOf(ctx, r);
    }

    const find = (s: VtlState, id: number): VtlLibrary => {
      const l = s.libraries.find((x) => x.id === id);
      if (!l) throw notFound(`virtual library ${id} does not exist`, { library: id });
      return l;
    };

    const view = (l: VtlLibrary) => {
      const b = barcodesOf(l);
      return {
        ...l,
        cartridges: b.length,
        barcodes: { first: b[0]?.barcode ?? '', last: b.at(-1)?.barcode ?? '' },
      };
    };

    const methods: AnyMethodDef[] = [
      defineMethod({
        name: 'vtl.status',
        summary: 'Whether mhvtl can run here (kernel module, daemons) and where its files go',
        params: Type.Object({}, { additionalProperties: false }),
        result: Type.Object({
          available: Type.Boolean(),
          reason: Type.Optional(Type.String()),
          configDir: Type.String(),
          home: Type.String(),
          libraries: Type.Integer(),
          personalities: Type.Array(VtlLibrarySchema.properties.personality),
          driveGenerations: Type.Array(Type.Integer()),
        }),
        role: 'auditor',
        mutating: false,
        handler: async () => {
          const c = (await deps.capabilities.all()).find((x) => x.name === 'mhvtl');
          return {
            available: c?.available === true,
            ...(c?.reason ? { reason: c.reason } : {}),
            ...paths,
            libraries: managed.state().libraries.length,
            personalities: Object.keys(PERSONALITIES),
            driveGenerations: [5, 6, 7, 8, 9],
          };
        },
      }),
      ...resourceMethods({
        prefix: 'vtl.library',
        listSummary: 'Virtual libraries as desired, with their cartridge count and barcode range',
        label: 'virtual library',
        item: LibraryView,
        list: () => managed.state().libraries.map(view),
        mutations: {
          create: mutation({
            summary:
              'Create a virtual library: files, cartridges (mktape) and a restart of mhvtl; dryRun shows the plan',
            params: VtlLibrarySchema,
            result: ApplyResult,
            handler: async (p, ctx) =>
              change(ctx, `vtl library ${p.name} created`, (cur) => {
                if (cur.libraries.some((l) => l.id === p.id))
                  throw conflict(`virtual library ${p.id} already exists`, { library: p.id });
                return { libraries: [...cur.libraries, p] };
              }),
          }),
          update: mutation({
            summary: 'Change a virtual library (drives, slots, mailslots, cartridges, capacity, compression)',
            params: Type.Object(
              {
                id: VtlLibrarySchema.properties.id,
                set: Type.Partial(Type.Omit(VtlLibrarySchema, ['id']), {
                  additionalProperties: false,
                  description: 'the fields to change',
                }),
              },
              { additionalProperties: false },
            ),
            result: ApplyResult,
            handler: async (p, ctx) =>
              change(ctx, `vtl library ${p.set.name ?? find(managed.state(), p.id).name} updated`, (cur) => {
                const next = { ...find(cur, p.id), ...(p.set as Partial<VtlLibrary>) };
                return { libraries: cur.libraries.map((l) => (l.id === p.id ? next : l)) };
              }),
          }),
          delete: mutation({
            summary: 'Remove a virtual library from mhvtl (its cartridge files stay under the vtl data area)',
            params: Type.Object(
              {
                id: VtlLibrarySchema.properties.id,
                confirm: Type.String({ maxLength: 32, description: 'must repeat the library name' }),
              },
              { additionalProperties: false },
            ),
            result: ApplyResult,
            handler: async (p, ctx) =>
              change(ctx, `vtl library ${p.confirm} deleted`, (cur) => {
                const old = find(cur, p.id);
                if (p.confirm !== old.name)
                  throw invalid(`refused: confirm must repeat the library name ${old.name}`, {});
                return { libraries: cur.libraries.filter((l) => l.id !== p.id) };
              }),
          }),
        },
      }),
      defineMethod({
        name: 'vtl.apply',
        summary: 'Render mhvtl’s files again, make missing cartridges and restart mhvtl',
        params: Type.Object({}, { additionalProperties: false }),
        result: ApplyResult,
        role: 'admin',
        mutating: true,
        handler: async (_p, ctx) =>
          answerOf(
            ctx,
            await reapplyState(managed, ctx, 'vtl.apply', () => deps.capabilities.require('mhvtl')),
          ),
      }),
      ...configMethods<VtlState, Static<typeof ApplyResult>>({
        area: 'vtl',
        label: 'the mhvtl configuration',
        config: () => managed,
        restore: (state, ctx, summary) => change(ctx, summary, () => state) as never,
        restoreResult: ApplyResult,
      }),
    ];
    return { name: 'vtl', methods };
  };
}

export const vtlService: ServiceFactory = createVtlService();

export const vtlSubsystem: Subsystem = { name: 'vtl', service: vtlService, alertSources: ['vtl'] };
