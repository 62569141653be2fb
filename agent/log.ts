/**
 * Logging with pino: JSON lines to var/log/calypso/agent.N.log (rotated by pino-roll by size,
 * `current.log` links to the live file) and to
 * stdout when run in the foreground. Secrets are redacted by key wherever they appear.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import pinoRoll from 'pino-roll';

import { REDACT_KEYS } from '../rpc/redact.js';

export interface LogOptions {
  level: string;
  file?: string;
  rotateSize?: string;
  rotateCount?: number;
  stdout?: boolean;
}

export async function createLogger(opts: LogOptions): Promise<Logger> {
  const redact = {
    paths: REDACT_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `params.*.${k}`]),
    censor: '[redacted]',
  };
  const streams: pino.StreamEntry[] = [];
  if (opts.stdout)
    streams.push({ level: opts.level as pino.Level, stream: pino.destination({ fd: 1, sync: false }) });
  if (opts.file) {
    mkdirSync(path.dirname(opts.file), { recursive: true });
    // pino-roll used in-process rather than as a transport: a transport's worker thread costs
    // about 18 MB of resident memory, and the agent logs little.
    const roll = await pinoRoll({
      file: opts.file,
      size: opts.rotateSize ?? '10m',
      limit: { count: opts.rotateCount ?? 10 },
      mkdir: true,
      symlink: true,
    });
    streams.push({ level: opts.level as pino.Level, stream: roll });
  }
  if (streams.length === 0) return pino({ level: 'silent' });
  const options = { level: opts.level, redact, base: { pid: process.pid } };
  if (streams.length === 1) return pino(options, streams[0]!.stream);
  return pino(options, pino.multistream(streams));
}

export { REDACT_KEYS, redactParams } from '../rpc/redact.js';
