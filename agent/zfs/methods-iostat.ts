/**
 * `pool.iostat`: read and write operations and bytes per second of each pool over one interval
 * (`zpool iostat`), for the Overview's I/O chart and for scripts. Identical requests share one
 * sample: those arriving while it is taken wait for it, and for a second after it they get it,
 * so any number of open Overview pages cost one `zpool iostat` at a time.
 */
import { Type } from '@sinclair/typebox';
import { notFound } from '../../rpc/errors.js';
import { defineMethod } from '../../rpc/registry.js';
import * as cmd from './commands.js';
import type { ZfsContext } from './context.js';
import { PoolName } from './names.js';
import { type PoolIo, parseZpoolIostat } from './parse-zpool-iostat.js';

export interface IostatSample {
  at: string;
  seconds: number;
  pools: PoolIo[];
}

const PoolIoSchema = Type.Object({
  name: Type.String(),
  alloc: Type.Optional(Type.Integer({ description: 'bytes allocated' })),
  free: Type.Optional(Type.Integer({ description: 'bytes free' })),
  readOps: Type.Number({ description: 'read operations per second' }),
  writeOps: Type.Number({ description: 'write operations per second' }),
  readBytes: Type.Number({ description: 'bytes read per second' }),
  writeBytes: Type.Number({ description: 'bytes written per second' }),
});

/** Shares samples between identical requests (in flight, and for `keepMs` after). */
export class IostatSampler {
  private inflight = new Map<string, Promise<IostatSample>>();
  private recent = new Map<string, { done: number; sample: IostatSample }>();

  constructor(
    private z: ZfsContext,
    private keepMs = 1000,
  ) {}

  sample(pools: string[], seconds: number, signal?: AbortSignal): Promise<IostatSample> {
    const key = `${seconds}:${[...pools].sort().join(',')}`;
    const now = this.z.deps.clock.now();
    const r = this.recent.get(key);
    if (r && now - r.done < this.keepMs) return Promise.resolve(r.sample);
    let p = this.inflight.get(key);
    if (!p) {
      p = this.take(pools, seconds)
        .then((sample) => {
          this.recent.set(key, { done: this.z.deps.clock.now(), sample });
          if (this.recent.size > 64) this.recent.delete(this.recent.keys().next().value!);
          return sample;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    if (!signal) return p;
    return new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      p.then(resolve, reject);
    });
  }

  private async take(pools: string[], seconds: number): Promise<IostatSample> {
    const d = await this.z.ready();
    const r = await this.z.driver
      .run(cmd.zpoolIostat(d, pools, seconds), { timeoutMs: seconds * 2000 + 30_000 })
      .catch(async (err: unknown) => {
        // OpenZFS takes an unknown name for a vdev and says only "Unable to parse pools/vdevs list"
        const listed = await this.z.driver.listPools().catch(() => undefined);
        const missing = listed ? pools.filter((p) => !listed.some((x) => x.name === p)) : [];
        if (missing.length) throw notFound(`no such pool: ${missing.join(', ')}`, { pools: missing });
        throw err;
      });
    const at = new Date(this.z.deps.clock.now()).toISOString();
    return { at, seconds, pools: parseZpoolIostat(r.stdout, d.parsable) };
  }
}

export function iostatMethods(z: ZfsContext) {
  const sampler = new IostatSampler(z);
  return [
    defineMethod({
      name: 'pool.iostat',
      summary: 'Operations and bytes read and written per second by each pool over one interval',
      description:
        'Answers after the interval (`seconds`). Identical requests share one `zpool iostat`: a request ' +
        'arriving while one runs, or within a second after it, gets that sample.',
      params: Type.Object(
        {
          pools: Type.Optional(
            Type.Array(PoolName, { maxItems: 100, uniqueItems: true, description: 'default: every pool' }),
          ),
          seconds: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 10, description: 'the interval measured (default 1)' }),
          ),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({
        at: Type.String({ description: 'when the sample ended' }),
        seconds: Type.Integer(),
        pools: Type.Array(PoolIoSchema),
      }),
      role: 'auditor',
      mutating: false,
      handler: (p, ctx) => sampler.sample(p.pools ?? [], p.seconds ?? 1, ctx.signal),
    }),
  ];
}
