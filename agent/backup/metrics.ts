/** What the backup subsystem contributes to `/metrics` (agent/metrics-registry.ts): each job's last backup. */
import { defineMetrics, family, type MetricsSource } from '../metrics-registry.js';

export interface LastBackup {
  name: string;
  status: string;
  bytes: number;
}

/** `history`: the catalog's backup jobs, newest first (backup.history's code). */
export function backupMetrics(history: () => Promise<LastBackup[]>): MetricsSource<unknown>[] {
  return [
    defineMetrics({
      name: 'backup.last',
      read: async () => {
        const last = new Map<string, LastBackup>();
        for (const j of await history()) if (!last.has(j.name)) last.set(j.name, j);
        return [...last.values()];
      },
      families: [
        family<LastBackup[]>({
          name: 'calypso_backup_last_job_success',
          help: 'Last backup of each job: 1 when it ended OK',
          labels: ['job'],
          collect(bs, set) {
            for (const b of bs) set({ job: b.name }, b.status === 'success' ? 1 : 0);
          },
        }),
        family<LastBackup[]>({
          name: 'calypso_backup_last_job_bytes',
          help: 'Bytes written by the last backup of each job',
          labels: ['job'],
          collect(bs, set) {
            for (const b of bs) set({ job: b.name }, b.bytes);
          },
        }),
      ],
    }),
  ];
}
