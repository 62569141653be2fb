/**
 * Immutable copies on a real Ceph RADOS Gateway: Object Lock (governance and compliance), the
 * immutable target made in one call (a writer that may put but never delete), and lifecycle
 * rules run with `rgw_lc_debug_interval` (a lifecycle day lasts 10 s here) so that expired
 * versions go while the test waits. Independent AWS SDK clients with the writer's key and the
 * agent's admin key check every promise.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ADMIN_ACCESS_KEY, ADMIN_SECRET_KEY } from '../../agent/object/context.js';
import type { NewKey } from '../../agent/object/model.js';
import { eventually, type ObjectRig, s3Error, startObjectRig } from './helpers.js';

let rig: ObjectRig;
let adminC: S3Client | undefined;
/** The agent's admin key (secrets.env), once the agent has made its system user. */
const admin = () => {
  const s = rig.t.deps.secrets;
  adminC ??= rig.client(s.get(ADMIN_ACCESS_KEY)!, s.get(ADMIN_SECRET_KEY)!);
  return adminC;
};

const kindOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as { data?: { kind?: string }; kind?: string }).data?.kind ?? (e as { kind?: string }).kind;
  }
};
const put = async (c: S3Client, Bucket: string, Key: string, Body: string) =>
  (await c.send(new PutObjectCommand({ Bucket, Key, Body }))).VersionId!;
const get = async (c: S3Client, Bucket: string, Key: string, VersionId?: string) =>
  (await c.send(new GetObjectCommand({ Bucket, Key, VersionId }))).Body!.transformToString();
const delVersion = (c: S3Client, Bucket: string, Key: string, VersionId: string, bypass = false) =>
  c.send(
    new DeleteObjectCommand({
      Bucket,
      Key,
      VersionId,
      ...(bypass ? { BypassGovernanceRetention: true } : {}),
    }),
  );
const versions = async (c: S3Client, Bucket: string) =>
  ((await c.send(new ListObjectVersionsCommand({ Bucket }))).Versions ?? []).map((v) => v.VersionId);

interface Target {
  endpoint: string;
  bucket: string;
  key: NewKey;
  lock: { enabled: boolean; mode?: string; days?: number };
}

before(async () => {
  rig = await startObjectRig({ startGateway: true, lcDebugInterval: 10 });
});
after(async () => {
  await rig?.stop();
});

test('immutable target, governance: the writer puts but never deletes; the admin only with the bypass header', async () => {
  const dry = await rig.t.call<{ dryRun: true; notes: string[] }>('object.target.immutable.create', {
    bucket: 'vault-gov',
    user: 'gov-writer',
    mode: 'governance',
    days: 1,
    dryRun: true,
  });
  const notes = dry.notes.join('\n');
  assert.match(notes, /s3 CreateBucket \{"Bucket":"vault-gov","ObjectLockEnabledForBucket":true\}/);
  assert.match(notes, /s3 PutObjectLockConfiguration .*"Mode":"GOVERNANCE","Days":1/);
  assert.match(notes, /s3 PutBucketPolicy .*Deny.*s3:DeleteObjectVersion/);
  assert.deepEqual(
    await rig.t.call('object.user.list'),
    { items: [], total: 0 },
    'the dry run created nothing',
  );

  const t = await rig.t.call<Target>('object.target.immutable.create', {
    bucket: 'vault-gov',
    user: 'gov-writer',
    mode: 'governance',
    days: 1,
  });
  assert.equal(t.endpoint, rig.lab.endpoint);
  assert.deepEqual(t.lock, { name: 'vault-gov', enabled: true, mode: 'governance', days: 1 });
  assert.equal(t.key.user, 'gov-writer');
  const w = rig.client(t.key.accessKey, t.key.secretKey);

  const v1 = await put(w, 'vault-gov', 'backup.tar', 'first');
  const v2 = await put(w, 'vault-gov', 'backup.tar', 'second');
  assert.notEqual(v1, v2);
  // an overwrite is a new version: the locked one is still there
  assert.equal(await get(w, 'vault-gov', 'backup.tar', v1), 'first');

  assert.equal((await s3Error(delVersion(w, 'vault-gov', 'backup.tar', v1)))?.status, 403, 'writer: version');
  assert.equal(
    (await s3Error(delVersion(w, 'vault-gov', 'backup.tar', v1, true)))?.status,
    403,
    'writer: bypass',
  );
  assert.equal(
    (await s3Error(w.send(new DeleteObjectCommand({ Bucket: 'vault-gov', Key: 'backup.tar' }))))?.status,
    403,
    'writer: not even a delete marker',
  );
  assert.equal(
    (await s3Error(w.send(new DeleteBucketPolicyCommand({ Bucket: 'vault-gov' }))))?.status,
    403,
    'writer: cannot drop the policy that binds it',
  );
  assert.equal(
    await kindOf(
      rig.t.call(
        'object.bucket.lock.set',
        { name: 'vault-gov', mode: null, dryRun: false },
        { role: 'operator' },
      ),
    ),
    'denied',
  );

  // the admin: refused within the retention, allowed with the governance bypass
  assert.ok(await s3Error(delVersion(admin(), 'vault-gov', 'backup.tar', v1)), 'admin without bypass');
  assert.deepEqual(await versions(admin(), 'vault-gov'), [v2, v1]);
  await delVersion(admin(), 'vault-gov', 'backup.tar', v1, true);
  assert.deepEqual(await versions(admin(), 'vault-gov'), [v2]);
});

