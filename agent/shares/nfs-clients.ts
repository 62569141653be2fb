/**
 * Which NFS client entry of a share serves a host, as mountd picks it: by the kind of entry first
 * (nfs-utils' MCL_* order: a single host — an address or a name — then networks, then wildcards,
 * then netgroups, then `*`), in the file's order within a kind. A host name matches a name entry
 * (case aside) or a wildcard (fnmatch-like: `*` and `?`, a `*` crossing dots as mountd's does); an
 * address matches an address or a network. Nothing is resolved: an address never matches a name,
 * and a netgroup is unknown — the match says which netgroups were passed over. Pure.
 */
import type { NfsClient } from './model.js';

function ipv4(a: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (!m) return undefined;
  return m.slice(1).reduce((n, p) => n * 256 + Number(p), 0);
}

/** `host` is `pattern` (an address, an IPv4 network a.b.c.d/len, or *). */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*' || pattern === host) return true;
  const [net, len] = pattern.split('/');
  const a = ipv4(host);
  const b = ipv4(net ?? '');
  if (a === undefined || b === undefined || len === undefined) return false;
  const bits = Number(len);
  if (bits === 0) return true;
  const mask = bits === 32 ? 0xffffffff : ~((1 << (32 - bits)) - 1) >>> 0;
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

export type ClientKind = 'host' | 'network' | 'wildcard' | 'netgroup' | 'anyone';

const ORDER: ClientKind[] = ['host', 'network', 'wildcard', 'netgroup', 'anyone'];

export function clientKind(h: string): ClientKind {
  if (h === '*') return 'anyone';
  if (h.startsWith('@')) return 'netgroup';
  if (/[*?]/.test(h)) return 'wildcard';
  if (h.includes('/')) return 'network';
  return 'host';
}

const isAddress = (h: string) => /^[0-9.]+$/.test(h) || h.includes(':');

function globMatches(pattern: string, name: string): boolean {
  const re = pattern
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\-]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(name.toLowerCase());
}

/** Whether `host` (an address or a name) is `c` without resolving anything; netgroups never are. */
export function clientMatches(c: string, host: string): boolean {
  switch (clientKind(c)) {
    case 'anyone':
      return true;
    case 'netgroup':
      return false;
    case 'wildcard':
      return !isAddress(host) && globMatches(c, host);
    case 'network':
      return isAddress(host) && hostMatches(c, host);
    default:
      return isAddress(c) ? c === host : !isAddress(host) && c.toLowerCase() === host.toLowerCase();
  }
}

export interface ClientMatch {
  client?: NfsClient;
  /** netgroups ranked before the entry found (or when none was): whether the host is in them is unknown */
  unresolved: NfsClient[];
}

/** The entry serving `host`; `host` undefined: the `*` entry (any host). */
export function nfsClientFor(clients: NfsClient[], host: string | undefined): ClientMatch {
  if (host === undefined) return { client: clients.find((c) => c.host === '*'), unresolved: [] };
  const ranked = ORDER.flatMap((k) => clients.filter((c) => clientKind(c.host) === k));
  const client = ranked.find((c) => clientMatches(c.host, host));
  const before = client ? ranked.indexOf(client) : ranked.length;
  return { client, unresolved: ranked.slice(0, before).filter((c) => clientKind(c.host) === 'netgroup') };
}
