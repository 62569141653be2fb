/**
 * The two ends of a replication task, one shape for both: this appliance (zfs through the
 * ZFS_SEND port) and a remote (zfs through ssh and its guard). A push sends from here to the
 * remote, a pull from the remote to here; run.ts plans and runs either the same way.
 */
import { failed, notFound } from '../../rpc/errors.js';
import type { RunResult } from '../runner.js';
import type { ZfsSendPort } from '../zfs/port.js';
import type { RemoteContext } from './context.js';
import type { RemoteRecord } from './model.js';
import { parseSnapGuids, parseTree, remoteArgv, type SnapGuid } from './push.js';

export interface End {
  /** `here` or `remote <name>`, for messages */
  where: string;
  remote: boolean;
  /** the argv that runs `argv` at this end (ssh … for the remote): what the dry run shows */
  argv(argv: string[]): string[];
  run(argv: string[], signal: AbortSignal, okCodes?: number[]): Promise<RunResult>;
  /** the dataset's snapshots (oldest first), undefined when it does not exist */
  snapshots(ds: string, signal: AbortSignal): Promise<SnapGuid[] | undefined>;
  /** the dataset and its descendants, parents first */
  tree(ds: string, signal: AbortSignal): Promise<string[]>;
  /** whether this end's ZFS keeps receive resume tokens */
  keepsTokens(probe: string, signal: AbortSignal): Promise<boolean>;
  /** the dataset's resume token (a cut resumable receive), if any */
  token(ds: string, signal: AbortSignal): Promise<string | undefined>;
  /** the send argv at this end (`zfs send [-i from] -- to`, full names) */
  send(to: string, from?: string): string[];
  /** `zfs send -t token` at this end, when this end may resume a send (not through a guard) */
  resume?(token: string): string[];
  /** estimated stream bytes (0: unknown) */
  estimate(to: string, from?: string): Promise<number>;
}

const tokenOf = (r: RunResult) => {
  const v = r.stdout.trim();
  return r.code === 0 && v && v !== '-' ? v : undefined;
};

export function localEnd(port: ZfsSendPort): End {
  const run = (argv: string[], _signal: AbortSignal, okCodes = [0]) => port.run(argv, okCodes);
  return {
    where: 'here',
    remote: false,
    argv: (a) => a,
    run,
    async snapshots(ds) {
      const r = await port.run(remoteArgv.snapshots(ds), [0, 1]);
      return r.code === 0 ? parseSnapGuids(r.stdout, ds) : undefined;
    },
    async tree(ds) {
      const r = await port.run(remoteArgv.tree(ds), [0, 1]);
      if (r.code !== 0) throw notFound(`${ds} does not exist here`, { dataset: ds });
      return parseTree(r.stdout, ds);
    },
    keepsTokens: async (probe) => (await port.run(remoteArgv.resumeToken(probe), [0, 1, 2])).code === 0,
    token: async (ds) => tokenOf(await port.run(remoteArgv.resumeToken(ds), [0, 1, 2])),
    send: (to, from) => port.sendArgv(to, from),
    resume: (token) => port.resumeArgv(token),
    estimate: (to, from) => port.estimate(to, from),
  };
}

export function remoteEnd(x: RemoteContext, r: RemoteRecord): End {
  const run = (argv: string[], signal: AbortSignal, okCodes = [0]) =>
    x.runRemote(r, argv, { signal, okCodes });
  return {
    where: `remote ${r.name}`,
    remote: true,
    argv: (a) => x.ssh(r, a),
    run,
    async snapshots(ds, signal) {
      const res = await run(remoteArgv.snapshots(ds), signal, [0, 1]);
      if (res.code === 0) return parseSnapGuids(res.stdout, ds);
      if (/does not exist/.test(res.stderr)) return undefined;
      throw failed(`listing ${ds} on ${r.name} failed: ${res.stderr.trim()}`, { stderr: res.stderr });
    },
    async tree(ds, signal) {
      const res = await run(remoteArgv.tree(ds), signal, [0, 1]);
      if (res.code !== 0)
        throw notFound(`${ds} does not exist on ${r.name}: ${res.stderr.trim()}`, { dataset: ds });
      return parseTree(res.stdout, ds);
    },
    keepsTokens: async (probe, signal) =>
      (await run(remoteArgv.resumeToken(probe), signal, [0, 1, 2])).code === 0,
    token: async (ds, signal) => tokenOf(await run(remoteArgv.resumeToken(ds), signal, [0, 1, 2])),
    send: (to, from) => x.ssh(r, remoteArgv.send(to, from)),
    estimate: async () => 0,
  };
}
