/**
 * What an iSCSI backend (SCST, LIO, tgt) gives the subsystem: whether it can run here, its files as
 * a managed-config target, the running state read back in one shape, and the commands that
 * bring the running state to the desired one. Drift is computed here, once, over that shape.
 */
import type { ConfigTarget } from '../config-set/index.js';
import type { IscsiState, Lun, Target } from './model.js';

export interface LiveLun {
  lun: number;
  /** backing device or file as the target reports it (null: none) */
  path: string | null;
  blockSize?: number;
  readonly?: boolean;
  serial?: string;
  naa?: string;
  sizeBytes?: number;
}

export interface LiveGroup {
  name: string;
  initiators: string[];
  luns: { lun: number; target: number }[];
}

export interface LiveTarget {
  iqn: string;
  tid?: number;
  enabled: boolean;
  luns: LiveLun[];
  /** initiator names allowed to log in (tgt ACL); empty with `allowAll` */
  initiators: string[];
  allowAll: boolean;
  /** SCST ini_groups (tgt has none) */
  groups: LiveGroup[];
  /** incoming CHAP users bound to the target */
  chapUsers: string[];
  /** mutual (outgoing) CHAP users */
  mutualUsers: string[];
}

export interface LiveSession {
  target: string;
  initiator: string;
  address?: string;
  /** LUNs the session sees (SCST per-session luns); undefined when the backend does not say */
  luns?: number[];
}

export interface LiveState {
  targets: LiveTarget[];
  sessions: LiveSession[];
}

export interface DriftItem {
  target: string;
  /** missing: desired but not running; extra: running but not desired; different: both, unequal */
  kind: 'missing' | 'extra' | 'different';
  /** what: target, lun N, acl, group G, chap, enabled */
  what: string;
  desired?: string;
  running?: string;
}

export interface BackendAvailability {
  available: boolean;
  reason?: string;
  /** can run, but only taken when no other backend can (LIO's modules loadable, not loaded) */
  fallback?: boolean;
}

export interface IscsiBackend {
  name: 'scst' | 'tgt' | 'lio';
  /** can it run here (module / sysfs tree / daemon and tools present) */
  probe(): Promise<BackendAvailability>;
  /** its files and activation steps as a target of the managed-config pipeline */
  configTarget(): ConfigTarget<IscsiState>;
  /** the running state; throws `unavailable` when the daemon or kernel side is not there */
  live(): Promise<LiveState>;
  /** the backend's own drift (default: computeDrift over live()) */
  drift?(state: IscsiState): Promise<DriftItem[]>;
  /**
   * True when the backend runs no target at all, as after a reboot of a backend that keeps
   * nothing itself (LIO: configfs is empty until written). The agent then re-applies the desired
   * state at start (service.ts). Absent: the backend restores itself (tgt's and SCST's own units).
   */
  emptyAfterRestart?(): Promise<boolean>;
}

/** The path a LUN's backing has as the backends see it. */
export type BackingPath = (lun: Lun) => string;

const byIqn = <T extends { iqn: string }>(xs: T[]) => new Map(xs.map((x) => [x.iqn, x]));

/**
 * Desired vs running, item by item. `backingPath` maps a LUN to the device or file the backend
 * reports (zvol: /dev/zvol/<dataset>; file: its path under the data area). `compareGroups`:
 * the backend has initiator groups (SCST); tgt has a flat ACL per target instead, compared
 * against the union of the groups' initiators.
 */
