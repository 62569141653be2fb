/**
 * The upgrade journal (var/lib/calypso/release/upgrade.json) and the history of finished upgrades.
 *
 * The journal is written atomically before each step, so whoever picks up after a crash (the
 * upgrader's resume, run by systemd or the supervisor when the upgrader exits, or the agent at
 * start) knows exactly how far the upgrade got. Its presence means "unfinished"; it is removed
 * only after the outcome is in the history.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import type { Layout } from '../layout.js';
import { releasePaths } from './paths.js';

/** Steps in order. A crash before `switched` leaves `current` unchanged. */
export const FORWARD_STEPS = [
  'prepared',
  'started',
  'job-done',
  'stopped',
  'backed-up',
  'restored',
  'switched',
  'restarted',
] as const;
export const AFTER_STEPS = ['healthy', 'pruned', 'unhealthy'] as const;
export const ROLLBACK_STEPS = [
  'rolling-back',
  'rb-stopped',
  'rb-restored',
  'rb-switched',
  'rb-restarted',
] as const;
export type UpgradeStep =
  | (typeof FORWARD_STEPS)[number]
  | (typeof AFTER_STEPS)[number]
  | (typeof ROLLBACK_STEPS)[number];

export type Controller = 'systemd' | 'supervisor';

export interface Journal {
  id: string;
  kind: 'install' | 'rollback';
  from: string;
  to: string;
  /** the release.install / release.rollback job that handed over */
  jobId?: string;
  createdAt: number;
  step: UpgradeStep;
  steps: { step: UpgradeStep; at: number }[];
  /** copy the LMDB state here before switching (a migration is coming) */
  backup?: { dir: string };
  /** restore the LMDB state from here before switching (rollback across a migration) */
  restore?: { dir: string };
  controller: Controller;
  /** unit name (systemd) */
  unit?: string;
  healthTimeoutMs: number;
  keep: number;
  /** argv prefix that runs the upgrader: [node, upgrader.js] of the release that started it */
  upgrader: string[];
  upgraderPid?: number;
  attempts: number;
  rollingBack?: boolean;
  reason?: string;
}

export type Outcome = 'success' | 'rolled-back' | 'failed' | 'interrupted';

export interface UpgradeRecord {
  id: string;
  kind: Journal['kind'];
  from: string;
  to: string;
  outcome: Outcome;
  /** the version `current` points at afterwards */
  current: string | undefined;
  reason?: string;
  startedAt: number;
  finishedAt: number;
  steps: Journal['steps'];
}

const HISTORY_LIMIT = 50;

export function readJournal(layout: Layout): Journal | undefined {
  const p = releasePaths(layout).journal;
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Journal;
  } catch {
    // A torn journal cannot happen (atomic writes); an unreadable one is treated as absent
    // rather than blocking every future upgrade.
    return undefined;
  }
}

export function writeJournal(layout: Layout, j: Journal): void {
  const p = releasePaths(layout);
  mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  writeFileAtomicSync(p.journal, `${JSON.stringify(j, null, 2)}\n`, { mode: 0o600 });
}

export function removeJournal(layout: Layout): void {
  rmSync(releasePaths(layout).journal, { force: true });
}

export function readHistory(layout: Layout): UpgradeRecord[] {
  try {
    return JSON.parse(readFileSync(releasePaths(layout).history, 'utf8')) as UpgradeRecord[];
  } catch {
    return [];
  }
}

export function appendHistory(layout: Layout, rec: UpgradeRecord): void {
  const p = releasePaths(layout);
  mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  const all = readHistory(layout).filter((r) => r.id !== rec.id);
  all.push(rec);
  writeFileAtomicSync(p.history, `${JSON.stringify(all.slice(-HISTORY_LIMIT), null, 2)}\n`, { mode: 0o600 });
}

export function stepIndex(step: UpgradeStep): number {
  const all: readonly string[] = [...FORWARD_STEPS, ...AFTER_STEPS, ...ROLLBACK_STEPS];
  return all.indexOf(step);
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
