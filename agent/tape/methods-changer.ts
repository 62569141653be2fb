/**
 * Changer methods: list, status, inventory (a job), and the moves. Every move runs under the
 * changer's lock and is checked against a status read under that lock, so a refusal
 * (`conflict`: empty source, full destination) comes before any command and two moves never
 * reach one robot at once. A dry run reads the status too (read-only) and returns the argv the
 * move would run, from the same builder.
 */
import { Type } from '@sinclair/typebox';
import { type AnyMethodDef, defineMethod } from '../../rpc/registry.js';
import type { TapeContext } from './context.js';
import { changerLockKey } from './locks.js';
import { type MoveRequest, resolveMove } from './moves.js';
import {
  Barcode,
  ChangerId,
  ChangerInfoSchema,
  ChangerStatusSchema,
  DriveIndex,
  SlotIndex,
} from './schemas.js';
import { statusView } from './view.js';

const requires = ['mtx'];

export function changerInfo(t: TapeContext) {
  return t.changers().map((c) => {
    const lock = changerLockKey(c.id);
    const holder = t.deps.locks.holder(lock);
    return {
      id: c.id,
      device: c.device,
      source: c.source,
      ...(c.vendor ? { vendor: c.vendor } : {}),
      ...(c.model ? { model: c.model } : {}),
      ...(c.serial ? { serial: c.serial } : {}),
      drives: c.drives.map((d) => ({
        id: d.id,
        index: d.index,
        device: d.device,
        ...(d.sg ? { sg: d.sg } : {}),
      })),
      lock,
      ...(holder ? { holder } : {}),
    };
  });
}

/** One move: lock, fresh status, check, then run (or plan), then the status after it. */
export async function runMove(
  t: TapeContext,
  id: string,
  req: MoveRequest,
  opts: { dryRun: boolean; user: string; signal?: AbortSignal },
) {
  const { driver } = t.changer(id);
  return t.withChanger(id, `${req.kind} by ${opts.user}`, async () => {
    const before = await t.readStatus(id, opts.signal);
    const move = resolveMove(before.status, req);
    const argv = driver.planMove(move);
    if (opts.dryRun) return { dryRun: true as const, commands: [argv] };
    await driver.move(move, opts.signal);
    const after = await t.readStatus(id, opts.signal);
    const view = statusView(id, after.status, after.time);
    // other viewers of this library (the Cockpit page in another tab) refresh on it
    t.deps.events.publish('changer.changed', view);
    return view;
  });
}

const Changer = { changer: ChangerId };

function moveMethod(
  t: TapeContext,
  name: string,
  summary: string,
  props: Parameters<typeof Type.Object>[0],
  toRequest: (p: Record<string, unknown>) => MoveRequest,
): AnyMethodDef {
  return defineMethod({
    name,
    summary,
    description:
      'Takes the changer lock; refused with `conflict` before any command when the source is empty or ' +
      'the destination full (checked against a status read under the lock). Returns the status after the move.',
    params: Type.Object({ ...Changer, ...props }, { additionalProperties: false }),
    result: ChangerStatusSchema,
    role: 'operator',
    mutating: true,
    requires,
    handler: (p, ctx) =>
      runMove(t, p.changer as string, toRequest(p as Record<string, unknown>), {
        dryRun: ctx.dryRun,
        user: ctx.identity.user,
        signal: ctx.signal,
      }),
  });
}

export function changerMethods(t: TapeContext): AnyMethodDef[] {
  return [
    defineMethod({
      name: 'changer.list',
      summary: 'Tape changers in use, with their drives in mtx order and the lock their moves take',
      params: Type.Object({}, { additionalProperties: false }),
      result: Type.Array(ChangerInfoSchema),
      role: 'auditor',
      mutating: false,
      handler: async () => changerInfo(t),
    }),
    defineMethod({
      name: 'changer.status',
      summary: 'Drives, slots and mailslots of a changer with barcodes and media types (mtx status)',
      params: Type.Object(Changer, { additionalProperties: false }),
      result: ChangerStatusSchema,
      role: 'auditor',
      mutating: false,
      requires,
      handler: async (p, ctx) => {
        // a status waits for a move in progress rather than reading the robot mid-move
        const c = await t.withChanger(p.changer, 'status', () => t.readStatus(p.changer, ctx.signal));
        return statusView(p.changer, c.status, c.time);
      },
    }),
    defineMethod({
      name: 'changer.inventory',
      summary: 'Rescan a changer’s barcodes (INITIALIZE ELEMENT STATUS) and read its status: a job',
      params: Type.Object(Changer, { additionalProperties: false }),
      result: ChangerStatusSchema,
      role: 'operator',
      mutating: true,
      requires,
      job: { title: (p) => `inventory of ${p.changer}` },
      handler: async (p, ctx) => {
        const { driver } = t.changer(p.changer);
        if (ctx.dryRun) return { dryRun: true as const, commands: [driver.planInventory()] };
        return t.withChanger(p.changer, `inventory (job ${ctx.jobId ?? '-'})`, async () => {
          ctx.progress(5, 'scanning barcodes');
          await driver.inventory(ctx.signal);
          ctx.progress(70, 'reading element status');
          const c = await t.readStatus(p.changer, ctx.signal);
          ctx.progress(100, `${c.status.slots.filter((s) => s.full).length} cartridges`);
          const view = statusView(p.changer, c.status, c.time);
          t.deps.events.publish('changer.changed', view);
          return view;
        });
      },
    }),
    moveMethod(
      t,
      'changer.load',
      'Load a cartridge from a slot (or by barcode) into a drive',
      { drive: DriveIndex, slot: Type.Optional(SlotIndex), barcode: Type.Optional(Barcode) },
      (p) => ({
        kind: 'load',
        drive: p.drive as number,
        slot: p.slot as number | undefined,
        barcode: p.barcode as string | undefined,
      }),
    ),
    moveMethod(
      t,
      'changer.unload',
      'Unload a drive into a slot (default: the slot it was loaded from)',
      { drive: DriveIndex, slot: Type.Optional(SlotIndex) },
      (p) => ({ kind: 'unload', drive: p.drive as number, slot: p.slot as number | undefined }),
    ),
    moveMethod(
      t,
      'changer.transfer',
      'Move a cartridge from one slot to another',
      { from: SlotIndex, to: SlotIndex },
      (p) => ({ kind: 'transfer', from: p.from as number, to: p.to as number }),
    ),
    moveMethod(
      t,
      'changer.import',
      'Take a cartridge from a mailslot into a storage slot (default: the first empty one)',
      { from: SlotIndex, to: Type.Optional(SlotIndex) },
      (p) => ({ kind: 'import', from: p.from as number, to: p.to as number | undefined }),
    ),
    moveMethod(
      t,
      'changer.export',
      'Put a cartridge (by slot or barcode) into a mailslot (default: the first empty one)',
      { from: Type.Optional(SlotIndex), barcode: Type.Optional(Barcode), to: Type.Optional(SlotIndex) },
      (p) => ({
        kind: 'export',
        from: p.from as number | undefined,
        barcode: p.barcode as string | undefined,
        to: p.to as number | undefined,
      }),
    ),
  ];
}
