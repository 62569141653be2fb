/**
 * Object storage benchmarks, each against a baseline measured in the same run, on the Ceph lab
 * (memstore OSD: the gateway's data lives in memory, so the comparison shows what the S3 path
 * costs — HTTP, signing, RGW, RADOS — not a disk):
 * - PUT and GET of 1 MiB objects through the gateway with the AWS SDK, against writing and
 *   reading the same bytes as files on the filesystem of the lab's prefix (reported);
 * - `object.bucket.list` with usage over 1,000 buckets (goal ≤ 300 ms): from the sampled
 *   listing (bucket-cache.ts), and its first, uncached call against the bare
 *   `radosgw-admin bucket stats` it runs.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { NewKey } from '../agent/object/model.js';
import { startObjectRig } from '../test/object/helpers.js';
import { elapsed, median } from './stats.js';

const exec = promisify(execFile);
const MiB = 1 << 20;
const OBJECTS = 64;
const BUCKETS = 1000;

/** Run `fn` over `items` with at most `n` in flight. */
async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

const rate = (bytes: number, ms: number) => Number((bytes / MiB / (ms / 1000)).toFixed(1));

export async function benchObject(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const rig = await startObjectRig({ startGateway: true });
  try {
    const key = (
      await rig.t.call<{ key: NewKey }>('object.user.create', { id: 'bench', displayName: 'Bench' })
    ).key;
    // 1,000 buckets for the listing plus the data bucket: above RGW's default of 1,000 per user
    await rig.lab.admin('user', 'modify', '--uid', 'bench', '--max-buckets', '2000');
    await rig.t.call('object.bucket.create', { name: 'bench-data', owner: 'bench' });
    const s3 = rig.client(key.accessKey, key.secretKey);
    const bodies = Array.from({ length: OBJECTS }, () => randomBytes(MiB));
    const keys = bodies.map((_, i) => i);
    const total = OBJECTS * MiB;

    // the same bytes as files on the filesystem that holds the lab
    const dir = path.join(rig.lab.dir, 'bench-files');
    await mkdir(dir, { recursive: true });
    for (const conc of [1, 4]) {
      const put = await elapsed(() =>
        pool(keys, conc, (i) =>
          s3.send(new PutObjectCommand({ Bucket: 'bench-data', Key: `o-${conc}-${i}`, Body: bodies[i] })),
        ),
      );
      const get = await elapsed(() =>
        pool(keys, conc, async (i) => {
          const r = await s3.send(new GetObjectCommand({ Bucket: 'bench-data', Key: `o-${conc}-${i}` }));
          await r.Body!.transformToByteArray();
        }),
      );
      const write = await elapsed(() =>
        pool(keys, conc, (i) => writeFile(path.join(dir, `f-${conc}-${i}`), bodies[i]!)),
      );
      const read = await elapsed(() => pool(keys, conc, (i) => readFile(path.join(dir, `f-${conc}-${i}`))));
      out[`PUT 1 MiB × ${OBJECTS}, ${conc} in flight (MiB/s; files: MiB/s; ratio)`] = [
        rate(total, put),
        rate(total, write),
        Number((put / write).toFixed(1)),
      ];
      out[`GET 1 MiB × ${OBJECTS}, ${conc} in flight (MiB/s; files: MiB/s; ratio)`] = [
        rate(total, get),
        rate(total, read),
        Number((get / read).toFixed(1)),
      ];
    }
    await rm(dir, { recursive: true, force: true });

    const names = Array.from({ length: BUCKETS }, (_, i) => `b-${String(i).padStart(4, '0')}`);
    const made = await elapsed(() =>
      pool(names, 8, (Bucket) => s3.send(new CreateBucketCommand({ Bucket }))),
    );
    out[`create ${BUCKETS} buckets over S3, 8 in flight (s)`] = Number((made / 1000).toFixed(1));
    const c = rig.config.ceph!;
    const raw = [
      '-c',
      c.conf,
      '-n',
      c.adminName,
      '--keyring',
      c.adminKeyring!,
      'bucket',
      'stats',
      '--format',
      'json',
    ];
    let count = 0;
    const list = async () => (count = (await rig.t.call<{ total: number }>('object.bucket.list')).total);
    // the first call reads every bucket's index (nothing sampled yet); later ones are served
    // from the sample, refreshed in the background once it is older than 5 s
    const cold = await elapsed(list);
    const warmMs: number[] = [];
    const rawMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      warmMs.push(await elapsed(list));
      rawMs.push(await elapsed(() => exec('radosgw-admin', raw, { maxBuffer: 256 * MiB })));
    }
    if (count !== BUCKETS + 1) throw new Error(`bucket.list returned ${count} buckets`);
    out[`object.bucket.list, ${BUCKETS + 1} buckets with usage, sampled (median ms, goal ≤ 300)`] =
      Math.round(median(warmMs));
    out['object.bucket.list, first call: usage read from every bucket index (ms)'] = Math.round(cold);
    out['baseline: radosgw-admin bucket stats alone (median ms); first call / baseline'] = [
      Math.round(median(rawMs)),
      Number((cold / median(rawMs)).toFixed(2)),
    ];
  } finally {
    await rig.stop();
  }
  return out;
}

// `node --import tsx bench/object.ts` runs it alone
if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchObject();
  for (const [k, v] of Object.entries(r)) console.log(`${k}: ${JSON.stringify(v)}`);
}
