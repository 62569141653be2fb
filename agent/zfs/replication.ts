/**
 * Replication: `zfs send | zfs receive` as two processes started by the runner (no shell), joined
 * by a pipe in this process that counts the bytes for progress.
 *
 * The receiving side is reached through a Transport that turns a `zfs …` argv into the argv that
 * runs it on the target. Today there is the local one (identity). A remote target over SSH is a
 * transport that wraps the argv as `ssh -o BatchMode=yes host -- <quoted argv>` (the remote side runs
 * a shell, so there each element must be quoted); planning, progress and resume stay as they are.
 */
import { Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { aborted, conflict, invalid, notFound, RpcError } from '../../rpc/errors.js';
import type { Runner } from '../runner.js';
import * as cmd from './commands.js';
import type { Dialect } from './dialect.js';
import { mapZfsError, type ZfsDriver } from './driver.js';
import { parseSnapshotList } from './parse-zfs-list.js';
import {
  estimateFromProperties,
  parseResumeToken,
  parseSendEstimate,
  type SendEstimate,
} from './parse-zfs-send.js';
import { parseSize } from './units.js';

export interface Transport {
  name: string;
  /** argv to run `argv` (a zfs command) on the target side */
  wrap(argv: string[]): string[];
}

export const localTransport: Transport = { name: 'local', wrap: (argv) => argv };

export interface ReplicationRequest {
  source: string;
  snapshot?: string;
  target: string;
  mode?: 'auto' | 'full' | 'incremental';
  from?: string;
  force?: boolean;
  resumable?: boolean;
}

export interface ReplicationPlan {
  mode: 'full' | 'incremental' | 'resume';
  snapshot: string;
  from?: string;
  send: string[];
  receive: string[];
  estimate: SendEstimate;
  token?: string;
}

/** Decide full / incremental / resume and build both argv lists. Reads only. */
export async function planReplication(
  driver: ZfsDriver,
  d: Dialect,
  req: ReplicationRequest,
  transport: Transport = localTransport,
): Promise<ReplicationPlan> {
  const run = (argv: string[], okCodes?: number[]) => driver.run(argv, okCodes ? { okCodes } : {});
  const resumable = (req.resumable ?? true) && d.resumableReceive;
  const receive = transport.wrap(cmd.zfsReceive(d, req.target, { force: req.force, resumable }));
  if (resumable && req.mode !== 'full') {
    const r = await run(transport.wrap(cmd.zfsResumeToken(req.target)), [0, 1]);
    const token = r.code === 0 ? parseResumeToken(r.stdout) : undefined;
    if (token) {
      const est = parseSendEstimate((await run(['zfs', 'send', '-nvP', '-t', token])).stdout);
      return {
        mode: 'resume',
        snapshot: req.snapshot ? `${req.source}@${req.snapshot}` : req.source,
        send: cmd.zfsSendResume(token),
        receive,
        estimate: est ?? { bytes: 0, source: 'send-dry-run', streams: [] },
        token,
      };
    }
  }
  const source = await driver.listSnapshots(req.source);
  if (source.length === 0) throw notFound(`${req.source} has no snapshots to send`, { dataset: req.source });
  const to = req.snapshot ? source.find((s) => s.snapshot === req.snapshot) : source.at(-1);
  if (!to) throw notFound(`snapshot ${req.source}@${req.snapshot} does not exist`);
  const toIndex = source.indexOf(to);

  let targetSnaps: string[] | undefined;
  const t = await run(transport.wrap(cmd.zfsListSnapshots(d, req.target)), [0, 1]);
  if (t.code === 0) targetSnaps = parseSnapshotList(t.stdout).map((s) => s.snapshot);
  else if (!/does not exist/.test(t.stderr))
    throw mapZfsError(new RpcError('failed', t.stderr.trim(), { stderr: t.stderr }));

  let from: string | undefined;
  if (req.mode !== 'full' && targetSnaps) {
    if (req.from) {
      if (!targetSnaps.includes(req.from))
        throw conflict(`the target has no snapshot ${req.from}`, { from: req.from });
      if (!source.slice(0, toIndex).some((s) => s.snapshot === req.from)) {
        throw invalid(`${req.from} is not an older snapshot of ${req.source}`);
      }
      from = req.from;
    } else {
      // newest source snapshot older than `to` that the target has too
      from = source
        .slice(0, toIndex)
        .reverse()
        .find((s) => targetSnaps!.includes(s.snapshot))?.snapshot;
    }
    if (targetSnaps.includes(to.snapshot)) {
      throw conflict(`the target already has ${to.snapshot}`, { target: req.target, snapshot: to.snapshot });
    }
  }
  if (req.mode === 'incremental' && !from) {
    throw conflict(`no common snapshot between ${req.source} and ${req.target} for an incremental send`);
  }
  if (!from && targetSnaps && !req.force) {
    throw conflict(`${req.target} exists; a full send would replace it (pass force to allow)`, {
      target: req.target,
    });
  }
  const fromFull = from ? `${req.source}@${from}` : undefined;
  const estimate = await estimateSend(driver, d, to.name, fromFull);
  return {
    mode: from ? 'incremental' : 'full',
    snapshot: to.name,
    from: fromFull,
    send: cmd.zfsSend(to.name, fromFull),
    receive,
    estimate,
  };
}

export async function estimateSend(
  driver: ZfsDriver,
  d: Dialect,
  to: string,
  from?: string,
): Promise<SendEstimate> {
  if (d.sendEstimate) {
    const r = await driver.run(cmd.zfsSendEstimate(to, from));
    // before OpenZFS 0.8 the estimate went to stderr
    const est = parseSendEstimate(r.stdout) ?? parseSendEstimate(r.stderr);
    if (est) return est;
  }
  const props = await driver.getProps(from ? [to, from] : [to], ['used', 'referenced']);
  const num = (name: string, p: string) => parseSize(props.get(name)?.get(p)?.value) ?? 0;
  return estimateFromProperties(
    { referenced: num(to, 'referenced') },
    from ? { referenced: num(from, 'referenced'), used: num(from, 'used') } : undefined,
  );
}

export interface PipeOptions {
  runner: Runner;
  env: Record<string, string>;
  signal: AbortSignal;
  onBytes: (bytes: number) => void;
  /** bytes per second through the counting pipe (none: as fast as both ends go) */
  limitBytesPerSec?: number;
}

/** Run send | receive; resolves with the bytes moved. The first real failure wins. */
/** receive's words when its input ended before a whole stream arrived */
const emptyStream = (e: unknown) => e instanceof Error && /failed to read from stream/.test(e.message);

export async function runPipe(send: string[], receive: string[], o: PipeOptions): Promise<number> {
  const inner = new AbortController();
  const onAbort = () => inner.abort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  let bytes = 0;
  const opts = { timeoutMs: 0, signal: inner.signal, env: o.env };
  const snd = o.runner.spawn(send, opts);
  let rcv: ReturnType<Runner['spawn']>;
  try {
    rcv = o.runner.spawn(receive, opts);
  } catch (err) {
    inner.abort();
    await snd.done.catch(() => {});
    throw err;
  }
  const started = Date.now();
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      o.onBytes(bytes);
      // a bandwidth limit: hold the chunk back until the average rate is within the limit
      const ahead = o.limitBytesPerSec ? (bytes / o.limitBytesPerSec) * 1000 - (Date.now() - started) : 0;
      if (ahead > 5) setTimeout(() => cb(null, chunk), ahead);
      else cb(null, chunk);
    },
  });
  counter.on('error', () => {});
  rcv.child.stdin?.on('error', () => {}); // EPIPE when receive dies: its exit status tells why
  snd.child.stdout?.pipe(counter).pipe(rcv.child.stdin!);
  const [s, r] = await Promise.allSettled([
    snd.done.catch((err) => {
      inner.abort(); // a failed send must not leave receive waiting for input
      throw err;
    }),
    rcv.done.catch(async (err) => {
      // the receiving end is gone (a killed ssh): drop send's output, or its pipe, backed up
      // behind the dead end, never closes and the run never ends
      snd.child.stdout?.unpipe();
      snd.child.stdout?.resume();
      // receive saw the stream end early: the sender is ending on its own, and its exit status
      // says why (a pull whose remote send was refused). Killing it now would lose that reason
      // and make the run look aborted (seen in a CI run), so it gets a moment to end first.
      if (emptyStream(err))
        await Promise.race([snd.done.catch(() => {}), sleep(10_000, undefined, { ref: false })]);
      inner.abort();
      throw err;
    }),
  ]);
  o.signal.removeEventListener('abort', onAbort);
  if (o.signal.aborted) throw aborted('replication aborted');
  const sErr = s.status === 'rejected' ? s.reason : undefined;
  const rErr = r.status === 'rejected' ? r.reason : undefined;
  // receive's error is the informative one when both fail (send then only reports a broken pipe),
  // unless receive was only stopped by us because send failed first
  const stoppedByUs = (e: unknown) => e instanceof RpcError && e.kind === 'aborted';
  // …and unless receive only saw the stream end early because the sender failed (a pull whose
  // remote send was refused: the refusal is the reason)
  if (rErr && !(sErr && (stoppedByUs(rErr) || emptyStream(rErr)))) throw mapZfsError(rErr);
  if (sErr) throw mapZfsError(sErr);
  return bytes;
}
