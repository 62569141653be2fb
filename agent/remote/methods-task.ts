/**
 * replication.task.create / list / get / delete / run: push a dataset's snapshots to a remote.
 * A run is a job: read both ends' snapshots and GUIDs, plan (push.ts), `zfs send | ssh … zfs
 * receive` with byte progress, compare the GUIDs of both ends, then move the hold
 * (calypso-repl:<task>) to the new last common snapshot on both sides.
 */
import { Type } from '@sinclair/typebox';
import { conflict, failed, invalid, notFound, RpcError } from '../../rpc/errors.js';
import { defineMethod } from '../../rpc/registry.js';
import { mutation, resourceMethods } from '../config-set/resource.js';
import { ZFS_SEND } from '../zfs/port.js';
import type { RemoteContext } from './context.js';
import { underPrefix } from './guard.js';
import {
  RemoteDataset,
  RemoteName,
  type RemoteRecord,
  TaskId,
  type TaskRecord,
  TaskSchema,
} from './model.js';
import { compareGuids, holdTag, parseSnapGuids, planPush, remoteArgv, type SnapGuid } from './push.js';

const NO_RESUME =
  'the receiving ZFS keeps no resume tokens (zfs-fuse): a broken run restarts from the last common snapshot';

const RunResult = Type.Object({
  id: Type.String(),
  mode: Type.String({ description: 'full, incremental, resume or none (up to date)' }),
  snapshot: Type.Optional(Type.String()),
  from: Type.Optional(Type.String()),
  bytes: Type.Integer({ description: 'bytes of the stream sent' }),
  estimate: Type.Integer({ description: 'estimated bytes before the run' }),
  resumeTokens: Type.Boolean({ description: 'the receiving ZFS keeps resume tokens' }),
  guidsMatch: Type.Boolean(),
  notes: Type.Array(Type.String()),
});

