/** What the iSCSI subsystem contributes to `/metrics` (agent/metrics-registry.ts): sessions per target. */
import { defineMetrics, family, type MetricsSource } from '../metrics-registry.js';

export function iscsiMetrics(sessions: () => Promise<{ target: string }[]>): MetricsSource<unknown>[] {
  return [
    defineMetrics({
      name: 'iscsi.sessions',
      read: sessions,
      families: [
        family<{ target: string }[]>({
          name: 'calypso_iscsi_sessions',
          help: 'Connected initiators per target',
          labels: ['target'],
          collect(ss, set) {
            const by = new Map<string, number>();
            for (const s of ss) by.set(s.target, (by.get(s.target) ?? 0) + 1);
            for (const [target, n] of by) set({ target }, n);
          },
        }),
      ],
    }),
  ];
}
