/**
 * Scrub and resilver methods. `pool.scrub`, `pool.replace`, `pool.attach` and `pool.online` are jobs
 * that follow the scan they start (scan-watch.ts); aborting a scrub job (`job.abort`) stops the
 * scrub. One scan job per pool at a time (lock `zfs-scan:<pool>`).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { unavailable } from '../../rpc/errors.js';
import { type CallContext, defineMethod } from '../../rpc/registry.js';
import * as cmd from './commands.js';
import type { ZfsContext } from './context.js';
import { checkDevices } from './disk-check.js';
import { DevicePath, PoolName } from './names.js';
import { Ok, VdevRef } from './params.js';
import { devicePaths } from './pool-view.js';
import { type ScanResult, watchScan } from './scan-watch.js';
import { ScanSchema } from './schemas.js';
import type { ScanFunction } from './types.js';

const ScanResultSchema = Type.Object(
  {
    pool: Type.String(),
    function: Type.String({ description: 'scrub or resilver' }),
    state: Type.String({ description: 'finished, paused, or none (no resilver was needed)' }),
    errors: Type.Optional(Type.Integer()),
    percent: Type.Number(),
    scan: ScanSchema,
  },
  { description: 'how the scan ended' },
);

/** Start a scan and follow it to its end (a job's body: `pool.scrub` and the scrub schedules). */
export async function runScan(
  z: ZfsContext,
  pool: string,
  fn: ScanFunction,
  start: string[],
  ctx: Pick<CallContext, 'signal' | 'progress'>,
  extra: { onAbort?: string[]; idlePollsAfterStart?: number } = {},
): Promise<ScanResult> {
  try {
    const settleMs = extra.idlePollsAfterStart === undefined ? undefined : await settleTime(z);
    return await watchScan({
      driver: z.driver,
      pool,
      fn,
      start,
      signal: ctx.signal,
      progress: ctx.progress,
      now: z.deps.clock.now,
      pollMs: z.options.scanPollMs,
      statusTimeoutMs: z.options.statusTimeoutMs,
      settleMs,
      ...extra,
    });
  } finally {
    z.cache.invalidate();
    await z.monitor.kick();
  }
}

/**
 * How long a resilver may take to show after the command that causes it returned: one transaction group
 * (OpenZFS's `zfs_txg_timeout`, 5 s unless tuned; zfs-fuse's is 5 s too) and a second of slack. Only a job
 * whose command caused no resilver at all waits this long; one that shows ends when it finishes.
 */
async function settleTime(z: ZfsContext): Promise<number> {
  if (z.options.scanSettleMs !== undefined) return z.options.scanSettleMs;
  let txg = 5;
  try {
    const t = Number(
      (await readFile(path.join(z.deps.sysroot, 'sys/module/zfs/parameters/zfs_txg_timeout'), 'utf8')).trim(),
    );
    if (Number.isInteger(t) && t > 0 && t <= 600) txg = t;
  } catch {
    /* zfs-fuse, or no module: the default */
  }
  return (txg + 1) * 1000;
}

/** A scrub of `pool` followed to its end; stopping it on abort. */
export function runScrub(z: ZfsContext, pool: string, ctx: Pick<CallContext, 'signal' | 'progress'>) {
  return runScan(z, pool, 'scrub', cmd.zpoolScrub(pool), ctx, { onAbort: cmd.zpoolScrub(pool, 'stop') });
}

export const scanLock = (p: { name: string }) => `zfs-scan:${p.name}`;

