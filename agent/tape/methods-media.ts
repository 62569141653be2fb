/**
 * media.list (one inventory across libraries, joined with Bacula's catalog by volume name =
 * barcode) and tape.bacula.offer (a library to Bacula in one call).
 */

import { type Static, Type } from '@sinclair/typebox';
import { RpcError } from '../../rpc/errors.js';
import { listed, listResult } from '../../rpc/list.js';
import { type AnyMethodDef, defineMethod } from '../../rpc/registry.js';
import { BACULA, type Volume } from '../backup/port.js';
import { changeOptions } from '../config-set/change.js';
import { dataSlots, offerConsole, offerResources, withOffer } from './bacula-offer.js';
import type { TapeContext } from './context.js';
import { mediaOf } from './media.js';
import { ChangerId } from './schemas.js';

const BaculaName = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
  description: 'a Bacula resource name: a letter or digit, then letters, digits and . _ -',
});

const MediaItem = Type.Object({
  barcode: Type.String(),
  mediaType: Type.String({ description: 'from the barcode suffix (LTO-8, LTO-6 WORM, …)' }),
  cleaning: Type.Boolean(),
  worm: Type.Boolean(),
  changer: ChangerId,
  where: Type.Union([Type.Literal('slot'), Type.Literal('mailslot'), Type.Literal('drive')]),
  index: Type.Integer({ description: 'slot or drive number (mtx numbering)' }),
  seen: Type.String({ description: 'time of the status it comes from' }),
  bacula: Type.Optional(
    Type.Object({
      pool: Type.Optional(Type.String()),
      status: Type.String({ description: 'Append, Full, Used, Recycle, Purged, Error, …' }),
      bytes: Type.Integer(),
      lastWritten: Type.Optional(Type.String()),
    }),
  ),
});

async function baculaVolumes(t: TapeContext): Promise<{ byName: Map<string, Volume>; note?: string }> {
  if (!t.deps.ports.has(BACULA)) return { byName: new Map(), note: 'the backup subsystem is not loaded' };
  try {
    const volumes = await t.deps.ports.need(BACULA).volumes();
    if (!volumes) return { byName: new Map(), note: 'no Bacula catalog yet' };
    return { byName: new Map(volumes.map((v) => [v.name, v])) };
  } catch (e) {
    return { byName: new Map(), note: `Bacula catalog not read: ${(e as Error).message}` };
  }
}

