/**
 * The agent's own methods, one file per namespace: system.*, auth.*, job.*, audit.*, events.*.
 */

import type { AgentDeps, Service } from '../deps.js';
import { auditMethods } from './audit.js';
import { authMethods, watchTokens } from './auth.js';
import { calendarMethods } from './calendar.js';
import { eventMethods } from './events.js';
import type { CoreExtra } from './extra.js';
import { jobMethods } from './job.js';
import { coreMetrics } from './metrics.js';
import { systemMethods } from './system.js';

export type { CoreExtra } from './extra.js';

const PRUNE_EVERY_MS = 3_600_000;

export function coreService(deps: AgentDeps, extra: CoreExtra): Service {
  let pruneTimer: NodeJS.Timeout | undefined;
  let stopWatch: (() => void) | undefined;
  deps.metrics.contribute(...coreMetrics(async () => deps.jobs.list({ limit: 1000 }).items));
  const a = deps.config.agent.audit;
  deps.audit.configure({
    retentionDays: a.retentionDays,
    maxRecords: a.maxRecords,
    maxParamsBytes: a.maxParamsBytes,
    refusalsPerWindow: a.refusalsPerMinute,
    windowMs: 60_000,
  });
  const prune = () =>
    deps.audit.prune().then(
      (r) =>
        r.pruned &&
        deps.log.info(`audit: ${r.pruned} record(s) past retention pruned; chain anchored at ${r.anchor}`),
      (err) => deps.log.error({ err }, 'audit: pruning failed'),
    );
  return {
    name: 'core',
    async start() {
      // a job cut short by the previous stop gets its final audit record (issue #15 item 11)
      for (const j of deps.jobs.takeInterrupted()) {
        deps.audit.append({
          user: j.user,
          transport: 'internal',
          method: j.method,
          outcome: 'error',
          job: j.id,
          error: { kind: 'aborted', message: 'interrupted: the agent stopped while this job was running' },
        });
      }
      await prune();
      pruneTimer = setInterval(prune, PRUNE_EVERY_MS).unref();
      stopWatch = watchTokens(deps, extra.tokens);
    },
    async stop() {
      if (pruneTimer) clearInterval(pruneTimer);
      stopWatch?.();
    },
    methods: [
      ...systemMethods(deps, extra),
      ...authMethods(deps, extra),
      ...jobMethods(deps),
      ...auditMethods(deps),
      ...eventMethods(deps),
      ...calendarMethods(deps),
    ],
  };
}
