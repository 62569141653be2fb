/**
 * SMART methods of the hardware service: `disk.smart` (smartctl's JSON, summarised) and the
 * `disk.selftest` job, which starts a self-test and follows it to the end (aborting the job
 * aborts the test). Split from hardware.ts to keep each file to one concern.
 */

import { Type } from '@sinclair/typebox';
import { parseSmartctl, type SmartSummary, smartHasData } from '../../probes/parse-smartctl.js';
import { DiskIdSchema } from '../../probes/schemas.js';
import type { Disk } from '../../probes/types.js';
import { RpcError } from '../../rpc/errors.js';
import { defineMethod } from '../../rpc/registry.js';
import type { AgentDeps } from '../deps.js';
import { sleep } from '../util/time.js';

/** What the SMART methods need from the service. */
export interface DiskFinder {
  findDisk(ref: string): Disk;
}

const DiskRef = Type.Object({ disk: DiskIdSchema }, { additionalProperties: false });

const SmartSchema = Type.Object({
  disk: Type.String({ description: 'disk id' }),
  device: Type.Optional(Type.String({ description: 'device smartctl read' })),
  model: Type.Optional(Type.String()),
  serial: Type.Optional(Type.String()),
  firmware: Type.Optional(Type.String()),
  passed: Type.Optional(Type.Boolean({ description: 'SMART overall health self-assessment' })),
  temperature: Type.Optional(Type.Number({ description: '°C' })),
  powerOnHours: Type.Optional(Type.Number()),
  selfTest: Type.Optional(
    Type.Object({
      status: Type.Optional(Type.String()),
      inProgress: Type.Boolean(),
      remainingPercent: Type.Optional(Type.Number()),
    }),
  ),
  messages: Type.Array(Type.String(), { description: "smartctl's messages" }),
  exitStatus: Type.Integer({ description: "smartctl's exit status (a bit mask, see smartctl(8))" }),
  raw: Type.Unknown({ description: "smartctl's JSON document" }),
});

/** smartctl's exit status is a bit mask, not a failure flag: every code is read, then judged. */
export const anyCode = Array.from({ length: 256 }, (_, i) => i);

async function readSmart(
  deps: AgentDeps,
  d: Disk,
  signal: AbortSignal,
  extra: string[] = ['-a'],
): Promise<SmartSummary> {
  await deps.capabilities.require('smartctl');
  const r = await deps.runner.run(['smartctl', '-j', ...extra, d.path], {
    timeoutMs: 60_000,
    signal,
    okCodes: anyCode,
  });
  const s = parseSmartctl(r.stdout);
  if (!smartHasData(r.code)) {
    throw new RpcError(
      'unavailable',
      `${d.name}: SMART not available: ${s.messages[0] ?? `exit status ${r.code}`}`,
      {
        reason: s.messages[0] ?? 'smartctl failed',
        exitStatus: r.code,
      },
    );
  }
  return s;
}

/** disk.smart: one disk's SMART data, its alerts raised or cleared (the metrics' sampler reads it too). */
export async function diskSmart(deps: AgentDeps, hw: DiskFinder, disk: string, signal: AbortSignal) {
  const d = hw.findDisk(disk);
  const r = { disk: d.id, ...(await readSmart(deps, d, signal)) };
  await smartAlerts(deps, d.id, r);
  return r;
}

export function smartMethods(deps: AgentDeps, hw: DiskFinder, pollMs: number) {
  return [
    defineMethod({
      name: 'disk.smart',
      summary: "A disk's SMART data",
      description:
        'Runs `smartctl -j -a` on the disk: health, temperature, power-on hours, self-test state, and the raw JSON.',
      params: DiskRef,
      result: SmartSchema,
      role: 'auditor',
      mutating: false,
      handler: (p, ctx) => diskSmart(deps, hw, p.disk, ctx.signal),
    }),
    defineMethod({
      name: 'disk.selftest',
      summary: 'Run a SMART self-test',
      description:
        'Starts a short or long SMART self-test and follows it to the end as a job; aborting the job aborts the test (`smartctl -X`).',
      params: Type.Object(
        {
          disk: DiskIdSchema,
          type: Type.Union([Type.Literal('short'), Type.Literal('long')], {
            description: 'self-test type',
          }),
        },
        { additionalProperties: false },
      ),
      result: SmartSchema,
      role: 'operator',
      mutating: true,
      job: { lock: (p) => `disk:${p.disk}`, title: (p) => `SMART ${p.type} self-test of ${p.disk}` },
      handler: async (p, ctx) => {
        const d = hw.findDisk(p.disk);
        if (ctx.dryRun) return { dryRun: true as const, commands: [selfTestStart(d, p.type)] };
        return runSelfTest(deps, d, p.type, ctx, pollMs);
      },
    }),
  ];
}

