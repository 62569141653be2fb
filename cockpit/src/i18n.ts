/**
 * Strings through cockpit.gettext (translations come from the package's po files when they
 * exist), and the number/date formatting every page shares.
 */
import { cockpit } from './cockpit.js';

export const _ = (text: string): string => cockpit.gettext(text);
export const ngettext = (singular: string, plural: string, n: number): string =>
  cockpit.ngettext(singular, plural, n);
/** `format(_('Destroy $0'), name)` */
export const format = (template: string, ...args: unknown[]): string => cockpit.format(template, ...args);

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${UNITS[u]}`;
}

/** Dates look the same on every page (cockpit/src/format.ts). */
export { formatDate as formatTime } from './format.js';

export function formatDuration(sec: number | undefined): string {
  if (sec === undefined || !Number.isFinite(sec)) return '—';
  const s = Math.round(sec);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function formatPercent(p: number | undefined): string {
  return p === undefined || !Number.isFinite(p) ? '—' : `${Math.round(p * 10) / 10} %`;
}