test('immutable target: object.policy.set merges with its Deny, never replaces it', async () => {
  const t = await rig.t.call<Target>('object.target.immutable.create', {
    bucket: 'vault-pol',
    user: 'pol-writer',
    mode: 'governance',
    days: 1,
  });
  const w = rig.client(t.key.accessKey, t.key.secretKey);
  const v1 = await put(w, 'vault-pol', 'a.tar', 'one');
  const allowAll = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: ['arn:aws:iam:::user/pol-writer'] },
        Action: ['s3:*'],
        Resource: ['arn:aws:s3:::vault-pol', 'arn:aws:s3:::vault-pol/*'],
      },
    ],
  });
  const dry = await rig.t.call<{ notes: string[] }>('object.policy.set', {
    bucket: 'vault-pol',
    policy: allowAll,
    dryRun: true,
  });
  assert.match(dry.notes.join('\n'), /PutBucketPolicy .*Allow.*CalypsoImmutable[0-9a-f]+.*Deny/);
  for (const policy of [allowAll, null]) {
    await rig.t.call('object.policy.set', { bucket: 'vault-pol', policy });
    const doc = JSON.parse(
      (await rig.t.call<{ policy: string }>('object.policy.get', { bucket: 'vault-pol' })).policy,
    ) as { Statement: { Sid?: string; Effect: string }[] };
    assert.ok(
      doc.Statement.some((x) => x.Effect === 'Deny' && x.Sid?.startsWith('CalypsoImmutable')),
      `the Deny is kept (policy ${policy === null ? 'null' : 'allow-all'})`,
    );
    assert.equal(
      (await s3Error(delVersion(w, 'vault-pol', 'a.tar', v1, true)))?.status,
      403,
      'the writer still cannot delete',
    );
    assert.equal(
      (await s3Error(w.send(new DeleteBucketPolicyCommand({ Bucket: 'vault-pol' }))))?.status,
      403,
      'nor drop the policy',
    );
  }
  const reserved = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ ...JSON.parse(allowAll).Statement[0], Sid: 'CalypsoImmutable00' }],
  });
  await assert.rejects(
    rig.t.call('object.policy.set', { bucket: 'vault-pol', policy: reserved }),
    (e: { kind?: string; message: string }) => e.kind === 'invalid' && /reserved/.test(e.message),
  );
  assert.equal(await get(w, 'vault-pol', 'a.tar', v1), 'one');
});

test('immutable target, compliance: nobody deletes a version within its retention, not even the admin', async () => {
  const t = await rig.t.call<Target>('object.target.immutable.create', {
    bucket: 'vault-comp',
    user: 'comp-writer',
    mode: 'compliance',
    years: 1,
  });
  assert.deepEqual(t.lock, { name: 'vault-comp', enabled: true, mode: 'compliance', years: 1 });
  const w = rig.client(t.key.accessKey, t.key.secretKey);
  const v1 = await put(w, 'vault-comp', 'db.dump', 'locked');
  await put(w, 'vault-comp', 'db.dump', 'newer');
  assert.equal((await s3Error(delVersion(w, 'vault-comp', 'db.dump', v1)))?.status, 403);
  assert.ok(await s3Error(delVersion(admin(), 'vault-comp', 'db.dump', v1)), 'admin');
  assert.ok(await s3Error(delVersion(admin(), 'vault-comp', 'db.dump', v1, true)), 'admin with bypass');
  assert.equal(await get(admin(), 'vault-comp', 'db.dump', v1), 'locked');
  // a second target of the same name or user is refused, nothing changed
  assert.equal(
    await kindOf(
      rig.t.call('object.target.immutable.create', {
        bucket: 'vault-comp',
        user: 'x1',
        mode: 'governance',
        days: 1,
      }),
    ),
    'conflict',
  );
  assert.ok(
    !(await rig.t.call<{ items: { id: string }[] }>('object.user.list')).items.some((u) => u.id === 'x1'),
  );
});

