/**
 * Push replication, pure: the remote-side argv (the shapes the guard allows), the snapshot/GUID
 * parser, the plan (full, incremental from the newest common snapshot by GUID, or resume), and
 * the after-run comparison of both ends' GUIDs.
 */

export interface SnapGuid {
  /** short name (after @) */
  snapshot: string;
  guid: string;
}

/** Remote (and local) reads and writes, exactly as guard.ts accepts them. */
export const remoteArgv = {
  snapshots: (ds: string) => ['zfs', 'list', '-H', '-t', 'snapshot', '-o', 'name,guid', '-d', '1', '--', ds],
  resumeToken: (ds: string) => ['zfs', 'get', '-H', '-o', 'value', 'receive_resume_token', '--', ds],
  receive: (ds: string, o: { force: boolean; resumable: boolean }) => [
    'zfs',
    'receive',
    ...(o.force ? ['-F'] : []),
    ...(o.resumable ? ['-s'] : []),
    '--',
    ds,
  ],
  /** the dataset and its descendants, parents first (recursive tasks) */
  tree: (ds: string) => ['zfs', 'list', '-H', '-o', 'name', '-t', 'filesystem,volume', '-r', '--', ds],
  send: (to: string, from?: string) => ['zfs', 'send', ...(from ? ['-i', from] : []), '--', to],
  /** a resumed send (the guard decodes the token and checks the snapshot it names first) */
  resume: (token: string) => ['zfs', 'send', '-t', token],
  destroy: (snap: string) => ['zfs', 'destroy', '--', snap],
  hold: (tag: string, snap: string) => ['zfs', 'hold', '--', tag, snap],
  release: (tag: string, snap: string) => ['zfs', 'release', '--', tag, snap],
};

export const holdTag = (taskId: string) => `calypso-repl:${taskId}`;

/** `zfs list -H -t snapshot -o name,guid` lines of one dataset, in the order listed (oldest first). */
export function parseSnapGuids(out: string, dataset: string): SnapGuid[] {
  const rows: SnapGuid[] = [];
  for (const line of out.split('\n')) {
    const [name, guid] = line.split('\t');
    if (!name || !guid || !name.startsWith(`${dataset}@`)) continue;
    rows.push({ snapshot: name.slice(dataset.length + 1), guid: guid.trim() });
  }
  return rows;
}

export type PushPlan =
  | { mode: 'none'; snapshot: string; reason: string }
  | { mode: 'full' | 'incremental'; snapshot: string; from?: string; force: boolean }
  | { mode: 'resume'; token: string };

/**
 * What to send: nothing when the target has the newest snapshot; resume when the target holds a
 * token; incremental from the newest local snapshot whose GUID the target has; a full send when
 * the target does not exist. A target without a common snapshot is refused (nothing is destroyed).
 */
export function planPush(
  local: SnapGuid[],
  remote: SnapGuid[] | undefined,
  token: string | undefined,
): PushPlan | { refusal: string } {
  if (token) return { mode: 'resume', token };
  const newest = local.at(-1);
  if (!newest) return { refusal: 'the source has no snapshots to send' };
  if (!remote) return { mode: 'full', snapshot: newest.snapshot, force: false };
  const theirs = new Set(remote.map((s) => s.guid));
  if (theirs.has(newest.guid))
    return { mode: 'none', snapshot: newest.snapshot, reason: 'the target is up to date' };
  const common = [...local].reverse().find((s) => theirs.has(s.guid));
  if (!common)
    return {
      refusal:
        'the target exists without a snapshot in common with the source: destroy it on the remote, or replicate to a new target',
    };
  // -F rolls the target back to the common snapshot (a mounted target changes by atime alone)
  return { mode: 'incremental', snapshot: newest.snapshot, from: common.snapshot, force: true };
}

/** Snapshots of the same name whose GUIDs differ, and whether the target has `newest` with its GUID. */
export function compareGuids(local: SnapGuid[], remote: SnapGuid[], newest: string): string[] {
  const problems: string[] = [];
  const mine = new Map(local.map((s) => [s.snapshot, s.guid]));
  for (const r of remote) {
    const g = mine.get(r.snapshot);
    if (g !== undefined && g !== r.guid)
      problems.push(`@${r.snapshot}: source GUID ${g}, target GUID ${r.guid}`);
  }
  const want = mine.get(newest);
  if (!remote.some((r) => r.snapshot === newest && r.guid === want))
    problems.push(`the target lacks @${newest} with the source's GUID ${want}`);
  return problems;
}

/** `zfs list -H -o name -r` lines: the dataset and its descendants, parents first. */
export function parseTree(out: string, dataset: string): string[] {
  const names = out
    .split('\n')
    .map((l) => l.trim())
    .filter((n) => n === dataset || n.startsWith(`${dataset}/`));
  return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Retention on one side: the snapshots (oldest first) beyond the newest `keep`, but only those
 * older than the held last common snapshot, so the held one and anything newer (not replicated
 * yet) always stay.
 */
export function prunePlan(snaps: SnapGuid[], held: string, keep: number): string[] {
  const at = snaps.findIndex((s) => s.snapshot === held);
  if (at < 0) return [];
  const beyond = Math.max(0, snaps.length - keep);
  return snaps.slice(0, Math.min(beyond, at)).map((s) => s.snapshot);
}

/** The target's snapshots after a good run of `plan` (for the dry run's retention): rolled back to `from`, plus the new one. */
export function expectedAfter(before: SnapGuid[] | undefined, plan: PushPlan, src: SnapGuid[]): SnapGuid[] {
  if (plan.mode === 'none' || plan.mode === 'resume') return before ?? [];
  const kept = plan.from
    ? (before ?? []).slice(0, (before ?? []).findIndex((s) => s.snapshot === plan.from) + 1)
    : [];
  const sent = src.find((s) => s.snapshot === plan.snapshot);
  return sent ? [...kept, sent] : kept;
}
