/**
 * SMART self-test schedules per disk: a short and/or a long self-test on a cron schedule (UTC),
 * kept in the LMDB `config` db under `hardware/selftest-schedule/<disk id>/<type>`, run on the
 * agent's one cron loop (agent/util/cron-ticker.ts). A due schedule starts the same job as
 * `disk.selftest` (`smartctl -t short|long`, followed to its end; lock `disk:<id>`, so a test
 * already running on the disk makes the scheduled one skip); at its end the job reads the
 * drive's self-test log (`smartctl -j -l selftest`) and records the newest entry as the result.
 * On the maintenance calendar with that result and the next run.
 */
import type { Database } from 'lmdb';
import type { Disk } from '../../probes/types.js';
import type { CalendarEntry, CalendarLastRun, CalendarSource } from '../calendar-registry.js';
import type { AgentDeps } from '../deps.js';
import { startScheduledJob } from '../util/cron-schedule.js';
import { CronTicker, nextScheduledRun } from '../util/cron-ticker.js';
import { anyCode, runSelfTest, type SelfTestType } from './smart.js';

export interface SelfTestScheduleRecord {
  /** the disk's stable id */
  disk: string;
  type: SelfTestType;
  schedule: string;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
  lastSlot?: number;
  /** the job the last scheduled run started */
  lastJob?: string;
  /** how the last scheduled run ended */
  lastRun?: CalendarLastRun;
}

const PREFIX = 'hardware/selftest-schedule/';
export const scheduleKey = (disk: string, type: SelfTestType) => `${PREFIX}${disk}/${type}`;

export class SelfTestScheduleStore {
  constructor(private db: Database) {}

  list(): SelfTestScheduleRecord[] {
    const out: SelfTestScheduleRecord[] = [];
    for (const { value } of this.db.getRange({ start: PREFIX, end: `${PREFIX}\uffff` }))
      out.push(value as SelfTestScheduleRecord);
    return out;
  }

  get(disk: string, type: SelfTestType): SelfTestScheduleRecord | undefined {
    return this.db.get(scheduleKey(disk, type)) as SelfTestScheduleRecord | undefined;
  }

  /** Write the record `make` builds from what is stored, in one transaction. */
  write(make: () => SelfTestScheduleRecord): Promise<void> {
    return this.db.transaction(() => {
      const r = make();
      void this.db.put(scheduleKey(r.disk, r.type), r);
    });
  }

  /** Read-change-write in one transaction (a concurrent set is never lost). */
  update(disk: string, type: SelfTestType, fn: (r: SelfTestScheduleRecord) => SelfTestScheduleRecord) {
    return this.db.transaction(() => {
      const r = this.get(disk, type);
      if (r) void this.db.put(scheduleKey(disk, type), fn(r));
    });
  }

  delete(disk: string, type: SelfTestType): Promise<boolean> {
    return this.db.remove(scheduleKey(disk, type));
  }
}

/** The newest entry of a drive's self-test log (smartctl -j -l selftest: ATA, NVMe or SCSI). */
export interface SelfTestLogEntry {
  type?: string;
  status: string;
  passed: boolean;
  /** power-on hours when it ran */
  hours?: number;
}

type J = Record<string, unknown>;
const o = (v: unknown): J | undefined => (v && typeof v === 'object' ? (v as J) : undefined);
const s = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const n = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

export function parseSelfTestLog(json: string): SelfTestLogEntry | undefined {
  let doc: J;
  try {
    doc = JSON.parse(json) as J;
  } catch {
    return undefined;
  }
  const ata = o(o(doc['ata_smart_self_test_log'])?.['standard']);
  const first = (t: unknown) => o(Array.isArray(t) ? t[0] : undefined);
  const a = first(ata?.['table']);
  if (a) {
    const st = o(a['status']);
    return {
      type: s(o(a['type'])?.['string']),
      status: s(st?.['string']) ?? 'unknown',
      passed: st?.['passed'] === true || n(st?.['value']) === 0,
      hours: n(a['lifetime_hours']),
    };
  }
  const nv = first(o(doc['nvme_self_test_log'])?.['table']);
  if (nv) {
    const r = o(nv['self_test_result']);
    return {
      type: s(o(nv['self_test_code'])?.['string']),
      status: s(r?.['string']) ?? 'unknown',
      passed: n(r?.['value']) === 0,
      hours: n(nv['power_on_hours']),
    };
  }
  const sc = o(doc['scsi_self_test_0']);
  if (sc) {
    const r = o(sc['result']);
    return {
      type: s(o(sc['code'])?.['string']),
      status: s(r?.['string']) ?? 'unknown',
      passed: n(r?.['value']) === 0,
      hours: n(o(sc['power_on_time'])?.['hours']),
    };
  }
  return undefined;
}

