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
