/** What the alerts subsystem contributes to `/metrics` (agent/metrics-registry.ts): the bell's counts. */
import { defineMetrics, family, type MetricsSource } from '../metrics-registry.js';

export interface AlertCounts {
  critical: number;
  warning: number;
  info: number;
  acknowledged: number;
}

export function alertsMetrics(count: () => Promise<AlertCounts>): MetricsSource<unknown>[] {
  return [
    defineMetrics({
      name: 'alerts.count',
      read: count,
      families: [
        family<AlertCounts>({
          name: 'calypso_alerts_active',
          help: 'Active (not acknowledged) alerts by level',
          labels: ['level'],
          collect(a, set) {
            for (const level of ['critical', 'warning', 'info'] as const) set({ level }, a[level]);
          },
        }),
      ],
    }),
  ];
}
