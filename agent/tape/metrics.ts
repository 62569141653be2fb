/**
 * What the tape subsystem contributes to `/metrics` (agent/metrics-registry.ts): which drives hold
 * a cartridge and how many cartridges the libraries hold, from each changer's last status (read
 * once when there is none yet, as media.list does).
 */
import { defineMetrics, family, type MetricsSource } from '../metrics-registry.js';
import type { TapeContext } from './context.js';

export interface TapeReading {
  drives: { changer: string; index: number; loaded: boolean }[];
  cartridges: number;
}

/** The reading from the changers' statuses (a changer whose status cannot be read adds none). */
export async function readTape(t: TapeContext): Promise<TapeReading> {
  const loaded = new Set<string>();
  let cartridges = 0;
  for (const c of t.changers()) {
    let st = t.lastStatus(c.id);
    if (!st) {
      try {
        st = await t.withChanger(c.id, 'media.list', () => t.readStatus(c.id));
      } catch {
        continue;
      }
    }
    for (const d of st.status.drives)
      if (d.volumeTag) {
        cartridges++;
        loaded.add(`${c.id}\0${d.index}`);
      }
    for (const s of st.status.slots) if (s.volumeTag) cartridges++;
  }
  const drives = t
    .changers()
    .flatMap((c) =>
      c.drives.map((d) => ({ changer: c.id, index: d.index, loaded: loaded.has(`${c.id}\0${d.index}`) })),
    );
  return { drives, cartridges };
}

export function tapeMetrics(read: () => Promise<TapeReading>): MetricsSource<unknown>[] {
  return [
    defineMetrics({
      name: 'tape.libraries',
      read,
      families: [
        family<TapeReading>({
          name: 'calypso_tape_drive_loaded',
          help: 'A cartridge is in the drive (1) or not (0), from the changer’s last status',
          labels: ['changer', 'drive'],
          collect(r, set) {
            for (const d of r.drives) set({ changer: d.changer, drive: String(d.index) }, d.loaded ? 1 : 0);
          },
        }),
        family<TapeReading>({
          name: 'calypso_tape_cartridges',
          help: 'Cartridges in the libraries (slots, mailslots and drives)',
          labels: [],
          collect(r, set) {
            set({}, r.cartridges);
          },
        }),
      ],
    }),
  ];
}
