/**
 * One run of a replication task (push or pull, one dataset or recursive), the same code for
 * `replication.task.run`, a scheduled run and a run after a snapshot policy's new snapshot:
 * read both ends' snapshots and GUIDs per dataset, plan each (push.ts), `zfs send | zfs receive`
 * through the counting pipe, compare the GUIDs of both ends, move the holds
 * (calypso-repl:<task>) to each dataset's new last common snapshot on both sides, then apply the
 * retention of each side. Recursive tasks send each dataset on its own (not `zfs send -R`): each
 * child then has its own plan, its own hold and, where the receiver keeps tokens, its own resume
 * token, so a cut run resumes (or restarts) every child from where that child stands.
 */
import { conflict, failed, notFound, RpcError } from '../../rpc/errors.js';
import { ZFS_SEND } from '../zfs/port.js';
import type { RemoteContext } from './context.js';
import { type End, localEnd, remoteEnd } from './ends.js';
import type { RemoteRecord, TaskRecord } from './model.js';
import { muxPath, openMux } from './mux.js';
import {
  compareGuids,
  expectedAfter,
  holdTag,
  type PushPlan,
  planPush,
  prunePlan,
  remoteArgv,
  type SnapGuid,
} from './push.js';
import type { EndState, HoldOp } from './state.js';

export { tolerant } from './state.js';

export const NO_RESUME =
  'the receiving ZFS keeps no resume tokens (zfs-fuse): a broken run restarts from the last common snapshot';
const PULL_NO_RESUME =
  'a pull restarts a broken run from the last common snapshot: the remote’s guard does not send by resume token (zfs-fuse there, or a Calypso before pulls resumed)';

export const taskLock = (id: string) => `replication-task:${id}`;
export const alertKey = (id: string) => `replication.task:${id}`;
export const poolFullKey = (id: string) => `replication.task:${id}:pool-full`;

export interface RunContext {
  dryRun: boolean;
  signal: AbortSignal;
  progress(percent: number, description?: string): void;
}

interface Step {
  rel: string;
  source: string;
  target: string;
  plan: PushPlan;
  newest: string;
  after: SnapGuid[];
  src: SnapGuid[];
  send?: string[];
  receive?: string[];
  /** the hold moves at the source and at the target */
  holds: { src: HoldOp[]; dst: HoldOp[] };
  bytes: number;
}

/** A receive that failed for want of space (zfs-fuse and OpenZFS say it in these words). */
export const isNoSpace = (msg: string) => /out of space|no space left|ENOSPC|quota exceeded/i.test(msg);

/** The task's ends: [source, target] (with `controlPath`, the remote's commands use the run's connection). */
export function endsOf(x: RemoteContext, t: TaskRecord, r: RemoteRecord, controlPath?: string): [End, End] {
  const here = localEnd(x.deps.ports.need(ZFS_SEND));
  const there = remoteEnd(x, r, controlPath);
  return t.direction === 'pull' ? [there, here] : [here, there];
}

const commonOf = (t: TaskRecord, rel: string) => t.commons?.[rel] ?? (rel === '' ? t.common : undefined);

export async function runTask(x: RemoteContext, id: string, ctx: RunContext) {
  const { deps, store } = x;
  const t = store.task(id);
  if (!t) throw notFound(`replication task ${id} does not exist`, { id });
  const r = x.mustGet(t.remote);
  await deps.ports.need(ZFS_SEND).require();
  // one ssh connection for all of the run's remote steps (the dry run only shows its argv)
  const controlPath = muxPath(deps.layout.stateDir, t.id);
  const mux = ctx.dryRun ? undefined : await openMux(x, r, controlPath, ctx.signal);
  try {
    return await runWith(x, t, r, ctx, endsOf(x, t, r, controlPath), mux?.note);
  } finally {
    await mux?.close();
  }
}

