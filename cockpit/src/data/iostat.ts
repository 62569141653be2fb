/**
 * Pool I/O for the Overview chart: samples of `pool.iostat` (bytes and operations per second
 * over one interval), summed over the pools into a short series the chart draws.
 */
import type { Result } from '../generated/api.js';
import type { AgentClient } from '../rpc/client.js';

export type IostatSample = Result<'pool.iostat'>;

export type PoolIo = IostatSample['pools'][number];

/** One point of the chart: the end of a sample (epoch seconds) and the pools' sums. */
export interface IoPoint {
  t: number;
  read: number;
  write: number;
}

export const poolIostat = (c: AgentClient, seconds: number, o: { signal?: AbortSignal } = {}) =>
  c.call<IostatSample>('pool.iostat', { seconds }, o);

/** The series with the sample added at its end, keeping the last `max` points. */
export function addSample(series: readonly IoPoint[], s: IostatSample, max = 120): IoPoint[] {
  const p: IoPoint = {
    t: Math.round(Date.parse(s.at) / 1000),
    read: s.pools.reduce((n, x) => n + x.readBytes, 0),
    write: s.pools.reduce((n, x) => n + x.writeBytes, 0),
  };
  const out = series.length && series[series.length - 1]!.t === p.t ? series.slice(0, -1) : [...series];
  out.push(p);
  return out.slice(-max);
}
