/**
 * The hardware subsystem's own alert about a disk leaving, raised through the alert port:
 * `hardware.disk.removed:<id>` when it goes, cleared when it comes back. The SMART alerts are
 * smart.ts's.
 */
import type { AlertPort } from '../alert-engine.js';

export interface RemovedDisk {
  id: string;
  model?: string;
  serial?: string;
  path?: string;
}

export async function diskPresenceAlert(
  alerts: AlertPort,
  change: 'disk.added' | 'disk.removed',
  d: RemovedDisk,
): Promise<void> {
  const key = `hardware.disk.removed:${d.id}`;
  if (change === 'disk.added') await alerts.clear(key);
  else
    await alerts.raise({
      key,
      level: 'warning',
      source: 'hardware',
      title: `disk ${[d.model, d.serial].filter(Boolean).join(' ') || d.id} was removed`,
      detail: `${d.path ?? d.id} is gone. If it was in a pool, the pool runs degraded: put it back or replace it (pool.replace).`,
      data: { disk: d.id },
    });
}
