/**
 * The upgrader's view of the agent: one JSON-RPC call per connection over the Unix socket
 * (NDJSON framing, docs/design.md), and the health check of a release: `system.ping` answers with the
 * expected version and `system.capabilities` answers, within a deadline. Deliberately tiny and
 * self-contained: the upgrader must keep working whatever the release under test does.
 */

import net from 'node:net';
import { sleep } from '../util/time.js';

export class CallError extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
  }
}

export function rpcCall(socket: string, method: string, params: unknown, timeoutMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socket);
    let buf = '';
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new CallError(`${method}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (fn: () => void) => {
      clearTimeout(timer);
      conn.destroy();
      fn();
    };
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })}\n`));
    conn.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let msg: { result?: unknown; error?: { code: number; message: string } };
      try {
        msg = JSON.parse(buf.slice(0, nl));
      } catch {
        done(() => reject(new CallError(`${method}: unparsable answer`)));
        return;
      }
      if (msg.error) done(() => reject(new CallError(`${method}: ${msg.error!.message}`, msg.error!.code)));
      else done(() => resolve(msg.result));
    });
    conn.on('error', (err) => done(() => reject(new CallError(`${method}: ${err.message}`))));
    conn.on('close', () => done(() => reject(new CallError(`${method}: connection closed`))));
  });
}

/** The version the agent on `socket` reports, or undefined when it does not answer. */
export async function runningVersion(socket: string, timeoutMs = 2000): Promise<string | undefined> {
  try {
    const r = (await rpcCall(socket, 'system.ping', {}, timeoutMs)) as { version?: string };
    return r.version;
  } catch {
    return undefined;
  }
}

export interface HealthResult {
  ok: boolean;
  ms: number;
  reason?: string;
}

/**
 * Poll until the agent answers ping with `version` and answers capabilities, or the deadline
 * passes, or `failFast` names a reason to stop early (a release that crash-loops need not be
 * given the whole deadline).
 */
export async function waitHealthy(
  socket: string,
  version: string,
  deadlineMs: number,
  failFast?: () => Promise<string | undefined>,
  pollMs = 100,
): Promise<HealthResult> {
  const start = Date.now();
  let reason = 'no answer';
  while (Date.now() - start < deadlineMs) {
    const early = await failFast?.();
    if (early) return { ok: false, ms: Date.now() - start, reason: early };
    const left = Math.max(200, deadlineMs - (Date.now() - start));
    try {
      const ping = (await rpcCall(socket, 'system.ping', {}, Math.min(2000, left))) as { version?: string };
      if (ping.version !== version) {
        reason = `the agent answering is version ${ping.version}, not ${version}`;
      } else {
        await rpcCall(socket, 'system.capabilities', {}, Math.min(10_000, left));
        return { ok: true, ms: Date.now() - start };
      }
    } catch (err) {
      reason = (err as Error).message;
    }
    await sleep(pollMs);
  }
  return { ok: false, ms: Date.now() - start, reason: `not healthy within ${deadlineMs} ms: ${reason}` };
}