async function runWith(
  x: RemoteContext,
  t: TaskRecord,
  r: RemoteRecord,
  ctx: RunContext,
  [src, dst]: [End, End],
  muxNote: string | undefined,
) {
  const { deps, store } = x;
  const { signal } = ctx;
  const datasets = t.recursive ? await src.tree(t.source, signal) : [t.source];
  const targets = datasets.map((ds) => `${t.target}${ds.slice(t.source.length)}`);
  // the reads of both ends at once, one call per end
  const [srcState, dstState] = await statesOf(src, dst, datasets, targets, t, r, signal);
  const tokens = dstState.tokens;
  // a resumable receive needs a sender that may send by token: here always, a remote's guard when it says so
  const resumable = tokens && (!src.remote || srcState.sendsByToken === true);
  const tag = holdTag(t.id);
  const steps: Step[] = [];
  for (const [i, ds] of datasets.entries()) {
    const rel = ds.slice(t.source.length);
    const target = targets[i]!;
    const local = srcState.datasets[ds]?.snapshots;
    const before = dstState.datasets[target]?.snapshots;
    if (!local) throw notFound(`the source ${ds} does not exist (${src.where})`, { dataset: ds });
    const token = resumable && before !== undefined ? dstState.datasets[target]?.token : undefined;
    const plan = planPush(local, before, token);
    if ('refusal' in plan) throw conflict(`${target}: ${plan.refusal}`, { target });
    const newest = local.at(-1)!.snapshot;
    const step: Step = {
      rel,
      source: ds,
      target,
      plan,
      newest,
      src: local,
      after: [],
      holds: { src: [], dst: [] },
      bytes: 0,
    };
    if (plan.mode !== 'none') {
      step.send =
        plan.mode === 'resume'
          ? src.resume(plan.token)
          : src.send(`${ds}@${plan.snapshot}`, plan.from ? `${ds}@${plan.from}` : undefined);
      step.receive = dst.argv(remoteArgv.receive(target, { force: plan.mode === 'incremental', resumable }));
    }
    step.after = expectedAfter(before, plan, local);
    const old = commonOf(t, rel);
    // up to date and already held there: nothing to move
    if (plan.mode !== 'none' || old !== newest)
      for (const [side, name] of [
        ['src', ds],
        ['dst', target],
      ] as const)
        step.holds[side] = [
          { op: 'hold', snapshot: `${name}@${newest}` },
          ...(old && old !== newest ? [{ op: 'release' as const, snapshot: `${name}@${old}` }] : []),
        ];
    steps.push(step);
  }
  const notes = [
    tokens ? 'the receiving ZFS keeps resume tokens' : NO_RESUME,
    ...(tokens && !resumable ? [PULL_NO_RESUME] : []),
    ...(muxNote ? [muxNote] : []),
  ];
  const srcHolds = steps.flatMap((s) => s.holds.src);
  const dstHolds = steps.flatMap((s) => s.holds.dst);
  const describe = (s: Step) =>
    s.plan.mode === 'resume'
      ? `${s.source}: resume from the target’s token`
      : s.plan.mode === 'none'
        ? `${s.source}: up to date`
        : `${s.source}: ${s.plan.mode} @${s.plan.snapshot}${s.plan.from ? ` from @${s.plan.from}` : ''}`;
  const prune = (side: 'source' | 'target', s: Step, snaps: SnapGuid[]) => {
    const keep = t.retention?.[side]?.keep;
    const ds = side === 'source' ? s.source : s.target;
    return keep ? prunePlan(snaps, s.newest, keep).map((n) => remoteArgv.destroy(`${ds}@${n}`)) : [];
  };
  const work = steps.filter((s) => s.plan.mode !== 'none');
  if (ctx.dryRun) {
    const commands: string[][] = [];
    for (const s of work) commands.push(s.send!, s.receive!);
    // the target's GUIDs are checked and its holds moved first, then the source's
    commands.push(...dst.settleArgv(tag, targets, dstHolds), ...src.holdsArgv(tag, srcHolds));
    for (const s of steps) {
      commands.push(...prune('source', s, s.src).map((a) => src.argv(a)));
      commands.push(...prune('target', s, s.after).map((a) => dst.argv(a)));
    }
    return {
      dryRun: true as const,
      commands,
      notes: [
        ...steps.map(describe),
        ...(work.length ? ['each send and the receive after it run as send | receive'] : []),
        ...(t.retention
          ? ['retention: the destroys as the snapshots stand now; the run reads them again']
          : []),
        ...notes,
      ],
    };
  }
  let estimate = 0;
  for (const s of work)
    if (s.plan.mode !== 'resume' && s.plan.mode !== 'none')
      estimate += await src.estimate(
        `${s.source}@${s.plan.snapshot}`,
        s.plan.from ? `${s.source}@${s.plan.from}` : undefined,
      );
  const port = deps.ports.need(ZFS_SEND);
  let done = 0;
  let last = 0;
  let current: Step | undefined;
  try {
    if (work.length) await x.materialize(r);
    for (const s of work) {
      current = s;
      ctx.progress(estimate > 0 ? Math.min(99, (done / estimate) * 100) : 0, describe(s));
      s.bytes = await port.pipe(s.send!, s.receive!, {
        signal,
        ...(t.bandwidthLimit ? { limitBytesPerSec: t.bandwidthLimit } : {}),
        onBytes: (b) => {
          const now = Date.now();
          if (now - last < 200) return;
          last = now;
          const total = done + b;
          ctx.progress(
            estimate > 0 ? Math.min(99, (total / estimate) * 100) : 0,
            `${total} of about ${estimate} bytes`,
          );
        },
      });
      done += s.bytes;
    }
  } catch (err) {
    throw await failedRun(x, t, r, dst, steps, current, err, resumable, tokens ? PULL_NO_RESUME : NO_RESUME);
  }
  // the GUIDs of both ends, the holds, then retention
  const problems: string[] = [];
  // the source's snapshots now, then at the target in one call: its GUIDs compared with them and,
  // only when they agree, its holds moved
  const srcNow = await src.state(datasets, probeOf(src, t.source, r), signal);
  for (const s of steps) s.src = srcNow.datasets[s.source]?.snapshots ?? [];
  const settled = await dst.settle(
    tag,
    probeOf(dst, t.target, r),
    steps.map((s) => ({ dataset: s.target, snapshots: s.src, newest: s.newest })),
    dstHolds,
    signal,
  );
  for (const s of steps) s.after = settled.state.datasets[s.target]?.snapshots ?? [];
  // the same comparison here, on what the target answered
  for (const s of steps)
    problems.push(...compareGuids(s.src, s.after, s.newest).map((p) => `${s.target}: ${p}`));
  if (settled.problems.length && !problems.length) problems.push(...settled.problems);
  if (problems.length) {
    await recordRun(x, t.id, {
      time: deps.clock.now(),
      ok: false,
      mode: steps[0]!.plan.mode,
      error: problems.join('; '),
    });
    await deps.alerts.raise({
      key: alertKey(t.id),
      level: 'critical',
      source: 'replication',
      title: `replication task ${t.id}: the snapshots of both ends differ`,
      detail: problems.join('; '),
    });
    throw failed(`after the run the GUIDs of both ends differ: ${problems.join('; ')}`);
  }
  await src.holds(tag, srcHolds, signal).catch((err: Error) => {
    throw failed(`${err.message} (${src.where})`);
  });
  const pruned: { source: string[]; target: string[] } = { source: [], target: [] };
  for (const s of steps)
    for (const [side, end, snaps] of [
      ['source', src, s.src],
      ['target', dst, s.after],
    ] as const) {
      for (const argv of prune(side, s, snaps)) {
        const res = await end.run(argv, signal, [0, 1]);
        if (res.code === 0) pruned[side].push(argv.at(-1)!);
        else notes.push(`retention: ${argv.at(-1)} stays (${end.where}): ${res.stderr.trim()}`);
      }
    }
  const root = steps[0]!;
  const commons = Object.fromEntries(steps.map((s) => [s.rel, s.newest]));
  await store.updateTask(t.id, (cur) => ({
    ...cur,
    lastRun: { time: deps.clock.now(), ok: true, mode: root.plan.mode, snapshot: root.newest, bytes: done },
    common: root.newest,
    ...(t.recursive ? { commons } : {}),
  }));
  await deps.alerts.clear(alertKey(t.id));
  await deps.alerts.clear(poolFullKey(t.id));
  ctx.progress(100, `${done} bytes sent`);
  return {
    id: t.id,
    direction: t.direction,
    mode: root.plan.mode,
    snapshot: root.newest,
    ...(root.plan.mode === 'incremental' && root.plan.from ? { from: root.plan.from } : {}),
    bytes: done,
    estimate,
    resumeTokens: tokens,
    guidsMatch: true,
    notes,
    children: steps.map((s) => ({
      dataset: s.source,
      target: s.target,
      mode: s.plan.mode,
      snapshot: s.newest,
      ...(s.plan.mode === 'incremental' && s.plan.from ? { from: s.plan.from } : {}),
      bytes: s.bytes,
    })),
    pruned,
  };
}

