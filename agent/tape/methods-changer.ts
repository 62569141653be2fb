/**
 * Changer methods: list, status, inventory (a job), and the moves. Every move runs under the
 * changer's lock and is checked against a status read under that lock, so a refusal
 * (`conflict`: empty source, full destination) comes before any command and two moves never
 * reach one robot at once. A dry run reads the status too (read-only) and returns the argv the
 * move would run, from the same builder.
 */
import { Type } from '@sinclair/typebox';
import { listed, listResult } from '../../rpc/list.js';
import { type AnyMethodDef, type CallContext, defineMethod } from '../../rpc/registry.js';
import type { Move } from './commands.js';
import type { TapeContext } from './context.js';
import { changerLockKey } from './locks.js';
import { type MoveRequest, resolveMove, resolveUnload, type Unload } from './moves.js';
import {
  Barcode,
  ChangerId,
  ChangerInfoSchema,
  ChangerStatusSchema,
  DriveIndex,
  MoveResultSchema,
  SlotIndex,
} from './schemas.js';
import type { ChangerStatus } from './types.js';
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

/**
 * Where the agent loaded each cartridge from (LMDB settings): its home, for the unload. A record
 * holds the drive too, and counts only while that cartridge is in that drive: a cartridge moved
 * by another tool (Bacula's mtx-changer) is found elsewhere and its record is not used.
 */
const homeKey = (changer: string, tag: string) => `tape.home:${changer}:${tag}`;

function recordedHome(t: TapeContext, changer: string, s: ChangerStatus, drive: number): number | undefined {
  const tag = s.drives.find((d) => d.index === drive)?.volumeTag;
  if (!tag) return undefined;
  const v = t.deps.store.db('settings').get(homeKey(changer, tag)) as
    | { drive?: number; slot?: number }
    | undefined;
  return v?.drive === drive && typeof v.slot === 'number' ? v.slot : undefined;
}

async function recordHome(
  t: TapeContext,
  changer: string,
  move: Move,
  tag: string | undefined,
): Promise<void> {
  if (!tag) return;
  const db = t.deps.store.db('settings');
  if (move.kind === 'load') await db.put(homeKey(changer, tag), { drive: move.drive, slot: move.slot });
  else if (move.kind === 'unload') await db.remove(homeKey(changer, tag));
}

/** What a move did, for its answer (a pure reading of the status before it). */
function movedOf(s: ChangerStatus, move: Move, unload?: Unload) {
  if (move.kind === 'unload')
    return {
      ...(unload?.volumeTag ? { volumeTag: unload.volumeTag } : {}),
      from: { drive: move.drive },
      to: { slot: move.slot },
      ...(unload?.home !== undefined ? { home: unload.home } : {}),
      ...(unload?.elsewhere ? { elsewhere: unload.elsewhere } : {}),
    };
  const src = s.slots.find((x) => x.index === (move.kind === 'load' ? move.slot : move.from));
  return {
    ...(src?.volumeTag ? { volumeTag: src.volumeTag } : {}),
    from: { slot: move.kind === 'load' ? move.slot : move.from },
    to: move.kind === 'load' ? { drive: move.drive } : { slot: move.to },
  };
}

/**
 * One move: lock, fresh status, check, then run (or plan), then the status after it. An unload
 * that cannot go home (its slot filled meanwhile) goes to the first empty slot and says so: in
 * the answer (`moved.elsewhere`), the dry run's notes, the agent log and the audit record.
 */
export async function runMove(
  t: TapeContext,
  id: string,
  req: MoveRequest,
  opts: {
    dryRun: boolean;
    user: string;
    signal?: AbortSignal;
    ctx?: Pick<CallContext, 'log' | 'auditDetail'>;
  },
) {
  const { driver } = t.changer(id);
  return t.withChanger(id, `${req.kind} by ${opts.user}`, async () => {
    const before = await t.readStatus(id, opts.signal);
    const unload =
      req.kind === 'unload'
        ? resolveUnload(before.status, req.drive, req.slot, recordedHome(t, id, before.status, req.drive))
        : undefined;
    const move = unload?.move ?? resolveMove(before.status, req);
    const argv = driver.planMove(move);
    const moved = movedOf(before.status, move, unload);
    if (opts.dryRun)
      return {
        dryRun: true as const,
        commands: [argv],
        ...(unload?.elsewhere ? { notes: [unload.elsewhere] } : {}),
      };
    if (unload?.elsewhere) opts.ctx?.log.warn({ changer: id, moved }, unload.elsewhere);
    opts.ctx?.auditDetail?.({ changer: id, moved });
    await driver.move(move, opts.signal);
    await recordHome(t, id, move, moved.volumeTag);
    const after = await t.readStatus(id, opts.signal);
    const view = statusView(id, after.status, after.time);
    // other viewers of this library (the Cockpit page in another tab) refresh on it
    t.deps.events.publish('changer.changed', view);
    return { ...view, moved };
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
    result: MoveResultSchema,
    role: 'operator',
    mutating: true,
    requires,
    handler: (p, ctx) =>
      runMove(t, p.changer as string, toRequest(p as Record<string, unknown>), {
        dryRun: ctx.dryRun,
        user: ctx.identity.user,
        signal: ctx.signal,
        ctx,
      }),
  });
}

export function changerMethods(t: TapeContext): AnyMethodDef[] {
  return [
    defineMethod({
      name: 'changer.list',
      summary: 'Tape changers in use, with their drives in mtx order and the lock their moves take',
      params: Type.Object({}, { additionalProperties: false }),
      result: listResult(ChangerInfoSchema),
      role: 'auditor',
      mutating: false,
      handler: async () => listed(await changerInfo(t)),
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
      'Unload a drive into a slot (default: the slot it was loaded from; if that has been filled, the first empty slot, said in moved.elsewhere)',
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
