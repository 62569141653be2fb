/**
 * Typed access to Cockpit's page API (`cockpit.js`, loaded by index.html from ../base1/ and not
 * bundled). Only what the plugin uses is declared. Outside Cockpit (unit pages, the benchmark's
 * bare page) a small stand-in keeps the plugin working: gettext returns its input and the
 * location lives in the URL hash.
 */

export interface CockpitChannel {
  send(data: string): void;
  close(problem?: string): void;
  addEventListener(type: 'message', fn: (ev: Event, data: string) => void): void;
  addEventListener(
    type: 'close',
    fn: (ev: Event, options: { problem?: string; message?: string }) => void,
  ): void;
  addEventListener(type: 'ready', fn: (ev: Event, options: Record<string, unknown>) => void): void;
}

export interface CockpitLocation {
  path: string[];
  options: Record<string, string | string[]>;
  go(path: string[] | string, options?: Record<string, string>): void;
  replace(path: string[] | string, options?: Record<string, string>): void;
  encode(path: string[], options?: Record<string, string>): string;
}

export interface Cockpit {
  channel(options: { payload: 'stream'; unix: string; binary?: boolean; superuser?: string }): CockpitChannel;
  gettext(text: string): string;
  ngettext(singular: string, plural: string, n: number): string;
  format(template: string, ...args: unknown[]): string;
  readonly location: CockpitLocation;
  addEventListener(type: 'locationchanged' | 'visibilitychange', fn: () => void): void;
  removeEventListener(type: 'locationchanged' | 'visibilitychange', fn: () => void): void;
  user?(): Promise<{ name: string; full_name?: string }>;
  language?: string;
}

declare global {
  interface Window {
    cockpit?: Cockpit;
  }
}

function standIn(): Cockpit {
  const listeners = new Set<() => void>();
  window.addEventListener('hashchange', () => {
    for (const l of listeners) l();
  });
  const parse = () => {
    const [p = '', q = ''] = window.location.hash.replace(/^#\/?/, '').split('?');
    const options: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(q)) options[k] = v;
    return { path: p.split('/').filter(Boolean).map(decodeURIComponent), options };
  };
  const encode = (path: string[] | string, options: Record<string, string> = {}) => {
    const p = Array.isArray(path) ? path.map(encodeURIComponent).join('/') : path.replace(/^\//, '');
    const q = new URLSearchParams(options).toString();
    return `/${p}${q ? `?${q}` : ''}`;
  };
  return {
    channel: () => {
      throw new Error('not running inside Cockpit');
    },
    gettext: (t) => t,
    ngettext: (s, p, n) => (n === 1 ? s : p),
    format: (template, ...args) => formatTemplate(template, args),
    location: {
      get path() {
        return parse().path;
      },
      get options() {
        return parse().options;
      },
      go: (path, options) => {
        window.location.hash = encode(path, options);
      },
      replace: (path, options) => {
        window.history.replaceState(null, '', `#${encode(path, options)}`);
        for (const l of listeners) l();
      },
      encode: (path, options) => encode(path, options),
    },
    addEventListener: (_t, fn) => listeners.add(fn),
    removeEventListener: (_t, fn) => listeners.delete(fn),
  };
}

/** `$0`, `$1` … positional placeholders, as cockpit.format does. */
export function formatTemplate(template: string, args: unknown[]): string {
  return template.replace(/\$([0-9]+)/g, (_m, i: string) => String(args[Number(i)] ?? ''));
}

export const cockpit: Cockpit = window.cockpit ?? standIn();
export const insideCockpit = window.cockpit !== undefined;
