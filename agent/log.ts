/**
 * Logging with pino: JSON lines to var/log/calypso/agent.N.log (rotated by pino-roll by size,
 * `current.log` links to the live file) and to
 * stdout when run in the foreground. Secrets are redacted by key wherever they appear.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import pinoRoll from 'pino-roll';

export const REDACT_KEYS = ['password', 'secret', 'token', 'passphrase', 'privateKey', 'authorization'];

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

/** Redact secret-looking keys from a params object before it is logged or audited. */
export function redactParams(value: unknown, extra: readonly string[] = [], depth = 0): unknown {
  if (depth > 8) return '[deep]';
  if (Array.isArray(value)) return value.map((v) => redactParams(v, extra, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const lower = k.toLowerCase();
      const secret = extra.includes(k) || REDACT_KEYS.some((r) => lower.includes(r.toLowerCase()));
      out[k] = secret ? '[redacted]' : redactParams(v, extra, depth + 1);
    }
    return out;
  }
  return value;
}
