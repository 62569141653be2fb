/**
 * The backup subsystem's own alerts about a Bacula run's end, raised through the alert port:
 * a run that failed raises `backup.job.failed:<job>`; one that completed clears it and its
 * `backup.job.missed:<job>` (it ran: its schedule is kept again). A cancelled run says
 * nothing. The missed-schedule alerts themselves are schedule-watch.ts's.
 */
import type { AlertPort } from '../alert-engine.js';

export interface JobEnd {
  jobId: number;
  name: string;
  status: string;
}

export async function jobEndAlert(alerts: AlertPort, d: JobEnd): Promise<void> {
  const key = `backup.job.failed:${d.name}`;
  if (d.status === 'success' || d.status === 'warning') {
    await alerts.clear(key);
    await alerts.clear(`backup.job.missed:${d.name}`);
  } else if (d.status !== 'aborted')
    await alerts.raise({
      key,
      level: 'critical',
      source: 'backup',
      title: `backup job ${d.name} ended ${d.status}`,
      detail: `Bacula job ${d.jobId} did not complete: read its log (backup.history.log) and run it again (backup.run).`,
      data: { jobId: d.jobId, job: d.name, status: d.status },
    });
}
