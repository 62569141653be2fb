/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week), evaluated in UTC, with
 * `*`, lists, ranges, steps and the @hourly/@daily/@weekly/@monthly shortcuts. As in Vixie cron, when
 * both day fields are restricted a day matches if either does. Pure; used by the snapshot scheduler and the restore drills.
 */

export interface Cron {
  minute: Set<number>;
  hour: Set<number>;
  dom: Set<number>;
  month: Set<number>;
  dow: Set<number>;
  domAny: boolean;
  dowAny: boolean;
}

const SHORTCUTS: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
};

/** Pattern for the schema: five fields of digits, `*`, `,`, `-`, `/`, or a shortcut. */
export const CRON_PATTERN = '^(?:@(?:hourly|daily|midnight|weekly|monthly)|(?:[0-9*,/-]+ ){4}[0-9*,/-]+)$';

/** Throws Error with a reason when the expression is not valid. */
export function parseCron(expr: string): Cron {
  const text = SHORTCUTS[expr.trim()] ?? expr.trim();
  const parts = text.split(/\s+/);
  if (parts.length !== 5)
    throw new Error('a schedule has five fields: minute hour day-of-month month day-of-week');
  const [mi, ho, dm, mo, dw] = parts as [string, string, string, string, string];
  const dow = field(dw, 0, 7, 'day-of-week');
  if (dow.has(7)) {
    dow.delete(7);
    dow.add(0);
  }
  return {
    minute: field(mi, 0, 59, 'minute'),
    hour: field(ho, 0, 23, 'hour'),
    dom: field(dm, 1, 31, 'day-of-month'),
    month: field(mo, 1, 12, 'month'),
    dow,
    domAny: dm === '*',
    dowAny: dw === '*',
  };
}

function field(text: string, min: number, max: number, name: string): Set<number> {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
    if (!m) throw new Error(`${name}: cannot read "${item}"`);
    let lo = min;
    let hi = max;
    if (m[1] !== '*') {
      lo = Number(m[2]);
      hi = m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? max : lo;
    }
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (lo < min || hi > max || lo > hi || step < 1)
      throw new Error(`${name}: "${item}" is outside ${min}-${max}`);
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

/** Does the minute containing `ms` match? */
export function cronMatches(c: Cron, ms: number): boolean {
  const d = new Date(ms);
  if (!c.minute.has(d.getUTCMinutes()) || !c.hour.has(d.getUTCHours()) || !c.month.has(d.getUTCMonth() + 1)) {
    return false;
  }
  const domOk = c.dom.has(d.getUTCDate());
  const dowOk = c.dow.has(d.getUTCDay());
  if (c.domAny && c.dowAny) return true;
  if (c.domAny) return dowOk;
  if (c.dowAny) return domOk;
  return domOk || dowOk;
}

/** The next matching minute strictly after `ms` (searches up to a year and a day). */
export function nextRun(c: Cron, ms: number): number | undefined {
  let t = Math.floor(ms / 60_000) * 60_000 + 60_000;
  const end = t + 366 * 24 * 3600_000;
  for (; t < end; t += 60_000) if (cronMatches(c, t)) return t;
  return undefined;
}