export function taskMethods(x: RemoteContext) {
  const { deps, store } = x;
  const mustTask = (id: string) => {
    const t = store.task(id);
    if (!t) throw notFound(`replication task ${id} does not exist`, { id });
    return t;
  };
  const zfs = () => deps.ports.need(ZFS_SEND);

  async function localSnaps(ds: string): Promise<SnapGuid[]> {
    const r = await zfs().run(remoteArgv.snapshots(ds), [0, 1]);
    if (r.code !== 0) throw notFound(`the source ${ds} does not exist`, { dataset: ds });
    return parseSnapGuids(r.stdout, ds);
  }
  async function remoteSnaps(r: RemoteRecord, ds: string, signal: AbortSignal) {
    const res = await x.runRemote(r, remoteArgv.snapshots(ds), { signal, okCodes: [0, 1] });
    if (res.code === 0) return parseSnapGuids(res.stdout, ds);
    if (/does not exist/.test(res.stderr)) return undefined;
    throw failed(`listing ${ds} on ${r.name} failed: ${res.stderr.trim()}`, { stderr: res.stderr });
  }
  /** whether the remote keeps resume tokens (asked of its prefix), and the target's token */
  async function resumeState(r: RemoteRecord, t: TaskRecord, exists: boolean, signal: AbortSignal) {
    const probe = await x.runRemote(r, remoteArgv.resumeToken(r.prefix), { signal, okCodes: [0, 1, 2] });
    if (probe.code !== 0 || !exists) return { resumable: probe.code === 0, token: undefined };
    const tok = await x.runRemote(r, remoteArgv.resumeToken(t.target), { signal, okCodes: [0] });
    const v = tok.stdout.trim();
    return { resumable: true, token: v && v !== '-' ? v : undefined };
  }
  const alertKey = (id: string) => `replication.task:${id}`;
  const recordRun = (id: string, run: TaskRecord['lastRun'], common?: string) =>
    store.updateTask(id, (t) => ({ ...t, lastRun: run, ...(common ? { common } : {}) }));
  /** run a hold/release; an existing tag (hold) or a missing one (release) is fine */
  const tolerant = (stderr: string) => /tag already exists|no such tag/i.test(stderr);

  return [
    ...resourceMethods({
      prefix: 'replication.task',
      listSummary: 'Push replication tasks to remotes, with their last run and last common snapshot',
      label: 'replication task',
      item: TaskSchema,
      key: { field: 'id', schema: TaskId },
      list: () => store.tasks(),
      mutations: {
        create: mutation({
          summary: 'Create a push replication task: a local dataset to a dataset under the remote’s prefix',
          params: Type.Object(
            {
              id: TaskId,
              remote: RemoteName,
              source: RemoteDataset,
              target: RemoteDataset,
              bandwidthLimit: Type.Optional(
                Type.Integer({ minimum: 1024, description: 'bytes per second (none: no limit)' }),
              ),
            },
            { additionalProperties: false },
          ),
          result: TaskSchema,
          handler: async (p, ctx) => {
            const r = x.mustGet(p.remote);
            if (!underPrefix(p.target, r.prefix) || p.target === r.prefix)
              throw invalid(`the target must be below ${r.prefix}, the prefix ${r.name} allows this key`, {
                target: p.target,
              });
            if (store.task(p.id)) throw conflict(`replication task ${p.id} exists already`, { id: p.id });
            const clash = store.tasks().find((t) => t.remote === p.remote && t.target === p.target);
            if (clash) throw conflict(`task ${clash.id} already replicates into ${p.target} on ${p.remote}`);
            const rec: TaskRecord = { ...p, direction: 'push', createdAt: deps.clock.now() };
            if (ctx.dryRun) return { dryRun: true, commands: [], notes: [`stores task ${p.id}`] };
            await store.putTask(rec);
            return rec;
          },
        }),
        delete: mutation({
          summary:
            'Delete a replication task; its holds on the last common snapshot are released on both sides',
          params: Type.Object({ id: TaskId }, { additionalProperties: false }),
          result: Type.Object({ id: Type.String(), notes: Type.Array(Type.String()) }),
          handler: async (p, ctx) => {
            const t = mustTask(p.id);
            const r = x.mustGet(t.remote);
            const tag = holdTag(t.id);
            const local = t.common ? remoteArgv.release(tag, `${t.source}@${t.common}`) : undefined;
            const remote = t.common ? remoteArgv.release(tag, `${t.target}@${t.common}`) : undefined;
            if (ctx.dryRun)
              return {
                dryRun: true,
                commands: local && remote ? [local, x.ssh(r, remote)] : [],
                notes: [`removes task ${t.id}`],
              };
            const notes: string[] = [];
            if (local && remote) {
              const a = await zfs().run(local, [0, 1]);
              if (a.code !== 0 && !tolerant(a.stderr)) notes.push(`local release: ${a.stderr.trim()}`);
              const b = await x.runRemote(r, remote, { okCodes: [0, 1] }).catch((e: Error) => ({
                code: 255,
                stderr: e.message,
              }));
              if (b.code !== 0 && !tolerant(b.stderr))
                notes.push(`the hold on ${r.name} stays (release it there): ${b.stderr.trim()}`);
            }
            await store.deleteTask(t.id);
            await deps.alerts.clear(alertKey(t.id));
            return { id: t.id, notes };
          },
        }),
      },
    }),
    defineMethod({
      name: 'replication.task.run',
      summary:
        'Run a push replication task now (job): full, incremental from the last common snapshot, or resume',
      description:
        'The dry run shows the argv of both ends: zfs send here, ssh … zfs receive there, then the holds. ' +
        'A broken run resumes from the target’s token where the receiving ZFS keeps one (OpenZFS), else ' +
        'the next run restarts from the last common snapshot (the answer says which). After the run the ' +
        'GUIDs of both ends are compared; a mismatch fails the run and raises an alert.',
      params: Type.Object({ id: TaskId }, { additionalProperties: false }),
      result: RunResult,
      role: 'operator',
      mutating: true,
      job: { lock: (p) => `replication-task:${p.id}`, title: (p) => `replication task ${p.id}` },
      handler: async (p, ctx) => {
        const t = mustTask(p.id);
        const r = x.mustGet(t.remote);
        const port = zfs();
        await port.require();
        const local = await localSnaps(t.source);
        const before = await remoteSnaps(r, t.target, ctx.signal);
        const { resumable, token } = await resumeState(r, t, before !== undefined, ctx.signal);
        const plan = planPush(local, before, token);
        if ('refusal' in plan) throw conflict(plan.refusal, { target: t.target });
        const notes = [resumable ? 'the receiving ZFS keeps resume tokens' : NO_RESUME];
        const base = { id: t.id, resumeTokens: resumable, notes };
        if (plan.mode === 'none') {
          if (ctx.dryRun) return { dryRun: true, commands: [], notes: [plan.reason] };
          await recordRun(t.id, {
            time: deps.clock.now(),
            ok: true,
            mode: 'none',
            snapshot: plan.snapshot,
            bytes: 0,
          });
          return { ...base, mode: 'none', snapshot: plan.snapshot, bytes: 0, estimate: 0, guidsMatch: true };
        }
        const newest = local.at(-1)!.snapshot;
        const src = (s: string) => `${t.source}@${s}`;
        const dst = (s: string) => `${t.target}@${s}`;
        const send =
          plan.mode === 'resume'
            ? port.resumeArgv(plan.token)
            : port.sendArgv(src(plan.snapshot), plan.from ? src(plan.from) : undefined);
        const receive = x.ssh(
          r,
          remoteArgv.receive(t.target, { force: plan.mode === 'incremental', resumable }),
        );
        const tag = holdTag(t.id);
        const holds: { argv: string[]; remote: boolean }[] = [
          { argv: remoteArgv.hold(tag, src(newest)), remote: false },
          { argv: remoteArgv.hold(tag, dst(newest)), remote: true },
          ...(t.common && t.common !== newest
            ? [
                { argv: remoteArgv.release(tag, src(t.common)), remote: false },
                { argv: remoteArgv.release(tag, dst(t.common)), remote: true },
              ]
            : []),
        ];
        const what =
          plan.mode === 'resume'
            ? 'resume from the target’s token'
            : `${plan.mode} @${plan.snapshot}${plan.from ? ` from @${plan.from}` : ''}`;
        if (ctx.dryRun)
          return {
            dryRun: true,
            commands: [send, receive, ...holds.map((h) => (h.remote ? x.ssh(r, h.argv) : h.argv))],
            notes: [what, 'the first two run as send | receive', ...notes],
          };
        const estimate =
          plan.mode === 'resume'
            ? 0
            : await port.estimate(src(plan.snapshot), plan.from ? src(plan.from) : undefined);
        ctx.progress(0, `${what} to ${r.name}:${t.target}`);
        let last = 0;
        let bytes: number;
        try {
          await x.materialize(r);
          bytes = await port.pipe(send, receive, {
            signal: ctx.signal,
            ...(t.bandwidthLimit ? { limitBytesPerSec: t.bandwidthLimit } : {}),
            onBytes: (b) => {
              const now = Date.now();
              if (now - last < 200) return;
              last = now;
              ctx.progress(
                estimate > 0 ? Math.min(99, (b / estimate) * 100) : 0,
                `${b} of about ${estimate} bytes`,
              );
            },
          });
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          const next = resumable
            ? 'the next run resumes from the target’s token'
            : `the next run restarts from ${t.common ? `@${t.common}` : before?.length ? 'the last common snapshot' : 'a full send'} (${NO_RESUME})`;
          await recordRun(t.id, { time: deps.clock.now(), ok: false, mode: plan.mode, error: msg });
          await deps.alerts.raise({
            key: alertKey(t.id),
            level: 'warning',
            source: 'replication',
            title: `replication task ${t.id} to ${r.name} failed`,
            detail: `${msg}; ${next}`,
          });
          if (err instanceof RpcError) throw new RpcError(err.kind, `${err.message}; ${next}`, err.data);
          throw err;
        }
        const after = (await remoteSnaps(r, t.target, ctx.signal)) ?? [];
        const problems = compareGuids(await localSnaps(t.source), after, newest);
        if (problems.length) {
          await recordRun(t.id, {
            time: deps.clock.now(),
            ok: false,
            mode: plan.mode,
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
        for (const h of holds) {
          const res = h.remote
            ? await x.runRemote(r, h.argv, { signal: ctx.signal, okCodes: [0, 1] })
            : await port.run(h.argv, [0, 1]);
          if (res.code !== 0 && !tolerant(res.stderr))
            throw failed(
              `${h.argv.slice(0, 2).join(' ')} failed${h.remote ? ` on ${r.name}` : ''}: ${res.stderr.trim()}`,
            );
        }
        await recordRun(
          t.id,
          { time: deps.clock.now(), ok: true, mode: plan.mode, snapshot: newest, bytes },
          newest,
        );
        await deps.alerts.clear(alertKey(t.id));
        ctx.progress(100, `${bytes} bytes sent`);
        return {
          ...base,
          mode: plan.mode,
          snapshot: newest,
          ...(plan.mode === 'incremental' && plan.from ? { from: plan.from } : {}),
          bytes,
          estimate,
          guidsMatch: true,
        };
      },
    }),
  ];
}