test('lock.set: refused with the reason on a bucket made without lock; sets and reads a default retention', async () => {
  await rig.t.call('object.user.create', { id: 'owner', displayName: 'Owner' });
  await rig.t.call('object.bucket.create', { name: 'plain', owner: 'owner' });
  assert.deepEqual(await rig.t.call('object.bucket.lock.get', { name: 'plain' }), {
    name: 'plain',
    enabled: false,
  });
  await assert.rejects(
    rig.t.call('object.bucket.lock.set', { name: 'plain', mode: 'governance', days: 3 }),
    (e: Error) => /created without Object Lock.*only when a bucket is created/.test(e.message),
  );
  await rig.t.call('object.bucket.create', { name: 'locked', owner: 'owner', objectLock: true });
  assert.deepEqual(await rig.t.call('object.bucket.lock.get', { name: 'locked' }), {
    name: 'locked',
    enabled: true,
  });
  assert.equal(
    await rig.t
      .call('object.bucket.get', { name: 'locked' })
      .then((b) => (b as { versioning: string }).versioning),
    'enabled',
  );
  for (const bad of [
    { mode: 'governance' },
    { mode: 'governance', days: 1, years: 1 },
    { mode: 'strict', days: 1 },
    { mode: null, days: 2 },
  ])
    assert.equal(
      await kindOf(rig.t.call('object.bucket.lock.set', { name: 'locked', ...bad })),
      'invalid',
      JSON.stringify(bad),
    );
  const dry = await rig.t.call<{ notes: string[] }>('object.bucket.lock.set', {
    name: 'locked',
    mode: 'compliance',
    days: 5,
    dryRun: true,
  });
  assert.match(dry.notes.join('\n'), /PutObjectLockConfiguration .*"Mode":"COMPLIANCE","Days":5/);
  assert.deepEqual(await rig.t.call('object.bucket.lock.get', { name: 'locked' }), {
    name: 'locked',
    enabled: true,
  });
  assert.deepEqual(
    await rig.t.call('object.bucket.lock.set', { name: 'locked', mode: 'governance', days: 3 }),
    {
      name: 'locked',
      enabled: true,
      mode: 'governance',
      days: 3,
    },
  );
});

test('lifecycle: set, read back, validated; noncurrent versions go after a (debug) day', {
  timeout: 240_000,
}, async () => {
  const owner = (
    await rig.t.call<{ key: NewKey }>('object.user.create', { id: 'lc-owner', displayName: 'LC' })
  ).key;
  await rig.t.call('object.bucket.create', { name: 'aging', owner: 'lc-owner' });
  assert.equal(
    await kindOf(rig.t.call('object.bucket.lifecycle.set', { name: 'aging', noncurrentDays: 1 })),
    'invalid',
    'not versioned',
  );
  assert.equal(
    await kindOf(rig.t.call('object.bucket.lifecycle.set', { name: 'aging', expireDays: 0 })),
    'invalid',
  );
  await rig.t.call('object.bucket.versioning', { name: 'aging', enabled: true });
  const dry = await rig.t.call<{ notes: string[] }>('object.bucket.lifecycle.set', {
    name: 'aging',
    noncurrentDays: 1,
    abortMultipartDays: 2,
    dryRun: true,
  });
  assert.match(
    dry.notes.join('\n'),
    /PutBucketLifecycleConfiguration .*"NoncurrentDays":1.*"DaysAfterInitiation":2/,
  );
  assert.deepEqual(await rig.t.call('object.bucket.lifecycle.get', { name: 'aging' }), { name: 'aging' });
  assert.deepEqual(
    await rig.t.call('object.bucket.lifecycle.set', {
      name: 'aging',
      noncurrentDays: 1,
      abortMultipartDays: 2,
    }),
    { name: 'aging', noncurrentDays: 1, abortMultipartDays: 2 },
  );
  const c = rig.client(owner.accessKey, owner.secretKey);
  const old = await put(c, 'aging', 'k', 'old');
  const cur = await put(c, 'aging', 'k', 'current');
  assert.deepEqual(await versions(c, 'aging'), [cur, old]);
  const gone = await eventually(async () => {
    await rig.lab.admin('lc', 'process');
    return JSON.stringify(await versions(c, 'aging')) === JSON.stringify([cur]);
  }, 180_000);
  assert.ok(gone, `the noncurrent version is still there: ${JSON.stringify(await versions(c, 'aging'))}`);
  assert.equal(await get(c, 'aging', 'k'), 'current');
  // all ages off removes the rule
  assert.deepEqual(
    await rig.t.call('object.bucket.lifecycle.set', {
      name: 'aging',
      noncurrentDays: null,
      abortMultipartDays: null,
    }),
    { name: 'aging' },
  );
});
