/**
 * The maintenance calendar's contributions (infrastructure layer): each subsystem that runs
 * things on a schedule (restore drills today; scrubs, SMART self-tests and replication tasks can
 * join) contributes, from its own folder, a source that lists its scheduled items with their
 * next run and last result (`deps.calendar.contribute(...)`). `maintenance.calendar`
 * (agent/core/calendar.ts) merges them. A source that throws is reported by name, the others
 * still answer.
 */

/** How the last run of an item ended. */
export interface CalendarLastRun {
  /** ISO 8601 */
  at: string;
  result: 'success' | 'failed';
  /** one line */
  summary?: string;
}

/** One scheduled item. */
export interface CalendarEntry {
  /** the item's id within its source: a drill's name, a pool, a disk */
  id: string;
  /** what it is, in plain words: `restore drill of job nightly` */
  title: string;
  /** cron expression (UTC) or words; absent when it runs only by hand */
  schedule?: string;
  enabled: boolean;
  /** ISO 8601 */
  nextRun?: string;
  lastRun?: CalendarLastRun;
}

/** A subsystem's scheduled items. */
export interface CalendarSource {
  /** `backup.drill`: unique per agent; the kind of item */
  name: string;
  entries(now: number): Promise<CalendarEntry[]> | CalendarEntry[];
}

export class CalendarRegistry {
  private sources: CalendarSource[] = [];

  contribute(...sources: CalendarSource[]): void {
    for (const s of sources) {
      if (this.sources.some((x) => x.name === s.name))
        throw new Error(`calendar: ${s.name} contributed twice`);
      this.sources.push(s);
    }
  }

  list(): readonly CalendarSource[] {
    return this.sources;
  }
}
