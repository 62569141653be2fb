/** What the core contributes to `/metrics` (agent/metrics-registry.ts): jobs by state. */
import { defineMetrics, family, type MetricsSource } from '../metrics-registry.js';

export function coreMetrics(jobs: () => Promise<{ state: string }[]>): MetricsSource<unknown>[] {
  return [
    defineMetrics({
      name: 'core.jobs',
      read: jobs,
      families: [
        family<{ state: string }[]>({
          name: 'calypso_jobs',
          help: 'Jobs the agent knows, by state (last 1,000)',
          labels: ['state'],
          collect(js, set) {
            const by = new Map<string, number>();
            for (const j of js) by.set(j.state, (by.get(j.state) ?? 0) + 1);
            for (const [state, n] of by) set({ state }, n);
          },
        }),
      ],
    }),
  ];
}
