/**
 * One date format on every page: `2026-12-03 08:05:09`, local time, 24-hour, zero-padded.
 * Sortable, the same in every browser locale, and the way Bacula already prints its times, so a
 * job's start from the catalog and an audit record read alike. The agent hands dates over in
 * three shapes: epoch milliseconds (jobs, audit, ZFS), ISO 8601 strings, and Bacula's
 * `YYYY-MM-DD HH:MM:SS` (the director's local time); all three come out the same.
 */

const pad = (n: number) => String(n).padStart(2, '0');

function toDate(v: number | string | Date): Date | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v;
  if (typeof v === 'number') return Number.isFinite(v) ? new Date(v) : undefined;
  const s = v.trim();
  // Bacula: local time without a zone; read it as local, as the director wrote it
  const b = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(s);
  if (b) {
    const [, y, mo, d, h, mi, se] = b.map(Number) as number[];
    return new Date(y!, mo! - 1, d!, h!, mi!, se ?? 0);
  }
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** A date and time for people; `—` when there is none; an unreadable string is shown as it came. */
export function formatDate(v: number | string | Date | undefined | null): string {
  if (v === undefined || v === null || v === '') return '—';
  const d = toDate(v);
  if (!d) return String(v);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
