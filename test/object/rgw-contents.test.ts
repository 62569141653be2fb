/**
 * Bucket usage an S3 client can see (issue #22), on a real Ceph RADOS Gateway: an unfinished
 * multipart upload and the versions and delete markers of a versioned bucket, made with the AWS
 * SDK as the bucket's owner, are reported as separate named fields (`contents`), beside what RGW
 * counts (`usage`, what the quota limits); stale uploads are aborted by
 * object.bucket.abortMultipart (dry run first, audited), after which no listing shows them.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { Bucket, Contents, NewKey } from '../../agent/object/model.js';
import { eventually, type ObjectRig, startObjectRig } from './helpers.js';

let rig: ObjectRig;
let s3: S3Client;
const MiB = 1024 * 1024;

type WithContents = Bucket & { contents?: Contents; contentsUnavailable?: string };
const get = (name: string) => rig.t.call<WithContents>('object.bucket.get', { name });

before(async () => {
  rig = await startObjectRig({ startGateway: true });
  const { key } = await rig.t.call<{ key: NewKey }>('object.user.create', {
    id: 'carol',
    displayName: 'Carol',
  });
  s3 = rig.client(key.accessKey, key.secretKey);
  await rig.t.call('object.bucket.create', { name: 'uploads', owner: 'carol' });
  await rig.t.call('object.bucket.create', { name: 'history', owner: 'carol' });
  await rig.t.call('object.bucket.versioning', { name: 'history', enabled: true });
});
after(async () => {
  await rig?.stop();
});

test('an unfinished multipart upload is counted apart, not as objects', async (t) => {
  await s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'small', Body: 'x'.repeat(10) }));
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'uploads', Key: 'big' }));
  for (const PartNumber of [1, 2])
    await s3.send(
      new UploadPartCommand({
        Bucket: 'uploads',
        Key: 'big',
        UploadId: up.UploadId,
        PartNumber,
        Body: Buffer.alloc(MiB),
      }),
    );
  const b = await get('uploads');
  assert.equal(b.contentsUnavailable, undefined);
  const c = b.contents!;
  assert.equal(c.currentObjects, 1, 'a listing shows one object');
  assert.equal(c.currentBytes, 10);
  assert.equal(c.versions, 1);
  assert.equal(c.deleteMarkers, 0);
  assert.equal(c.multipartUploads, 1);
  assert.equal(c.multipartParts, 2);
  assert.equal(c.multipartBytes, 2 * MiB);
  assert.ok(c.oldestUpload);
  assert.equal(c.complete, true);
  // what RGW counts (and the quota limits) includes the parts: the gap the contents explain
  assert.ok(
    await eventually(async () => (await get('uploads')).usage.bytes >= 10 + 2 * MiB),
    `RGW usage counts the parts: ${JSON.stringify((await get('uploads')).usage)}`,
  );
  t.diagnostic(`RGW usage ${JSON.stringify((await get('uploads')).usage)}; contents ${JSON.stringify(c)}`);
});

test('a versioned bucket: current objects, every version and delete markers, each named', async () => {
  await s3.send(new PutObjectCommand({ Bucket: 'history', Key: 'k', Body: 'v1-aa' }));
  await s3.send(new PutObjectCommand({ Bucket: 'history', Key: 'k', Body: 'v2-aaaa' }));
  await s3.send(new PutObjectCommand({ Bucket: 'history', Key: 'gone', Body: 'abc' }));
  await s3.send(new DeleteObjectCommand({ Bucket: 'history', Key: 'gone' }));
  const c = (await get('history')).contents!;
  assert.equal(c.currentObjects, 1, 'only k is listed');
  assert.equal(c.currentBytes, 7);
  assert.equal(c.versions, 3, 'k twice and gone once');
  assert.equal(c.versionBytes, 5 + 7 + 3);
  assert.equal(c.noncurrentVersions, 2);
  assert.equal(c.deleteMarkers, 1);
  assert.equal(c.multipartUploads, 0);
  const listed = (await rig.t.call<{ items: WithContents[] }>('object.bucket.list', { contents: true }))
    .items;
  assert.deepEqual(listed.map((x) => [x.name, x.contents?.currentObjects, x.contents?.versions]).sort(), [
    ['history', 1, 3],
    ['uploads', 1, 1],
  ]);
  assert.equal(
    (await rig.t.call<{ items: WithContents[] }>('object.bucket.list')).items[0]?.contents,
    undefined,
  );
});

test('stale multipart uploads are aborted: dry run first, only those old enough, audited', async () => {
  const dry = await rig.t.call<{ notes: string[] }>('object.bucket.abortMultipart', {
    bucket: 'uploads',
    olderThanHours: 0,
    dryRun: true,
  });
  assert.ok(
    dry.notes.some((n) => /s3 AbortMultipartUpload .*"Key":"big"/.test(n)),
    JSON.stringify(dry.notes),
  );
  assert.equal((await get('uploads')).contents?.multipartUploads, 1, 'the dry run changed nothing');

  // the default: only uploads started more than 24 h ago; this one is fresh
  const fresh = await rig.t.call<{ aborted: unknown[] }>('object.bucket.abortMultipart', {
    bucket: 'uploads',
  });
  assert.deepEqual(fresh.aborted, []);

  const r = await rig.t.call<{ aborted: { key: string; uploadId: string }[] }>(
    'object.bucket.abortMultipart',
    {
      bucket: 'uploads',
      olderThanHours: 0,
    },
  );
  assert.deepEqual(
    r.aborted.map((u) => u.key),
    ['big'],
  );
  const planned = dry.notes.flatMap((n) => /"UploadId":"([^"]+)"/.exec(n)?.[1] ?? []);
  assert.deepEqual(
    planned,
    r.aborted.map((u) => u.uploadId),
    'the dry run listed exactly the uploads the real run aborted',
  );
  const left = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'uploads' }));
  assert.equal(left.Uploads?.length ?? 0, 0, 'the S3 client sees no upload left');
  const c = (await get('uploads')).contents!;
  assert.equal(c.multipartUploads, 0);
  assert.equal(c.multipartBytes, 0);
  const rec = rig.t.deps.audit.query({ method: 'object.bucket.abortMultipart', limit: 1 }).items[0];
  assert.equal(rec?.outcome, 'ok');
  assert.equal((rec?.detail as { aborted?: number } | undefined)?.aborted, 1);
});
