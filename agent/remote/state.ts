/**
 * What a replication run reads and moves at each end, in as few round trips as possible: one
 * `calypso state` answers several datasets' snapshots, exact GUIDs and resume tokens at once, one
 * `calypso holds` places and releases the task's holds. The local end runs the same steps itself
 * (the same argv, one zfs command each); the remote end runs them through one guard call
 * (guard.ts, guard-main.ts), so a run pays one ssh session and one start of the guard for them.
 *
 * GUIDs come from `zfs get -Hp`: zfs-fuse's `zfs list` prints them rounded ("4.67E", "800P") and
 * has no -p; `zfs get -p` prints them in full on zfs-fuse and OpenZFS alike.
 */
import { compareGuids, type SnapGuid } from './push.js';

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}
export type RunZfs = (argv: string[], okCodes: number[]) => Promise<Ran>;

export interface DatasetState {
  /** oldest first; undefined when the dataset does not exist */
  snapshots?: SnapGuid[];
  /** a cut resumable receive's token */
  token?: string;
}
export interface EndState {
  /** this end's ZFS keeps receive resume tokens (OpenZFS; zfs-fuse does not) */
  tokens: boolean;
  /** a remote guard that may send by resume token (a pull key on a ZFS with tokens; guard-main.ts) */
  sendsByToken?: boolean;
  datasets: Record<string, DatasetState>;
}

export const stateArgv = {
  /** whether `receive_resume_token` is a property here (exit 0), on any dataset that exists */
  tokenProbe: (ds: string) => ['zfs', 'get', '-H', '-o', 'value', 'receive_resume_token', '--', ds],
  /** the dataset's and its snapshots' exact GUIDs and creation txgs (and its token, where kept) */
  read: (ds: string, tokens: boolean) => [
    'zfs',
    'get',
    '-Hp',
    '-o',
    'name,property,value',
    '-d',
    '1',
    tokens ? 'guid,createtxg,receive_resume_token' : 'guid,createtxg',
    '--',
    ds,
  ],
};

/** `zfs get -Hp -o name,property,value` rows of one dataset → its snapshots (by creation) and token. */
export function parseState(out: string, ds: string): DatasetState {
  const snaps = new Map<string, { guid?: string; txg?: number }>();
  let token: string | undefined;
  for (const line of out.split('\n')) {
    const [name, prop, value] = line.split('\t');
    if (!name || !prop || value === undefined) continue;
    if (name === ds && prop === 'receive_resume_token' && value !== '-' && value !== '') token = value;
    if (!name.startsWith(`${ds}@`)) continue;
    const s = snaps.get(name) ?? {};
    if (prop === 'guid' && /^\d+$/.test(value)) s.guid = value;
    if (prop === 'createtxg' && /^\d+$/.test(value)) s.txg = Number(value);
    snaps.set(name, s);
  }
  const snapshots = [...snaps.entries()]
    .filter(([, s]) => s.guid !== undefined)
    .sort((a, b) => (a[1].txg ?? 0) - (b[1].txg ?? 0))
    .map(([name, s]) => ({ snapshot: name.slice(ds.length + 1), guid: s.guid! }));
  return { snapshots, ...(token ? { token } : {}) };
}

const missing = (stderr: string) => /does not exist/.test(stderr);

/** Read `datasets` at one end (`probe`: a dataset that exists there, for the tokens question). */
export async function readState(run: RunZfs, datasets: string[], probe: string): Promise<EndState> {
  const tokens = (await run(stateArgv.tokenProbe(probe), [0, 1, 2])).code === 0;
  const out: EndState = { tokens, datasets: {} };
  for (const ds of datasets) {
    const r = await run(stateArgv.read(ds, tokens), [0, 1, 2]);
    if (r.code === 0) out.datasets[ds] = parseState(r.stdout, ds);
    else if (missing(r.stderr)) out.datasets[ds] = {};
    else throw new Error(`reading ${ds} failed: ${r.stderr.trim()}`);
  }
  return out;
}

export interface HoldOp {
  op: 'hold' | 'release';
  snapshot: string;
}

/** run a hold/release; an existing tag (hold) or a missing one (release) is fine */
export const tolerant = (stderr: string) => /tag already exists|no such tag/i.test(stderr);

export const holdArgv = (tag: string, h: HoldOp) => ['zfs', h.op, '--', tag, h.snapshot];

/** The task's holds at one end, in order; the first failure other than a tolerated one stops them. */
export async function applyHolds(run: RunZfs, tag: string, ops: HoldOp[]): Promise<void> {
  for (const h of ops) {
    const r = await run(holdArgv(tag, h), [0, 1, 2]);
    if (r.code !== 0 && !tolerant(r.stderr))
      throw new Error(`zfs ${h.op} ${h.snapshot} failed: ${r.stderr.trim()}`);
  }
}

/** What the target of a run must hold: the source's snapshots (exact GUIDs) and its newest. */
export interface Expected {
  dataset: string;
  snapshots: SnapGuid[];
  newest: string;
}
export interface Settled {
  state: EndState;
  /** `<dataset>: @snap: source GUID …, target GUID …`; the holds moved only when empty */
  problems: string[];
}

/**
 * After a run, at the target: read its datasets, compare their GUIDs with the source's, and
 * only when they all agree move the task's holds there (one call at a remote: `calypso settle`,
 * the expectations on its stdin).
 */
export async function settle(run: RunZfs, probe: string, tag: string, expect: Expected[], ops: HoldOp[]) {
  const state = await readState(
    run,
    expect.map((e) => e.dataset),
    probe,
  );
  const problems = expect.flatMap((e) =>
    compareGuids(e.snapshots, state.datasets[e.dataset]?.snapshots ?? [], e.newest).map(
      (p) => `${e.dataset}: ${p}`,
    ),
  );
  if (!problems.length) await applyHolds(run, tag, ops);
  return { state, problems } satisfies Settled;
}

/** The remote command lines of the combined reads and moves (what guard.ts accepts). */
export const guardArgv = {
  state: (datasets: string[]) => ['calypso', 'state', '--', ...datasets],
  /** the expectations and hold moves go on stdin as JSON ({ expect, ops }), checked by the guard */
  settle: (tag: string, datasets: string[]) => ['calypso', 'settle', '--', tag, ...datasets],
  holds: (tag: string, ops: HoldOp[]) => [
    'calypso',
    'holds',
    '--',
    tag,
    ...ops.flatMap((h) => [h.op, h.snapshot]),
  ],
};

/** `calypso holds` operands after the tag → the ops, or undefined when malformed. */
export function parseHoldOps(words: string[]): HoldOp[] | undefined {
  if (words.length === 0 || words.length % 2 !== 0) return undefined;
  const ops: HoldOp[] = [];
  for (let i = 0; i < words.length; i += 2) {
    const op = words[i];
    if (op !== 'hold' && op !== 'release') return undefined;
    ops.push({ op, snapshot: words[i + 1]! });
  }
  return ops;
}
