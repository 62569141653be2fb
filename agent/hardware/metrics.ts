/**
 * What the hardware subsystem contributes to `/metrics` (agent/metrics-registry.ts): the disks
 * of the inventory, and their SMART temperature and reallocated sectors from a background
 * sampler (smartctl is too slow to run on every scrape and wakes sleeping disks).
 */
import { defineMetrics, family, type MetricsSource } from '../metrics-registry.js';

export interface DiskReading {
  name: string;
  temperature?: number;
  reallocated?: number;
}

type Sample = { temperature?: number; reallocated?: number };

/**
 * SMART figures for the disk gauges: each disk is read in the background at most every
 * `everyMs`, one at a time, and scrapes show the last reading.
 */
export class SmartSampler {
  private last = new Map<string, Sample>();
  private at = 0;
  private busy = false;

  constructor(
    private smart: (id: string) => Promise<{ temperature?: number; raw?: unknown }>,
    private now: () => number,
    private everyMs = 15 * 60_000,
  ) {}

  get(id: string): Sample | undefined {
    return this.last.get(id);
  }

  refresh(ids: string[]): void {
    if (this.busy || this.now() - this.at < this.everyMs) return;
    this.busy = true;
    this.at = this.now();
    void (async () => {
      for (const id of ids) {
        try {
          const s = await this.smart(id);
          this.last.set(id, {
            ...(s.temperature !== undefined ? { temperature: s.temperature } : {}),
            ...reallocatedOf(s.raw),
          });
        } catch {
          this.last.delete(id);
        }
      }
    })().finally(() => {
      this.busy = false;
    });
  }
}

/** ATA attribute 5 (Reallocated_Sector_Ct) raw value, or SCSI grown defects, from smartctl's JSON. */
function reallocatedOf(raw: unknown): { reallocated?: number } {
  const j = raw as {
    ata_smart_attributes?: { table?: { id: number; raw?: { value?: number } }[] };
    scsi_grown_defect_list?: number;
  };
  const a = j?.ata_smart_attributes?.table?.find((x) => x.id === 5)?.raw?.value;
  if (typeof a === 'number') return { reallocated: a };
  if (typeof j?.scsi_grown_defect_list === 'number') return { reallocated: j.scsi_grown_defect_list };
  return {};
}

/** The disks (with their last SMART sample) as gauges. */
export function hardwareMetrics(disks: () => Promise<DiskReading[]>): MetricsSource<unknown>[] {
  return [
    defineMetrics({
      name: 'hardware.disks',
      read: disks,
      families: [
        family<DiskReading[]>({
          name: 'calypso_disks',
          help: 'Disks in the inventory',
          labels: [],
          collect(ds, set) {
            set({}, ds.length);
          },
        }),
        family<DiskReading[]>({
          name: 'calypso_disk_temperature_celsius',
          help: 'SMART temperature (sampled every 15 min)',
          labels: ['disk'],
          collect(ds, set) {
            for (const d of ds) if (d.temperature !== undefined) set({ disk: d.name }, d.temperature);
          },
        }),
        family<DiskReading[]>({
          name: 'calypso_disk_reallocated_sectors',
          help: 'Reallocated sectors / grown defects (sampled)',
          labels: ['disk'],
          collect(ds, set) {
            for (const d of ds) if (d.reallocated !== undefined) set({ disk: d.name }, d.reallocated);
          },
        }),
      ],
    }),
  ];
}