/** Read the drive's self-test log. */
export async function readSelfTestLog(deps: AgentDeps, d: Disk, signal: AbortSignal) {
  const r = await deps.runner.run(['smartctl', '-j', '-l', 'selftest', d.path], {
    timeoutMs: 60_000,
    signal,
    okCodes: anyCode,
  });
  return parseSelfTestLog(r.stdout);
}

export interface SelfTestEnv {
  deps: AgentDeps;
  store: SelfTestScheduleStore;
  findDisk(ref: string): Disk;
  pollMs: number;
}

/** One scheduled self-test, as a job's body: run it, then record the newest log entry. */
export async function scheduledSelfTest(
  env: SelfTestEnv,
  r: SelfTestScheduleRecord,
  ctx: { signal: AbortSignal; progress(percent: number, description?: string): void },
) {
  const { deps, store } = env;
  const record = (lastRun: CalendarLastRun) => store.update(r.disk, r.type, (x) => ({ ...x, lastRun }));
  try {
    const d = env.findDisk(r.disk);
    const result = await runSelfTest(deps, d, r.type, ctx, env.pollMs);
    const entry = await readSelfTestLog(deps, d, ctx.signal);
    const at = new Date(deps.clock.now()).toISOString();
    if (!entry) await record({ at, result: 'failed', summary: 'the self-test log could not be read' });
    else
      await record({
        at,
        result: entry.passed ? 'success' : 'failed',
        summary: `${entry.type ?? r.type}: ${entry.status}${entry.hours !== undefined ? ` (at ${entry.hours} power-on hours)` : ''}`,
      });
    return { ...result, selfTestLog: entry };
  } catch (err) {
    await record({
      at: new Date(deps.clock.now()).toISOString(),
      result: 'failed',
      summary: (err as Error).message,
    });
    throw err;
  }
}

/** Starts due self-tests as `disk.selftest` jobs (start, stop and tick are the cron loop's). */
export class SelfTestScheduler extends CronTicker<SelfTestScheduleRecord> {
  constructor(env: SelfTestEnv) {
    const { deps, store } = env;
    const log = deps.log.child({ area: 'hardware.selftest-schedule' });
    super({
      now: () => deps.clock.now(),
      records: () => store.list(),
      run: async (r, slot, now) => {
        const title = `scheduled SMART ${r.type} self-test of ${r.disk}`;
        const spec = { method: 'disk.selftest', lock: `disk:${r.disk}`, title };
        const s = startScheduledJob(deps.jobs, spec, (jctx) => scheduledSelfTest(env, r, jctx));
        let lastJob: string | undefined;
        let lastRun: CalendarLastRun | undefined;
        if ('job' in s) {
          lastJob = s.job;
          log.info(
            { disk: r.disk, job: lastJob },
            `SMART ${r.type} self-test of ${r.disk}: scheduled run started`,
          );
        } else {
          const summary = s.busy
            ? 'a self-test was already running on the disk: this scheduled one was skipped'
            : s.error;
          lastRun = { at: new Date(now).toISOString(), result: 'failed', summary };
          log.warn({ disk: r.disk }, `SMART ${r.type} self-test of ${r.disk}: ${summary}`);
        }
        await store.update(r.disk, r.type, (x) => ({
          ...x,
          lastSlot: slot,
          ...(lastJob ? { lastJob } : {}),
          ...(lastRun ? { lastRun } : {}),
        }));
      },
    });
  }
}

/** The self-test schedules on the maintenance calendar (agent/calendar-registry.ts). */
export function selfTestCalendar(store: SelfTestScheduleStore): CalendarSource {
  return {
    name: 'hardware.selftest',
    entries: (now) =>
      store.list().map((r): CalendarEntry => {
        const next = nextScheduledRun(r, now);
        return {
          id: `${r.disk}/${r.type}`,
          title: `SMART ${r.type} self-test of disk ${r.disk}`,
          schedule: r.schedule,
          enabled: r.enabled,
          ...(next !== undefined ? { nextRun: new Date(next).toISOString() } : {}),
          ...(r.lastRun ? { lastRun: r.lastRun } : {}),
        };
      }),
  };
}
