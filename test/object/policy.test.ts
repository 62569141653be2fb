/** Bucket names (S3 rules) and bucket policies: canned grants and the custom-policy check. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { BucketName, bucketNameProblem, UserId } from '../../agent/object/model.js';
import { checkPolicy, grantStatements, grantsOf, withGrant } from '../../agent/object/policy.js';

test('bucket names: S3 rules', () => {
  for (const ok of ['abc', 'my-bucket', 'my.bucket.2', 'a'.repeat(63), '0-backups'])
    assert.equal(bucketNameProblem(ok), undefined, ok);
  const bad: [string, RegExp][] = [
    ['ab', /3–63/],
    ['a'.repeat(64), /3–63/],
    ['Caps', /3–63/],
    ['under_score', /3–63/],
    ['-lead', /3–63/],
    ['trail-', /3–63/],
    ['10.0.0.1', /IP address/],
    ['a..b', /adjacent periods/],
    ['a.-b', /next to a hyphen/],
    ['xn--abc', /reserved prefix/],
    ['sthree-x', /reserved prefix/],
    ['x-s3alias', /reserved suffix/],
    ['x--ol-s3', /reserved suffix/],
  ];
  for (const [name, why] of bad) assert.match(bucketNameProblem(name) ?? '', why, name);
  // the schema alone already refuses what can read as an option or break a path
  const check = TypeCompiler.Compile(BucketName);
  for (const name of ['-rf', 'a/b', 'a b', 'a\nb', '']) assert.equal(check.Check(name), false, name);
  const uid = TypeCompiler.Compile(UserId);
  for (const id of ['-x', 'a$b', 'a b', 'tenant$user', '']) assert.equal(uid.Check(id), false, id);
  assert.equal(uid.Check('alice@example.org'), true);
});

test('canned grants: statements by Sid, replaced per user, read back', () => {
  const [b, o] = grantStatements('photos', 'bob', 'read-only');
  assert.deepEqual(b!.Resource, ['arn:aws:s3:::photos']);
  assert.deepEqual(o!.Resource, ['arn:aws:s3:::photos/*']);
  assert.ok(!(o!.Action as string[]).includes('s3:PutObject'), 'read-only cannot put');
  const [, wo] = grantStatements('photos', 'bob', 'write-only');
  assert.ok(!(wo!.Action as string[]).includes('s3:GetObject'), 'write-only cannot get');
  let doc = withGrant('photos', undefined, 'bob', 'read-only');
  doc = withGrant('photos', doc, 'carol@x.org', 'write-only');
  doc = withGrant('photos', doc, 'bob', 'read-write');
  assert.deepEqual(grantsOf('photos', doc), [
    { bucket: 'photos', user: 'carol@x.org', access: 'write-only' },
    { bucket: 'photos', user: 'bob', access: 'read-write' },
  ]);
  assert.equal(doc!.Statement.length, 4);
  doc = withGrant('photos', doc, 'bob', undefined);
  doc = withGrant('photos', doc, 'carol@x.org', undefined);
  assert.equal(doc, undefined, 'no statement left: no policy');
});

test('custom policies: JSON, principals, actions, resources', () => {
  const users = new Set(['bob']);
  const pol = (s: Record<string, unknown>) =>
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: ['arn:aws:iam:::user/bob'] },
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::photos/*',
          ...s,
        },
      ],
    });
  assert.ok('doc' in checkPolicy(pol({}), 'photos', users));
  assert.ok(
    'doc' in checkPolicy(pol({ Principal: '*', Action: ['s3:Get*', 's3:ListBucket'] }), 'photos', users),
  );
  const problems = (text: string) => {
    const r = checkPolicy(text, 'photos', users);
    return 'problems' in r ? r.problems.join('; ') : '';
  };
  assert.match(problems('{"Version": '), /not valid JSON/);
  assert.match(problems('[]'), /JSON object/);
  assert.match(problems(pol({ Principal: { AWS: 'arn:aws:iam:::user/mallory' } })), /unknown user mallory/);
  assert.match(problems(pol({ Principal: { AWS: 'bob' } })), /not arn:aws:iam/);
  assert.match(problems(pol({ Action: 'iam:CreateUser' })), /not an S3 bucket or object action/);
  assert.match(problems(pol({ Action: 's3:CreateBucket' })), /not an S3 bucket or object action/);
  assert.match(problems(pol({ Resource: 'arn:aws:s3:::other/*' })), /outside bucket photos/);
  assert.match(problems(pol({ Resource: 'arn:aws:s3:::photosX' })), /outside bucket photos/);
  assert.match(problems(pol({ Effect: 'Maybe' })), /Effect/);
  assert.match(problems(pol({ NotPrincipal: '*' })), /NotPrincipal is not supported/);
  assert.match(problems(JSON.stringify({ Version: '2012-10-17', Statement: [] })), /at least one/);
  assert.match(problems(JSON.stringify({ Version: '2020-01-01', Statement: [] })), /Version/);
});
