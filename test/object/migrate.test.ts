/**
 * Migration between two users on the real test gateway: the source is any S3 endpoint with its
 * credentials (here: user `src` of the same radosgw), the target buckets belong to `dst`. A job
 * aborted half-way leaves whole objects only; the resumed job copies exactly what is missing
 * (counted) and every object compares equal by MD5 of its bytes, a multipart one included.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { JobRecord } from '../../agent/jobs.js';
import type { NewKey } from '../../agent/object/model.js';
import { type ObjectRig, startObjectRig } from './helpers.js';

let rig: ObjectRig;
let src: NewKey;
let asSrc: S3Client;
let asDst: S3Client;
const MEDIA = 40;
const MiB = 1 << 20;

interface Report {
  copied: number;
  skipped: number;
  bytesCopied: number;
  bytesSkipped: number;
}

async function md5s(c: S3Client, bucket: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const l = await c.send(new ListObjectsV2Command({ Bucket: bucket }));
  for (const o of l.Contents ?? []) {
    const body = await (
      await c.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }))
    ).Body!.transformToByteArray();
    out.set(o.Key!, createHash('md5').update(body).digest('hex'));
  }
  return out;
}

const count = async (c: S3Client, bucket: string) =>
  (await c.send(new ListObjectsV2Command({ Bucket: bucket })).catch(() => ({ KeyCount: 0 }))).KeyCount ?? 0;

before(async () => {
  rig = await startObjectRig({ startGateway: true });
  src = (await rig.t.call<{ key: NewKey }>('object.user.create', { id: 'src', displayName: 'Source' })).key;
  const dst = (await rig.t.call<{ key: NewKey }>('object.user.create', { id: 'dst', displayName: 'Target' }))
    .key;
  asSrc = rig.client(src.accessKey, src.secretKey);
  asDst = rig.client(dst.accessKey, dst.secretKey);
  await rig.t.call('object.bucket.create', { name: 'media', owner: 'src' });
  await rig.t.call('object.bucket.create', { name: 'docs', owner: 'src' });
  for (let i = 0; i < MEDIA; i++)
    await asSrc.send(
      new PutObjectCommand({
        Bucket: 'media',
        Key: `clip-${String(i).padStart(2, '0')}`,
        Body: randomBytes(MiB),
      }),
    );
  for (let i = 0; i < 3; i++)
    await asSrc.send(
      new PutObjectCommand({
        Bucket: 'docs',
        Key: `dir/ä doc ${i}.txt`,
        Body: `text ${i}`,
        ContentType: 'text/plain',
      }),
    );
  // one multipart object: its ETag is not an MD5, so resuming compares the recorded source ETag
  const up = await asSrc.send(new CreateMultipartUploadCommand({ Bucket: 'docs', Key: 'big.bin' }));
  const parts = [];
  for (let n = 1; n <= 2; n++) {
    const r = await asSrc.send(
      new UploadPartCommand({
        Bucket: 'docs',
        Key: 'big.bin',
        UploadId: up.UploadId,
        PartNumber: n,
        Body: randomBytes(5 * MiB),
      }),
    );
    parts.push({ ETag: r.ETag, PartNumber: n });
  }
  await asSrc.send(
    new CompleteMultipartUploadCommand({
      Bucket: 'docs',
      Key: 'big.bin',
      UploadId: up.UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
});
after(async () => {
  await rig?.stop();
});

const params = () => ({
  source: { endpoint: rig.lab.endpoint, accessKey: src.accessKey, secretKey: src.secretKey },
  owner: 'dst',
  // one gateway, one bucket namespace: the copies get other names
  buckets: [
    { source: 'media', target: 'media-copy' },
    { source: 'docs', target: 'docs-copy' },
  ],
});

test('dry run: what would be copied, nothing created', async () => {
  const plan = await rig.t.call<{ dryRun: boolean; notes: string[] }>('object.migrate', {
    ...params(),
    dryRun: true,
  });
  assert.equal(plan.dryRun, true);
  assert.match(
    plan.notes[0]!,
    /^media → media-copy: would copy 40 objects \(41943040 bytes\); 0 already there$/,
  );
  assert.match(plan.notes[1]!, /^docs → docs-copy: would copy 4 objects/);
  const names = (await rig.t.call<{ items: { name: string }[] }>('object.bucket.list')).items
    .map((b) => b.name)
    .sort();
  assert.deepEqual(names, ['docs', 'media']);
});

test('abort half-way, resume copies only what is missing, objects equal by checksum', async () => {
  const { job } = await rig.t.call<{ job: string }>('object.migrate', params());
  // abort once some bytes have arrived
  let seen: JobRecord | undefined;
  for (;;) {
    seen = await rig.t.call<JobRecord>('job.get', { id: job });
    if (seen.state !== 'running' && seen.state !== 'waiting') break;
    if (seen.progress.percent >= 25) {
      await rig.t.call('job.abort', { id: job });
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.match(seen.progress.description, /of \d+ bytes/);
  const aborted = await rig.t.waitJob(job);
  assert.equal(aborted.state, 'aborted', 'the job was still running when aborted');
  const arrived = (await count(asDst, 'media-copy')) + (await count(asDst, 'docs-copy'));
  assert.ok(arrived > 0 && arrived < MEDIA + 4, `partly copied: ${arrived}`);

  const { job: job2 } = await rig.t.call<{ job: string }>('object.migrate', params());
  const done = await rig.t.waitJob(job2);
  assert.equal(done.state, 'success', JSON.stringify(done.error));
  const r = done.result as Report;
  assert.equal(r.skipped, arrived, 'what arrived before the abort is not copied again');
  assert.equal(r.copied, MEDIA + 4 - arrived);

  assert.deepEqual(await md5s(asDst, 'media-copy'), await md5s(asSrc, 'media'));
  assert.deepEqual(await md5s(asDst, 'docs-copy'), await md5s(asSrc, 'docs'));
  const b = await rig.t.call<{ owner: string; usage: { objects: number } }>('object.bucket.get', {
    name: 'media-copy',
  });
  assert.equal(b.owner, 'dst');
  assert.equal(b.usage.objects, MEDIA);
});

test('a third run copies nothing (the multipart object is recognised by its source ETag)', async () => {
  const { job } = await rig.t.call<{ job: string }>('object.migrate', params());
  const done = await rig.t.waitJob(job);
  const r = done.result as Report;
  assert.equal(r.copied, 0);
  assert.equal(r.skipped, MEDIA + 4);
  assert.equal(r.bytesSkipped, MEDIA * MiB + 10 * MiB + 3 * 6);
});

test('a bucket of another user is not written into; a wrong source secret is refused', async () => {
  await rig.t.call('object.bucket.create', { name: 'taken', owner: 'src' });
  const { job } = await rig.t.call<{ job: string }>('object.migrate', {
    ...params(),
    buckets: [{ source: 'docs', target: 'taken' }],
  });
  const j = await rig.t.waitJob(job);
  assert.equal(j.state, 'failed');
  assert.equal((j.error?.data as { kind?: string } | undefined)?.kind, 'conflict');
  const { job: j2 } = await rig.t.call<{ job: string }>('object.migrate', {
    ...params(),
    source: { endpoint: rig.lab.endpoint, accessKey: src.accessKey, secretKey: 'wrong-secret' },
  });
  const bad = await rig.t.waitJob(j2);
  assert.equal(bad.state, 'failed');
  assert.equal((bad.error?.data as { kind?: string } | undefined)?.kind, 'denied');
  // the secret is in no job record and no audit record
  const audit = JSON.stringify(await rig.t.call('audit.query', { limit: 200 }));
  assert.ok(!audit.includes(src.secretKey));
  assert.ok(!JSON.stringify(await rig.t.call('job.list', {})).includes(src.secretKey));
});
