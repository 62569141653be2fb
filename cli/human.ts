/**
 * What calypsoctl prints for people: tables with IEC sizes and local dates (the UI's format),
 * dry runs as shell-quoted command lines followed by unified diffs, and single objects as
 * `key: value` lines. Scripts get JSON instead (not a terminal, or --json).
 */
import { shellQuote } from './describe.js';

const SIZE_KEY =
  /(^|[a-z])(size|used|free|allocated|avail|available|bytes|refer|referenced|quota|capacity|written)$/i;
const DATE_KEY = /(^time$|At$|^created$|^creation$|^started$|^ended$|^modified$|^lastRun$)/;

/** 1536 → "1.5 KiB" (binary units, as `zfs list` and the UI show them). */
export function iec(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`;
}

/** A timestamp as the local date and time, to the second. */
export function localDate(v: number | string): string {
  const d = typeof v === 'number' ? new Date(v < 1e11 ? v * 1000 : v) : new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  const p = (x: number) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** One cell: sizes and dates by the field's name, objects as compact JSON. */
export function cell(key: string, v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number' && SIZE_KEY.test(key)) return iec(v);
  if ((typeof v === 'number' || typeof v === 'string') && DATE_KEY.test(key)) return localDate(v);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.every((x) => typeof x !== 'object') ? v.join(',') : `${v.length} items`;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function table(rows: Record<string, unknown>[], columns: string[]): string {
  const cells = rows.map((r) => columns.map((c) => cell(c, r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return `${[line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n')}\n`;
}

/** `table` on stdout. */
export function printTable(rows: Record<string, unknown>[], columns: string[]): void {
  process.stdout.write(table(rows, columns));
}

/** The columns a list shows: the scalar fields of its rows, in the order the agent gives them. */
export function columnsOf(rows: Record<string, unknown>[], max = 8): string[] {
  const cols: string[] = [];
  for (const r of rows.slice(0, 20))
    for (const [k, v] of Object.entries(r))
      if (!cols.includes(k) && (v === null || typeof v !== 'object' || Array.isArray(v))) cols.push(k);
  return cols.slice(0, max);
}

interface DryRunLike {
  dryRun: true;
  commands?: string[][];
  files?: { path: string; diff: string }[];
  notes?: string[];
}

function isDryRun(v: unknown): v is DryRunLike {
  return typeof v === 'object' && v !== null && (v as { dryRun?: unknown }).dryRun === true;
}

/** Everything else a result carries besides its commands and diffs, as `key: value` lines. */
function fields(v: Record<string, unknown>, skip: string[]): string {
  return Object.entries(v)
    .filter(([k]) => !skip.includes(k))
    .map(([k, x]) => `${k}: ${cell(k, x)}`)
    .join('\n');
}

/** A result as people read it. */
export function human(result: unknown): string {
  if (isDryRun(result)) {
    const out = ['dry run: nothing was changed; the real run does exactly this'];
    for (const c of result.commands ?? []) out.push(`$ ${c.map(shellQuote).join(' ')}`);
    for (const f of result.files ?? []) out.push(f.diff.trimEnd());
    for (const n of result.notes ?? []) out.push(`note: ${n}`);
    const rest = fields(result as unknown as Record<string, unknown>, [
      'dryRun',
      'commands',
      'files',
      'notes',
    ]);
    if (rest) out.push(rest);
    return `${out.join('\n')}\n`;
  }
  const rows = Array.isArray(result)
    ? result
    : typeof result === 'object' && result !== null && Array.isArray((result as { items?: unknown }).items)
      ? (result as { items: unknown[] }).items
      : undefined;
  if (rows) {
    if (rows.length === 0) return '(none)\n';
    if (rows.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) {
      const objs = rows as Record<string, unknown>[];
      const total = (result as { total?: number }).total;
      const more = typeof total === 'number' && total > objs.length ? `(${objs.length} of ${total})\n` : '';
      return table(objs, columnsOf(objs)) + more;
    }
    return `${rows.map((r) => cell('', r)).join('\n')}\n`;
  }
  if (typeof result === 'object' && result !== null) {
    const text = fields(result as Record<string, unknown>, []);
    return text ? `${text}\n` : 'ok\n';
  }
  return `${String(result)}\n`;
}
