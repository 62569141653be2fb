/**
 * Numbers as the ZFS tools print them. OpenZFS prints exact integers with `-p`; zfs-fuse has no
 * `-p` for `list`, so its sizes come as `zfs_nicenum` strings ("123M", "1.87M", "2.43K", "0"), which
 * are powers of 1024 with three significant digits. Both are accepted here; the parsers say which.
 */

const SUFFIX: Record<string, number> = { '': 0, B: 0, K: 1, M: 2, G: 3, T: 4, P: 5, E: 6, Z: 7 };
const NICE_RE = /^(\d+(?:\.\d+)?)([BKMGTPEZ]?)(?:i?B)?$/;

/** "1.87M" → 1960837, "512" → 512, "-" or "none" → undefined. */
export function parseSize(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === '' || t === '-' || t === 'none') return undefined;
  if (/^\d+$/.test(t)) return Number(t);
  const m = NICE_RE.exec(t);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * 1024 ** SUFFIX[m[2]!]!);
}

/** Error counters: "0", "399", "2.43K" (zfs-fuse abbreviates large counts too). */
export function parseCount(text: string | undefined): number {
  return parseSize(text) ?? 0;
}

/** "50%" or "50" → 50; "-" → undefined. */
export function parsePercent(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim().replace(/%$/, '');
  if (t === '' || t === '-') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** "1.00x" or "1.00" → 1. */
export function parseRatio(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim().replace(/x$/, '');
  if (t === '' || t === '-') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A date as the tools print it in the C locale: `zfs list` creation "Wed Nov 25 12:14 2026"
 * (minutes only), `zpool status` "Wed Nov 25 12:10:01 2026" or "Tue Jan  2 10:00:00 2024".
 * The driver runs the tools with TZ=UTC, so the text is UTC. Epoch seconds (with -p) pass through.
 * Returns milliseconds since the epoch, or undefined.
 */
export function parseZfsDate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const m =
    /^(?:[A-Z][a-z]{2}\s+)?([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+(\d{4})$/.exec(t);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[1]!);
  if (month < 0) return undefined;
  return Date.UTC(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5] ?? 0));
}

/** "0h0m" / "00:05:12" / "1 days 02:03:04" → seconds. */
export function parseDuration(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const t = text.trim();
  let m = /^(\d+)h(\d+)m$/.exec(t);
  if (m) return Number(m[1]) * 3600 + Number(m[2]) * 60;
  m = /^(?:(\d+) days? )?(\d+):(\d{2}):(\d{2})$/.exec(t);
  if (m) return Number(m[1] ?? 0) * 86400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
  return undefined;
}
