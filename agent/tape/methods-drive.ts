/**
 * Drive methods: list, status (mt + tapeinfo, TapeAlert flags raised as alerts and cleared when
 * they go), rewind, eject, and cleaning with a CLN cartridge found by barcode (a job: load,
 * wait while the drive cleans, put the cartridge back where it came from).
 */
import { Type } from '@sinclair/typebox';
import { conflict } from '../../rpc/errors.js';
import { listed, listResult } from '../../rpc/list.js';
import { type AnyMethodDef, defineMethod } from '../../rpc/registry.js';
import { sleep } from '../util/time.js';
import type { TapeContext } from './context.js';
import type { DriveState } from './drive.js';
import { isCleaning } from './media.js';
import { resolveMove } from './moves.js';
import { DriveId, Ok } from './schemas.js';
import { alertKey, describeAlert, TAPE_ALERTS } from './tapealert.js';

const DriveParams = Type.Object({ drive: DriveId }, { additionalProperties: false });

const AlertSchema = Type.Object({
  flag: Type.Integer({ description: 'TapeAlert flag number (1–64)' }),
  name: Type.String(),
  severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]),
});

const DriveStatusSchema = Type.Object({
  id: DriveId,
  changer: Type.String(),
  index: Type.Integer({ description: 'mtx drive number' }),
  device: Type.String(),
  loaded: Type.Boolean({ description: 'a cartridge is in the drive' }),
  volumeTag: Type.Optional(Type.String({ description: 'its barcode, from the changer’s last status' })),
  online: Type.Boolean(),
  writeProtected: Type.Boolean(),
  atBeginning: Type.Boolean(),
  file: Type.Optional(Type.Integer()),
  block: Type.Optional(Type.Integer()),
  blockSize: Type.Optional(Type.Integer({ description: 'bytes; 0 = variable' })),
  densityCode: Type.Optional(Type.Integer()),
  density: Type.Optional(Type.String()),
  vendor: Type.Optional(Type.String()),
  product: Type.Optional(Type.String()),
  serial: Type.Optional(Type.String()),
  alerts: Type.Array(AlertSchema),
  notes: Type.Array(Type.String()),
});

async function syncAlerts(t: TapeContext, driveId: string, s: DriveState) {
  const set = new Set((s.info?.tapeAlerts ?? []).map((a) => a.flag));
  if (!s.info) return [];
  // clear flags no longer set (only those this subsystem could have raised)
  for (const flag of TAPE_ALERTS.keys())
    if (!set.has(flag)) await t.deps.alerts.clear(alertKey(driveId, flag));
  const out = [];
  for (const a of s.info.tapeAlerts) {
    const d = describeAlert(a.flag, a.text);
    out.push({ flag: d.flag, name: d.name, severity: d.severity });
    if (d.severity === 'info') continue;
    await t.deps.alerts.raise({
      key: alertKey(driveId, d.flag),
      level: d.severity,
      source: 'tape',
      title: `tape drive ${driveId}: ${d.name}`,
      detail:
        d.action === 'clean'
          ? 'The drive asks for cleaning: run drive.clean (a CLN cartridge must be in the library).'
          : d.action === 'replace-media'
            ? 'The cartridge in the drive is failing: copy what it holds and retire it.'
            : d.action === 'service-drive'
              ? 'The drive needs service.'
              : a.text,
      data: { drive: driveId, flag: d.flag },
    });
  }
  return out;
}

export async function driveStatus(t: TapeContext, id: string, signal?: AbortSignal) {
  const { ref, changer, driver } = t.drive(id);
  const s = await driver.status(signal);
  const alerts = await syncAlerts(t, id, s);
  const tag = t.lastStatus(changer.id)?.status.drives.find((d) => d.index === ref.index)?.volumeTag;
  const m = s.mt;
  const notes: string[] = [];
  if (s.infoError) notes.push(`tapeinfo: ${s.infoError}`);
  if (!ref.sg) notes.push('no generic SCSI node: TapeAlert flags not read');
  return {
    id,
    changer: changer.id,
    index: ref.index,
    device: ref.device,
    loaded: !m.empty,
    ...(tag && !m.empty ? { volumeTag: tag } : {}),
    online: m.online,
    writeProtected: m.writeProtected,
    atBeginning: m.bot,
    ...(m.fileNumber !== undefined && m.fileNumber >= 0 ? { file: m.fileNumber } : {}),
    ...(m.blockNumber !== undefined && m.blockNumber >= 0 ? { block: m.blockNumber } : {}),
    ...(m.blockSize !== undefined ? { blockSize: m.blockSize } : {}),
    ...(m.densityCode !== undefined ? { densityCode: m.densityCode } : {}),
    ...(m.densityName ? { density: m.densityName } : {}),
    ...(s.info?.vendor ? { vendor: s.info.vendor } : {}),
    ...(s.info?.product ? { product: s.info.product } : {}),
    ...(s.info?.serial ? { serial: s.info.serial } : {}),
    alerts,
    notes,
  };
}