export function scanMethods(z: ZfsContext) {
  const scan = (
    pool: string,
    fn: ScanFunction,
    start: string[],
    ctx: CallContext,
    extra: { onAbort?: string[]; idlePollsAfterStart?: number } = {},
  ) => runScan(z, pool, fn, start, ctx, extra);

  /** Device checks for a device that is about to join a pool. */
  async function checkNewDevice(device: string, force?: boolean) {
    const inUse = new Set<string>();
    for (const s of await z.driver.status()) for (const d of devicePaths(s)) inUse.add(d);
    checkDevices([device], { sysroot: z.deps.sysroot, force, inUse });
  }

  return [
    defineMethod({
      name: 'pool.scrub',
      summary: 'Scrub a pool (job: progress from zpool status; job.abort stops the scrub)',
      description:
        'A paused scrub (OpenZFS) is resumed. The job ends when the scrub finishes, is paused or stopped.',
      params: Type.Object({ name: PoolName }, { additionalProperties: false }),
      result: ScanResultSchema,
      role: 'operator',
      mutating: true,
      job: { lock: scanLock, title: (p) => `scrub ${p.name}` },
      handler: async (p, ctx) => {
        await z.ready();
        const start = cmd.zpoolScrub(p.name);
        if (ctx.dryRun) return { dryRun: true, commands: [start] };
        await z.driver.poolStatus(p.name, { signal: ctx.signal, timeoutMs: z.options.statusTimeoutMs });
        return runScrub(z, p.name, ctx);
      },
    }),

    defineMethod({
      name: 'pool.scrub.pause',
      summary: 'Pause a running scrub (OpenZFS; resume with pool.scrub)',
      params: Type.Object({ name: PoolName }, { additionalProperties: false }),
      result: Ok,
      role: 'operator',
      mutating: true,
      handler: async (p, ctx) => {
        const d = await z.ready();
        if (!d.scrubPause)
          throw unavailable(`${d.name} cannot pause a scrub (no zpool scrub -p)`, { dialect: d.name });
        const dry = await z.apply([cmd.zpoolScrub(p.name, 'pause')], ctx.dryRun);
        return dry ?? {};
      },
    }),

    defineMethod({
      name: 'pool.scrub.stop',
      summary: 'Stop a running scrub',
      params: Type.Object({ name: PoolName }, { additionalProperties: false }),
      result: Ok,
      role: 'operator',
      mutating: true,
      handler: async (p, ctx) => {
        await z.ready();
        const dry = await z.apply([cmd.zpoolScrub(p.name, 'stop')], ctx.dryRun);
        return dry ?? {};
      },
    }),

    defineMethod({
      name: 'pool.replace',
      summary: 'Replace a device (job: follows the resilver)',
      description: 'Without `newDevice` the device is replaced by itself (a new disk in the same slot).',
      params: Type.Object(
        {
          name: PoolName,
          device: VdevRef,
          newDevice: Type.Optional(DevicePath),
          force: Type.Optional(Type.Boolean({ description: 'zpool replace -f' })),
        },
        { additionalProperties: false },
      ),
      result: ScanResultSchema,
      role: 'admin',
      mutating: true,
      job: { lock: scanLock, title: (p) => `replace ${p.device} in ${p.name}` },
      handler: async (p, ctx) => {
        await z.ready();
        if (p.newDevice) await checkNewDevice(p.newDevice, p.force);
        const start = cmd.zpoolReplace(p.name, p.device, p.newDevice, p.force);
        if (ctx.dryRun) return { dryRun: true, commands: [start] };
        return scan(p.name, 'resilver', start, ctx, { idlePollsAfterStart: 2 });
      },
    }),

    defineMethod({
      name: 'pool.attach',
      summary: 'Attach a device to a disk or mirror, making or widening a mirror (job: follows the resilver)',
      params: Type.Object(
        {
          name: PoolName,
          device: VdevRef,
          newDevice: DevicePath,
          force: Type.Optional(Type.Boolean({ description: 'zpool attach -f' })),
        },
        { additionalProperties: false },
      ),
      result: ScanResultSchema,
      role: 'admin',
      mutating: true,
      job: { lock: scanLock, title: (p) => `attach ${p.newDevice} to ${p.device} in ${p.name}` },
      handler: async (p, ctx) => {
        await z.ready();
        await checkNewDevice(p.newDevice, p.force);
        const start = cmd.zpoolAttach(p.name, p.device, p.newDevice, p.force);
        if (ctx.dryRun) return { dryRun: true, commands: [start] };
        return scan(p.name, 'resilver', start, ctx, { idlePollsAfterStart: 2 });
      },
    }),

    defineMethod({
      name: 'pool.online',
      summary: 'Bring a device online (job: follows the resilver it may start)',
      params: Type.Object(
        {
          name: PoolName,
          device: VdevRef,
          expand: Type.Optional(Type.Boolean({ description: 'grow to the device size (-e, OpenZFS)' })),
        },
        { additionalProperties: false },
      ),
      result: ScanResultSchema,
      role: 'admin',
      mutating: true,
      job: { lock: scanLock, title: (p) => `online ${p.device} in ${p.name}` },
      handler: async (p, ctx) => {
        const d = await z.ready();
        if (p.expand && d.name !== 'openzfs')
          throw unavailable(`${d.name} has no zpool online -e`, { dialect: d.name });
        const start = cmd.zpoolOnline(p.name, p.device, p.expand);
        if (ctx.dryRun) return { dryRun: true, commands: [start] };
        return scan(p.name, 'resilver', start, ctx, { idlePollsAfterStart: 2 });
      },
    }),
  ];
}
