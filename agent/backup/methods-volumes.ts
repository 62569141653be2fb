/**
 * Volumes (list, label, barcodes, slots, purge) and the status of the director, storage and
 * file daemons.
 */
import { Type } from '@sinclair/typebox';
import { invalid } from '../../rpc/errors.js';
import { listed, listResult } from '../../rpc/list.js';
import { type AnyMethodDef, defineMethod } from '../../rpc/registry.js';
import { DaemonStatusSchema, VolumeSchema } from './catalog-schemas.js';
import { labelBarcodesCall, labelCall, purgeCall, updateSlotsCall } from './console-commands.js';
import type { BackupContext } from './context.js';
import { consolePlan, Message, requireDaemons, VolumeName } from './methods-ops.js';
import { BaculaName, daemonNames } from './model.js';
import {
  daemonStatus,
  labelBarcodes,
  labelVolume,
  listVolumes,
  purgeVolume,
  updateSlots,
} from './ops-admin.js';
import { allStorages, builtinClient } from './render-dir.js';

export function volumeMethods(bctx: BackupContext): AnyMethodDef[] {
  return [
    defineMethod({
      name: 'backup.volume.list',
      summary: 'Volumes of the catalog (optionally of one pool).',
      params: Type.Object({ pool: Type.Optional(BaculaName) }, { additionalProperties: false }),
      result: listResult(VolumeSchema),
      role: 'auditor',
      mutating: false,
      handler: async (p) => listed(await listVolumes(bctx.catalog, p.pool)),
    }),
    defineMethod({
      name: 'backup.volume.label',
      summary: 'Label a new volume (disk: creates the volume file; tape: writes the label in a slot).',
      params: Type.Object(
        {
          storage: BaculaName,
          pool: BaculaName,
          volume: VolumeName,
          slot: Type.Optional(Type.Integer({ minimum: 0, description: 'changer slot (tape)' })),
          drive: Type.Optional(Type.Integer({ minimum: 0, description: 'drive index (tape)' })),
        },
        { additionalProperties: false },
      ),
      result: Message,
      role: 'operator',
      mutating: true,
      handler: async (p, ctx) => {
        if (ctx.dryRun) return consolePlan(bctx, labelCall(p));
        await requireDaemons(bctx);
        return { message: await labelVolume(bctx.bconsole(), p) };
      },
    }),
    defineMethod({
      name: 'backup.volume.labelBarcodes',
      summary: 'Label the cartridges of a tape changer with their barcodes.',
      params: Type.Object(
        {
          storage: BaculaName,
          pool: BaculaName,
          slots: Type.Optional(
            Type.String({
              pattern: '^\\d+(-\\d+)?(,\\d+(-\\d+)?)*$',
              description: 'e.g. 1-10,12',
              errorMessage: 'slots are numbers and ranges separated by commas, e.g. 1-10,12',
            }),
          ),
          drive: Type.Optional(Type.Integer({ minimum: 0, description: 'drive index of the autochanger' })),
        },
        { additionalProperties: false },
      ),
      result: Message,
      role: 'operator',
      mutating: true,
      job: { lock: (p) => `backup.changer:${p.storage}`, title: (p) => `label barcodes in ${p.storage}` },
      handler: async (p, ctx) => {
        if (ctx.dryRun) return consolePlan(bctx, labelBarcodesCall(p));
        await requireDaemons(bctx);
        return { message: await labelBarcodes(bctx.bconsole(), p) };
      },
    }),
    defineMethod({
      name: 'backup.volume.updateSlots',
      summary: "Re-read a tape changer's inventory into the catalog.",
      params: Type.Object(
        {
          storage: BaculaName,
          drive: Type.Optional(Type.Integer({ minimum: 0, description: 'drive index of the autochanger' })),
        },
        { additionalProperties: false },
      ),
      result: Message,
      role: 'operator',
      mutating: true,
      handler: async (p, ctx) => {
        if (ctx.dryRun) return consolePlan(bctx, updateSlotsCall(p));
        await requireDaemons(bctx);
        return { message: await updateSlots(bctx.bconsole(), p) };
      },
    }),
    defineMethod({
      name: 'backup.volume.purge',
      summary: 'Purge a volume: forget its jobs and files in the catalog so that it can be recycled.',
      params: Type.Object(
        { volume: VolumeName, confirm: Type.String({ description: 'must equal volume' }) },
        { additionalProperties: false },
      ),
      result: Message,
      role: 'admin',
      mutating: true,
      handler: async (p, ctx) => {
        if (p.confirm !== p.volume) throw invalid('confirm must equal the volume name');
        if (ctx.dryRun) return consolePlan(bctx, purgeCall(p.volume));
        await bctx.requireTools('bconsole');
        return { message: await purgeVolume(bctx.bconsole(), p.volume) };
      },
    }),
    defineMethod({
      name: 'backup.status',
      summary: 'Director, storage daemon and file daemons: up, version, running jobs.',
      params: Type.Object({}, { additionalProperties: false }),
      result: Type.Object({
        director: DaemonStatusSchema,
        storages: Type.Array(DaemonStatusSchema),
        clients: Type.Array(DaemonStatusSchema),
      }),
      role: 'auditor',
      mutating: false,
      handler: async () => {
        await bctx.requireTools('bacula-dir', 'bconsole');
        const state = bctx.store.load();
        const s = state.settings;
        const names = daemonNames(s);
        return (await daemonStatus(bctx.bconsole(), {
          director: { name: names.dir, host: s.address, port: s.dirPort },
          storages: allStorages(state).map((st) => ({ name: st.name, host: s.address, port: s.sdPort })),
          clients: [builtinClient(state), ...state.clients].map((c) => ({
            name: c.name,
            host: c.address,
            port: c.port,
          })),
        })) as never;
      },
    }),
  ];
}