export function computeDrift(
  desired: IscsiState,
  live: LiveState,
  backingPath: BackingPath,
  opts: { compareGroups: boolean },
): DriftItem[] {
  const out: DriftItem[] = [];
  const run = byIqn(live.targets);
  const want = byIqn(desired.targets.filter((t) => t.enabled));
  for (const t of want.values()) {
    const r = run.get(t.iqn);
    if (!r) {
      out.push({ target: t.iqn, kind: 'missing', what: 'target' });
      continue;
    }
    out.push(...lunDrift(t, r, backingPath));
    out.push(...aclDrift(t, r, opts.compareGroups));
    const chap = t.chap ? [t.chap.user] : [];
    if (!sameSet(chap, r.chapUsers))
      out.push({
        target: t.iqn,
        kind: 'different',
        what: 'chap',
        desired: chap.join(',') || '(none)',
        running: r.chapUsers.join(',') || '(none)',
      });
    const mutual = t.chap?.mutualUser ? [t.chap.mutualUser] : [];
    if (!sameSet(mutual, r.mutualUsers))
      out.push({
        target: t.iqn,
        kind: 'different',
        what: 'mutual chap',
        desired: mutual.join(',') || '(none)',
        running: r.mutualUsers.join(',') || '(none)',
      });
  }
  for (const r of live.targets)
    if (!want.has(r.iqn)) out.push({ target: r.iqn, kind: 'extra', what: 'target' });
  return out;
}

function lunDrift(t: Target, r: LiveTarget, backingPath: BackingPath): DriftItem[] {
  const out: DriftItem[] = [];
  const running = new Map(r.luns.map((l) => [l.lun, l]));
  for (const l of t.luns) {
    const x = running.get(l.lun);
    const what = `lun ${l.lun}`;
    const path = backingPath(l);
    if (!x) {
      out.push({ target: t.iqn, kind: 'missing', what, desired: path });
      continue;
    }
    running.delete(l.lun);
    const diffs: string[] = [];
    if (x.path !== path) diffs.push(`backing ${x.path ?? '(none)'} ≠ ${path}`);
    if (x.blockSize !== undefined && x.blockSize !== l.blockSize)
      diffs.push(`block size ${x.blockSize} ≠ ${l.blockSize}`);
    if (x.readonly !== undefined && x.readonly !== l.readonly)
      diffs.push(`read-only ${x.readonly} ≠ ${l.readonly}`);
    if (x.serial !== undefined && x.serial !== l.serial) diffs.push(`serial ${x.serial} ≠ ${l.serial}`);
    if (diffs.length)
      out.push({ target: t.iqn, kind: 'different', what, desired: path, running: diffs.join('; ') });
  }
  for (const x of running.values())
    out.push({ target: t.iqn, kind: 'extra', what: `lun ${x.lun}`, running: x.path ?? '(none)' });
  return out;
}

function aclDrift(t: Target, r: LiveTarget, compareGroups: boolean): DriftItem[] {
  const out: DriftItem[] = [];
  if (!compareGroups) {
    const wantAll = t.groups.length === 0;
    const want = t.groups.flatMap((g) => g.initiators);
    if (wantAll !== r.allowAll || (!wantAll && !sameSet(want, r.initiators)))
      out.push({
        target: t.iqn,
        kind: 'different',
        what: 'acl',
        desired: wantAll ? 'ALL' : want.join(','),
        running: r.allowAll ? 'ALL' : r.initiators.join(',') || '(none)',
      });
    return out;
  }
  const running = new Map(r.groups.map((g) => [g.name, g]));
  for (const g of t.groups) {
    const x = running.get(g.name);
    if (!x) {
      out.push({ target: t.iqn, kind: 'missing', what: `group ${g.name}` });
      continue;
    }
    running.delete(g.name);
    const lunKey = (m: { lun: number; target: number }) => `${m.lun}->${m.target}`;
    if (!sameSet(g.initiators, x.initiators) || !sameSet(g.luns.map(lunKey), x.luns.map(lunKey)))
      out.push({
        target: t.iqn,
        kind: 'different',
        what: `group ${g.name}`,
        desired: `${g.initiators.join(',')} [${g.luns.map(lunKey).join(' ')}]`,
        running: `${x.initiators.join(',')} [${x.luns.map(lunKey).join(' ')}]`,
      });
  }
  for (const x of running.values()) out.push({ target: t.iqn, kind: 'extra', what: `group ${x.name}` });
  return out;
}

function sameSet(a: string[], b: string[]): boolean {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
}