export type SelfTestType = 'short' | 'long';

/** The argv that starts a self-test. */
export const selfTestStart = (d: Disk, type: SelfTestType) => ['smartctl', '-j', '-t', type, d.path];

/** Start a self-test and follow it to its end (a job's body: `disk.selftest` and the schedules). */
export async function runSelfTest(
  deps: AgentDeps,
  d: Disk,
  type: SelfTestType,
  ctx: { signal: AbortSignal; progress(percent: number, description?: string): void },
  pollMs: number,
) {
  const start = selfTestStart(d, type);
  await deps.capabilities.require('smartctl');
  const started = await deps.runner.run(start, {
    timeoutMs: 60_000,
    signal: ctx.signal,
    okCodes: anyCode,
  });
  if (!smartHasData(started.code)) {
    throw new RpcError(
      'failed',
      `${d.name}: self-test not started: ${parseSmartctl(started.stdout).messages[0] ?? started.code}`,
      {
        exitStatus: started.code,
      },
    );
  }
  ctx.progress(0, `${type} self-test started`);
  try {
    for (;;) {
      await sleep(pollMs, ctx.signal);
      const s = await readSmart(deps, d, ctx.signal, ['-c']);
      if (!s.selfTest?.inProgress) return { disk: d.id, ...(await readSmart(deps, d, ctx.signal)) };
      const rem = s.selfTest.remainingPercent;
      ctx.progress(rem === undefined ? 0 : 100 - rem, s.selfTest.status ?? 'in progress');
    }
  } catch (err) {
    if (ctx.signal.aborted) {
      await deps.runner
        .run(['smartctl', '-X', d.path], { timeoutMs: 30_000, okCodes: anyCode })
        .catch(() => {});
    }
    throw err;
  }
}

/** SMART failing raises `hardware.disk.smart:<disk>`; too hot raises `hardware.disk.temperature:<disk>`. */
async function smartAlerts(
  deps: { alerts: import('../alert-engine.js').AlertEngine },
  disk: string,
  r: { passed?: boolean; temperature?: number; model?: string; serial?: string; raw?: unknown },
): Promise<void> {
  const name = [r.model, r.serial].filter(Boolean).join(' ') || disk;
  if (r.passed === false)
    await deps.alerts.raise({
      key: `hardware.disk.smart:${disk}`,
      level: 'critical',
      source: 'hardware',
      title: `disk ${name} fails its SMART health check`,
      detail:
        'The drive predicts its own failure: replace it (pool.replace) while the pool still has redundancy.',
      data: { disk },
    });
  else if (r.passed === true) await deps.alerts.clear(`hardware.disk.smart:${disk}`);
  const limit = deps.alerts.rules().thresholds.diskTemperatureC;
  if (r.temperature !== undefined && r.temperature >= limit)
    await deps.alerts.raise({
      key: `hardware.disk.temperature:${disk}`,
      level: 'warning',
      source: 'hardware',
      title: `disk ${name} is at ${r.temperature} °C`,
      detail: `Above ${limit} °C: check the fans and the airflow of the enclosure.`,
      data: { disk, temperature: r.temperature },
    });
  else if (r.temperature !== undefined) await deps.alerts.clear(`hardware.disk.temperature:${disk}`);
  const realloc = reallocated(r.raw);
  const maxRealloc = deps.alerts.rules().thresholds.reallocatedSectors;
  if (realloc !== undefined && realloc >= maxRealloc)
    await deps.alerts.raise({
      key: `hardware.disk.reallocated:${disk}`,
      level: 'warning',
      source: 'hardware',
      title: `disk ${name} has ${realloc} reallocated sectors`,
      detail:
        'The drive is remapping bad sectors (a pre-fail sign): watch the count and plan its replacement.',
      data: { disk, reallocated: realloc },
    });
  else if (realloc !== undefined) await deps.alerts.clear(`hardware.disk.reallocated:${disk}`);
}

/** ATA attribute 5 (Reallocated_Sector_Ct) raw value, or SCSI grown defects, from smartctl's JSON. */
function reallocated(raw: unknown): number | undefined {
  const j = raw as {
    ata_smart_attributes?: { table?: { id: number; raw?: { value?: number } }[] };
    scsi_grown_defect_list?: number;
  };
  const a = j?.ata_smart_attributes?.table?.find((x) => x.id === 5)?.raw?.value;
  if (typeof a === 'number') return a;
  return typeof j?.scsi_grown_defect_list === 'number' ? j.scsi_grown_defect_list : undefined;
}