/**
 * drive.rewind and drive.eject: one mt command on the drive, under the drive's lock; the dry run
 * answers the same argv (the driver's plan) without taking the lock.
 */
function motion(t: TapeContext, verb: 'rewind' | 'eject', summary: string): AnyMethodDef {
  const plan = verb === 'rewind' ? 'planRewind' : 'planEject';
  return defineMethod({
    name: `drive.${verb}`,
    summary,
    params: DriveParams,
    result: Ok,
    role: 'operator',
    mutating: true,
    requires: ['mt'],
    handler: async (p, ctx) => {
      const { driver } = t.drive(p.drive);
      if (ctx.dryRun) return { dryRun: true as const, commands: [driver[plan]()] };
      await t.withDrive(p.drive, `${verb} by ${ctx.identity.user}`, () => driver[verb](ctx.signal));
      return {};
    },
  });
}

export function driveMethods(t: TapeContext): AnyMethodDef[] {
  return [
    defineMethod({
      name: 'drive.list',
      summary: 'Tape drives of every changer in use, with their mtx numbers and device nodes',
      params: Type.Object({}, { additionalProperties: false }),
      result: listResult(
        Type.Object({ id: DriveId, changer: Type.String(), index: Type.Integer(), device: Type.String() }),
      ),
      role: 'auditor',
      mutating: false,
      handler: async () =>
        listed(
          await t
            .changers()
            .flatMap((c) =>
              c.drives.map((d) => ({ id: d.id, changer: c.id, index: d.index, device: d.device })),
            ),
        ),
    }),
    defineMethod({
      name: 'drive.status',
      summary: 'Loaded cartridge, position, block size, density, write protection and TapeAlert flags',
      params: DriveParams,
      result: DriveStatusSchema,
      role: 'auditor',
      mutating: false,
      requires: ['mt'],
      handler: (p, ctx) => driveStatus(t, p.drive, ctx.signal),
    }),
    motion(t, 'rewind', 'Rewind the cartridge in a drive'),
    motion(t, 'eject', 'Rewind and unthread the cartridge (mt offline) so the robot can take it'),
    defineMethod({
      name: 'drive.clean',
      summary: 'Clean a drive with a cleaning cartridge found by its barcode (CLN…), then put it back: a job',
      params: DriveParams,
      result: Type.Object({ cartridge: Type.String(), slot: Type.Integer() }),
      role: 'operator',
      mutating: true,
      requires: ['mtx'],
      job: { title: (p) => `cleaning ${p.drive}` },
      handler: async (p, ctx) => {
        const { ref, changer } = t.drive(p.drive);
        const { driver } = t.changer(changer.id);
        const pick = async () => {
          const { status } = await t.readStatus(changer.id, ctx.signal);
          const cln = status.slots.find((s) => s.full && !s.importExport && isCleaning(s.volumeTag));
          if (!cln) throw conflict(`no cleaning cartridge in ${changer.id}`, { changer: changer.id });
          const load = resolveMove(status, { kind: 'load', drive: ref.index, slot: cln.index });
          return { cln, load };
        };
        if (ctx.dryRun) {
          const { cln, load } = await pick();
          return {
            dryRun: true as const,
            commands: [
              driver.planMove(load),
              driver.planMove({ kind: 'unload', drive: ref.index, slot: cln.index }),
            ],
            notes: [`${cln.volumeTag} stays in the drive ${t.cfg.cleaningSeconds} s`],
          };
        }
        return t.withDrive(p.drive, `cleaning (job ${ctx.jobId ?? '-'})`, async () => {
          ctx.progress(5, 'finding a cleaning cartridge');
          const { cln, load } = await t.withChanger(changer.id, 'cleaning: load', async () => {
            const x = await pick();
            await driver.move(x.load, ctx.signal);
            return x;
          });
          ctx.progress(20, `cleaning with ${cln.volumeTag}`);
          await sleep(t.cfg.cleaningSeconds * 1000, ctx.signal);
          ctx.progress(80, 'putting the cleaning cartridge back');
          await t.withChanger(changer.id, 'cleaning: unload', async () => {
            const { status } = await t.readStatus(changer.id, ctx.signal);
            await driver.move(
              resolveMove(status, { kind: 'unload', drive: ref.index, slot: cln.index }),
              ctx.signal,
            );
            await t.readStatus(changer.id, ctx.signal);
          });
          for (const f of [20, 21]) await t.deps.alerts.clear(alertKey(p.drive, f));
          return { cartridge: cln.volumeTag ?? '', slot: load.kind === 'load' ? load.slot : cln.index };
        });
      },
    }),
  ];
}
