/**
 * The two ends of a replication task, one shape for both: this appliance (zfs through the
 * ZFS_SEND port) and a remote (zfs through ssh and its guard). A push sends from here to the
 * remote, a pull from the remote to here; run.ts plans and runs either the same way. The reads
 * (snapshots, exact GUIDs, resume tokens) and the hold moves of a run are one call per end
 * (state.ts): at the remote, one ssh session through the run's connection (mux.ts).
 */
import { failed, notFound } from '../../rpc/errors.js';
import type { RunResult } from '../runner.js';
import type { ZfsSendPort } from '../zfs/port.js';
import type { RemoteContext } from './context.js';
import type { RemoteRecord } from './model.js';
import { parseTree, remoteArgv } from './push.js';
import {
  applyHolds,
  type EndState,
  type Expected,
  guardArgv,
  type HoldOp,
  holdArgv,
  readState,
  type Settled,
  settle,
} from './state.js';

export interface End {
  /** `here` or `remote <name>`, for messages */
  where: string;
  remote: boolean;
  /** the argv that runs `argv` at this end (ssh … for the remote): what the dry run shows */
  argv(argv: string[]): string[];
  run(argv: string[], signal: AbortSignal, okCodes?: number[]): Promise<RunResult>;
  /** the datasets' snapshots (oldest first) with exact GUIDs and resume tokens, and whether this end keeps tokens (`probe`: a dataset that exists here) */
  state(datasets: string[], probe: string, signal: AbortSignal): Promise<EndState>;
  /** the dataset and its descendants, parents first */
  tree(ds: string, signal: AbortSignal): Promise<string[]>;
  /** the argv that move the task's holds at this end (the dry run's) */
  holdsArgv(tag: string, ops: HoldOp[]): string[][];
  /** move them: an existing hold or a missing one is fine */
  holds(tag: string, ops: HoldOp[], signal: AbortSignal): Promise<void>;
  /** the argv of settle (the dry run's) */
  settleArgv(tag: string, datasets: string[], ops: HoldOp[]): string[][];
  /** at the target after a run: compare the GUIDs with the source's, then (only if they agree) move the holds */
  settle(
    tag: string,
    probe: string,
    expect: Expected[],
    ops: HoldOp[],
    signal: AbortSignal,
  ): Promise<Settled>;
  /** the send argv at this end (`zfs send [-i from] -- to`, full names) */
  send(to: string, from?: string): string[];
  /** `zfs send -t token` at this end (a remote's guard sends by token only when its state says `sendsByToken`) */
  resume(token: string): string[];
  /** estimated stream bytes (0: unknown) */
  estimate(to: string, from?: string): Promise<number>;
}

export function localEnd(port: ZfsSendPort): End {
  const run = (argv: string[], _signal: AbortSignal, okCodes = [0]) => port.run(argv, okCodes);
  return {
    where: 'here',
    remote: false,
    argv: (a) => a,
    run,
    state: (datasets, probe) => readState((a, ok) => port.run(a, ok), datasets, probe),
    async tree(ds) {
      const r = await port.run(remoteArgv.tree(ds), [0, 1]);
      if (r.code !== 0) throw notFound(`${ds} does not exist here`, { dataset: ds });
      return parseTree(r.stdout, ds);
    },
    holdsArgv: (tag, ops) => ops.map((h) => holdArgv(tag, h)),
    holds: (tag, ops) => applyHolds((a, ok) => port.run(a, ok), tag, ops),
    settleArgv: (tag, _datasets, ops) => ops.map((h) => holdArgv(tag, h)),
    settle: (tag, probe, expect, ops) => settle((a, ok) => port.run(a, ok), probe, tag, expect, ops),
    send: (to, from) => port.sendArgv(to, from),
    resume: (token) => port.resumeArgv(token),
    estimate: (to, from) => port.estimate(to, from),
  };
}

/** The remote end; with `controlPath`, its commands go through the run's connection (mux.ts). */
export function remoteEnd(x: RemoteContext, r: RemoteRecord, controlPath?: string): End {
  const run = (argv: string[], signal: AbortSignal, okCodes = [0]) =>
    x.runRemote(r, argv, { signal, okCodes, ...(controlPath ? { controlPath } : {}) });
  const argv = (a: string[]) => x.ssh(r, a, controlPath);
  return {
    where: `remote ${r.name}`,
    remote: true,
    argv,
    run,
    async state(datasets, _probe, signal) {
      // the guard answers for its own prefix's tokens
      const res = await run(guardArgv.state(datasets), signal, [0, 1, 126]);
      if (res.code !== 0)
        throw failed(`reading ${datasets.join(', ')} on ${r.name} failed: ${res.stderr.trim()}`, {
          stderr: res.stderr,
        });
      try {
        return JSON.parse(res.stdout) as EndState;
      } catch {
        throw failed(
          `${r.name} answered the state of ${datasets.join(', ')} with something other than JSON`,
          {
            stdout: res.stdout.slice(0, 200),
          },
        );
      }
    },
    async tree(ds, signal) {
      const res = await run(remoteArgv.tree(ds), signal, [0, 1]);
      if (res.code !== 0)
        throw notFound(`${ds} does not exist on ${r.name}: ${res.stderr.trim()}`, { dataset: ds });
      return parseTree(res.stdout, ds);
    },
    holdsArgv: (tag, ops) => (ops.length ? [argv(guardArgv.holds(tag, ops))] : []),
    async holds(tag, ops, signal) {
      if (!ops.length) return;
      const res = await run(guardArgv.holds(tag, ops), signal, [0, 1, 126]);
      if (res.code !== 0) throw failed(`moving the holds on ${r.name} failed: ${res.stderr.trim()}`);
    },
    settleArgv: (tag, datasets) => [argv(guardArgv.settle(tag, datasets))],
    async settle(tag, _probe, expect, ops, signal) {
      const res = await x.runRemote(
        r,
        guardArgv.settle(
          tag,
          expect.map((e) => e.dataset),
        ),
        {
          signal,
          okCodes: [0, 1, 126],
          input: JSON.stringify({ expect, ops }),
          ...(controlPath ? { controlPath } : {}),
        },
      );
      if (res.code !== 0) throw failed(`checking the GUIDs on ${r.name} failed: ${res.stderr.trim()}`);
      try {
        return JSON.parse(res.stdout) as Settled;
      } catch {
        throw failed(`${r.name} answered the check of its GUIDs with something other than JSON`);
      }
    },
    send: (to, from) => argv(remoteArgv.send(to, from)),
    resume: (token) => argv(remoteArgv.resume(token)),
    estimate: async () => 0,
  };
}
