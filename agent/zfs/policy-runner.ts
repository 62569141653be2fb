/**
 * Runs snapshot policies: the store of policy records (`config` db, `zfs/policy/<id>`), one run of a
 * policy (snapshot, then prune by retention), and the scheduler that runs due policies once per
 * matching minute. A slot missed while the agent was down is not caught up: the next slot runs.
 */
import type { Database } from 'lmdb';
import type { Logger } from 'pino';
import { type AuditedCaller, commitAudited } from '../util/audited-commit.js';
import { CronTicker } from '../util/cron-ticker.js';
import * as cmd from './commands.js';
import type { ZfsContext } from './context.js';
import { formatName, type PolicyRecord, type PolicyRunResult, selectPrunable } from './policy.js';

const KEY = (id: string) => `zfs/policy/${id}`;

export class PolicyStore {
  constructor(private db: Database) {}

  list(): PolicyRecord[] {
    const out: PolicyRecord[] = [];
    for (const { value } of this.db.getRange({ start: 'zfs/policy/', end: 'zfs/policy/\uffff' })) {
      out.push(value as PolicyRecord);
    }
    return out;
  }

  get(id: string): PolicyRecord | undefined {
    return this.db.get(KEY(id)) as PolicyRecord | undefined;
  }

  /** Store a policy; with the RPC caller, its audit record in the same transaction. */
  async put(p: PolicyRecord, caller?: AuditedCaller): Promise<void> {
    await commitAudited(this.db, caller, () => {
      this.db.put(KEY(p.id), p);
    });
  }

  async delete(id: string, caller?: AuditedCaller): Promise<void> {
    await commitAudited(this.db, caller, () => {
      this.db.remove(KEY(id));
    });
  }
}

export interface PolicyPlan {
  snapshot: string;
  create: string[] | undefined;
  destroy: string[][];
  destroyNames: string[];
}

/** What one run would do at `now`: the snapshot to take (unless it exists) and what to prune. */
export async function planPolicy(z: ZfsContext, p: PolicyRecord, now: number): Promise<PolicyPlan> {
  const name = formatName(p.naming, now);
  const existing = (await z.driver.listSnapshots(p.dataset)).map((s) => s.snapshot);
  const exists = existing.includes(name);
  const after = exists ? existing : [...existing, name];
  const doomed = selectPrunable(after, p.naming, p.retention, now);
  return {
    snapshot: `${p.dataset}@${name}`,
    create: exists ? undefined : cmd.zfsSnapshot(`${p.dataset}@${name}`, p.recursive),
    destroy: doomed.map((s) => cmd.zfsDestroySnapshot(`${p.dataset}@${s}`, p.recursive)),
    destroyNames: doomed.map((s) => `${p.dataset}@${s}`),
  };
}

/** One run. Failures to destroy one snapshot (a hold, say) are reported and do not stop the others. */
export async function runPolicy(z: ZfsContext, p: PolicyRecord, now: number): Promise<PolicyRunResult> {
  const plan = await planPolicy(z, p, now);
  const result: PolicyRunResult = { destroyed: [], errors: [] };
  try {
    if (plan.create) {
      await z.driver.run(plan.create);
      result.created = plan.snapshot;
    }
    for (let i = 0; i < plan.destroy.length; i++) {
      try {
        await z.driver.run(plan.destroy[i]!);
        result.destroyed.push(plan.destroyNames[i]!);
      } catch (err) {
        result.errors.push(`${plan.destroyNames[i]}: ${(err as Error).message}`);
      }
    }
  } finally {
    z.cache.invalidate();
  }
  return result;
}

/** Runs due policies on the agent's one cron loop (agent/util/cron-ticker.ts). */
export class PolicyScheduler extends CronTicker<PolicyRecord> {
  constructor(
    private z: ZfsContext,
    private store: PolicyStore,
    private log: Logger,
  ) {
    // tick() runs every enabled policy whose schedule matches the current minute and has not run in it
    super({
      now: () => z.deps.clock.now(),
      records: () => store.list(),
      run: async (p, slot, now) => {
        await this.runAndRecord(p, now, slot);
      },
    });
  }

  async runAndRecord(p: PolicyRecord, now: number, slot?: number): Promise<PolicyRunResult> {
    let result: PolicyRunResult;
    try {
      result = await runPolicy(this.z, p, now);
    } catch (err) {
      result = { destroyed: [], errors: [(err as Error).message] };
    }
    const fresh = this.store.get(p.id);
    if (fresh) {
      await this.store.put({
        ...fresh,
        ...(slot !== undefined ? { lastSlot: slot } : {}),
        lastRun: { ...result, time: now },
      });
    }
    const msg = `snapshot policy ${p.id}: ${result.created ? `created ${result.created}` : 'no new snapshot'}, destroyed ${result.destroyed.length}`;
    if (result.errors.length)
      this.log.warn({ errors: result.errors }, `${msg}, ${result.errors.length} errors`);
    else this.log.info(msg);
    this.z.deps.events.publish('snapshot.policy.run', { id: p.id, ...result, time: now });
    return result;
  }
}