/** Both ends' snapshots, GUIDs and tokens, read at once: one call per end. */
function statesOf(
  src: End,
  dst: End,
  datasets: string[],
  targets: string[],
  t: TaskRecord,
  r: RemoteRecord,
  signal: AbortSignal,
): Promise<[EndState, EndState]> {
  return Promise.all([
    src.state(datasets, probeOf(src, t.source, r), signal),
    dst.state(targets, probeOf(dst, t.target, r), signal),
  ]);
}

/** a dataset that exists at that end, for the tokens question (the guard asks its own prefix) */
const probeOf = (end: End, ds: string, r: RemoteRecord) => (end.remote ? r.prefix : ds.split('/')[0]!);

function recordRun(x: RemoteContext, id: string, run: TaskRecord['lastRun']) {
  return x.store.updateTask(id, (t) => ({ ...t, lastRun: run }));
}

/**
 * A cut or failed run: the error says what the next run does for each dataset (resume from its
 * token, or restart from its last common snapshot), a full receiving pool is its own error and
 * alert; the receiver keeps its last complete snapshots.
 */
async function failedRun(
  x: RemoteContext,
  t: TaskRecord,
  r: RemoteRecord,
  dst: End,
  steps: Step[],
  current: Step | undefined,
  err: unknown,
  resumable: boolean,
  /** why the run is not resumable (the receiver keeps no tokens, or a pull's sender does not send by token) */
  noResume: string,
): Promise<Error> {
  const { deps } = x;
  let msg = err instanceof Error ? err.message : String(err);
  // only the receive that was cut leaves a token; the steps after it never started
  const nextOf = (s: Step) => {
    if (resumable && s === current) return `${s.target} resumes from its token`;
    const from = s.plan.mode === 'incremental' ? s.plan.from : commonOf(t, s.rel);
    return from ? `${s.target} restarts from @${from}` : `${s.target} restarts with a full send`;
  };
  const at = current ? steps.indexOf(current) : 0;
  const pending = steps.slice(at).filter((s) => s.plan.mode !== 'none');
  const next = `the next run: ${pending.map(nextOf).join(', ') || 'nothing left'}${resumable ? '' : ` (${noResume})`}`;
  const pool = current?.target.split('/')[0] ?? t.target.split('/')[0]!;
  const full = isNoSpace(msg);
  if (full) {
    msg = `the receiving pool ${pool} is full (${dst.where}): ${msg}`;
    await deps.alerts.raise({
      key: poolFullKey(t.id),
      level: 'critical',
      source: 'replication',
      title: `replication task ${t.id}: the receiving pool ${pool} is full`,
      detail: `${msg}; free space on ${pool} (${dst.where}) or prune its snapshots, then run the task again`,
    });
  }
  await recordRun(x, t.id, {
    time: deps.clock.now(),
    ok: false,
    mode: current?.plan.mode ?? 'none',
    error: msg,
  });
  await deps.alerts.raise({
    key: alertKey(t.id),
    level: 'warning',
    source: 'replication',
    title: `replication task ${t.id} ${t.direction === 'pull' ? 'from' : 'to'} ${r.name} failed`,
    detail: `${msg}; ${next}`,
  });
  if (err instanceof RpcError) return new RpcError(err.kind, `${msg}; ${next}`, err.data);
  return failed(`${msg}; ${next}`);
}