export function mediaMethods(t: TapeContext): AnyMethodDef[] {
  return [
    defineMethod({
      name: 'media.list',
      summary: 'Every cartridge across libraries: barcode, media type, where it is, its Bacula volume',
      description:
        'From each changer’s last status (an inventory or a move refreshes it); `refresh` reads them now.',
      params: Type.Object(
        { refresh: Type.Optional(Type.Boolean({ description: 'read every changer’s status first' })) },
        { additionalProperties: false },
      ),
      result: listResult(MediaItem, { notes: Type.Array(Type.String()) }),
      role: 'auditor',
      mutating: false,
      handler: async (p, ctx) => {
        const notes: string[] = [];
        const items: Static<typeof MediaItem>[] = [];
        const vols = await baculaVolumes(t);
        if (vols.note) notes.push(vols.note);
        for (const c of t.changers()) {
          let st = t.lastStatus(c.id);
          if (p.refresh || !st) {
            try {
              st = await t.withChanger(c.id, 'media.list', () => t.readStatus(c.id, ctx.signal));
            } catch (e) {
              notes.push(`${c.id}: ${(e as Error).message}`);
              continue;
            }
          }
          const put = (barcode: string, where: 'slot' | 'mailslot' | 'drive', index: number) => {
            const m = mediaOf(barcode);
            const v = vols.byName.get(barcode);
            items.push({
              barcode,
              mediaType: m.type,
              cleaning: m.cleaning,
              worm: m.worm,
              changer: c.id,
              where,
              index,
              seen: st!.time,
              ...(v
                ? {
                    bacula: {
                      ...(v.pool ? { pool: v.pool } : {}),
                      status: v.status,
                      bytes: v.bytes,
                      ...(v.lastWritten ? { lastWritten: v.lastWritten } : {}),
                    },
                  }
                : {}),
            });
          };
          for (const d of st.status.drives) if (d.volumeTag) put(d.volumeTag, 'drive', d.index);
          for (const s of st.status.slots)
            if (s.volumeTag) put(s.volumeTag, s.importExport ? 'mailslot' : 'slot', s.index);
        }
        return { ...listed(items), notes };
      },
    }),
    defineMethod({
      name: 'tape.bacula.offer',
      summary:
        'Offer a library to Bacula: Autochanger and Devices, a tape pool, update slots, label barcodes',
      description:
        'Adds (or replaces) a tape storage with mtx-changer, the drives’ stable paths and their Drive Index, and a ' +
        'tape pool on it, through the Bacula configuration pipeline; then, when the director runs, `update slots` and ' +
        '`label barcodes` for the data cartridges (cleaning cartridges and mailslots left out), under the changer lock.',
      params: Type.Object(
        {
          changer: ChangerId,
          storage: BaculaName,
          pool: BaculaName,
          mediaType: Type.Optional(
            Type.String({
              pattern: '^[A-Za-z0-9._-]{1,64}$',
              description: 'default: from the barcodes (LTO-8)',
            }),
          ),
          changerCommand: Type.Optional(
            Type.String({
              pattern: '^/[^"\\u0000-\\u001f]{1,512}$',
              description: 'default: Debian’s mtx-changer with Bacula’s arguments',
            }),
          ),
          label: Type.Optional(
            Type.Boolean({ description: 'label the data cartridges by barcode (default true)' }),
          ),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({
        storage: Type.String(),
        pool: Type.String(),
        mediaType: Type.String(),
        changed: Type.Array(Type.String()),
        version: Type.Optional(Type.Integer()),
        console: Type.Array(Type.String({ description: 'bconsole output, last line of each command' })),
        notes: Type.Array(Type.String()),
      }),
      role: 'admin',
      mutating: true,
      requires: ['mtx'],
      handler: async (p, ctx) => {
        const { ref } = t.changer(p.changer);
        // through the backup subsystem's own change (passwords generated with it), read and
        // applied in the pipeline's lock: a concurrent backup.*.set cannot drop the offer
        const bacula = t.deps.ports.need(BACULA);
        const st = await t.withChanger(p.changer, 'bacula offer: status', () =>
          t.readStatus(p.changer, ctx.signal),
        );
        const { storage, pool } = offerResources(ref, p, st.status);
        const slots = dataSlots(st.status);
        const lines =
          p.label !== false
            ? offerConsole(p.storage, p.pool, slots)
            : [offerConsole(p.storage, p.pool, undefined)[0]!];
        const summary = `tape library ${p.changer} offered as ${p.storage}`;
        const c = await bacula.offer((s) => withOffer(s, storage, pool), changeOptions(ctx, summary));
        if (ctx.dryRun) {
          const plan = c.plan;
          return {
            dryRun: true as const,
            commands: plan.commands,
            files: plan.files,
            console: lines,
            notes: plan.notes,
          };
        }
        const r = c.applied!;
        const notes = [...r.notes];
        const console: string[] = [];
        const up = await bacula.probe();
        if (!up.ok) notes.push(`${up.reason}: run backup.volume.updateSlots and labelBarcodes once it runs`);
        else {
          try {
            await t.withChanger(p.changer, `bacula label barcodes (${p.storage})`, async () => {
              console.push(await bacula.updateSlots({ storage: p.storage }));
              if (p.label !== false && slots)
                console.push(await bacula.labelBarcodes({ storage: p.storage, pool: p.pool, slots }));
            });
          } catch (e) {
            if (!(e instanceof RpcError)) throw e;
            notes.push(`bconsole: ${e.message}`);
          }
        }
        return {
          storage: storage.name,
          pool: pool.name,
          mediaType: storage.mediaType ?? '',
          changed: r.changed,
          ...(r.version !== undefined ? { version: r.version } : {}),
          console,
          notes,
        };
      },
    }),
  ];
}
