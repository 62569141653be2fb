/**
 * radosgw-admin parsers and argv builders, on outputs recorded from Ceph 16.2.15 (the lab in
 * ceph-lab.ts): test/object/fixtures/radosgw-admin-16.2.15.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { radosgwStart, rgw, rgwFrontends } from '../../agent/object/commands.js';
import {
  firstSecretOf,
  isNoSuchBucket,
  isNoSuchUser,
  newKeyOf,
  parseBucketStats,
  parseUser,
  parseUserList,
} from '../../agent/object/parse-rgw.js';
import { repoRoot } from '../helpers/paths.js';

// read from the sources' tree, also when the tests run from dist/
const dir = path.join(repoRoot(), 'test', 'object', 'fixtures', 'radosgw-admin-16.2.15');
const fx = (f: string) => readFileSync(path.join(dir, f), 'utf8');

test('user info: keys without secrets, flags, email', () => {
  const u = parseUser(fx('user-info.json'));
  assert.equal(u.id, 'alice');
  assert.equal(u.displayName, 'Alice Example');
  assert.equal(u.email, 'alice@example.org');
  assert.equal(u.suspended, false);
  assert.equal(u.keys.length, 2);
  assert.ok(!JSON.stringify(u).includes('secret'), 'a parsed user carries no secret');
  assert.equal(parseUser(fx('user-suspend.json')).suspended, true);
});

test('new key: the one key that was not there before, with its secret', () => {
  const before = parseUser(fx('user-create.json')).keys.map((k) => k.accessKey);
  assert.equal(before.length, 1);
  const k = newKeyOf(fx('key-create.json'), before);
  assert.equal(k.user, 'alice');
  assert.notEqual(k.accessKey, before[0]);
  assert.match(k.secretKey, /^[A-Za-z0-9]{40}$/);
  // user create: every key is new
  assert.equal(newKeyOf(fx('user-create.json'), []).accessKey, before[0]);
  assert.throws(() => newKeyOf(fx('key-create.json'), []), /expected one new key, found 2/);
  assert.ok(firstSecretOf(fx('user-info.json'))?.secretKey);
});

test('bucket stats: usage summed over categories, quota, owner; one bucket or all', () => {
  const all = parseBucketStats(fx('bucket-stats-all.json'));
  assert.deepEqual(
    all.map((b) => b.name),
    ['alpha', 'empty-one'],
  );
  const alpha = all[0]!;
  assert.equal(alpha.owner, 'alice');
  assert.deepEqual(alpha.usage, { bytes: 30000, objects: 3 });
  assert.deepEqual(alpha.quota, { enabled: true, maxSize: 1048576, maxObjects: 100 });
  assert.deepEqual(all[1]!.usage, { bytes: 0, objects: 0 });
  assert.deepEqual(all[1]!.quota, { enabled: false });
  assert.deepEqual(parseBucketStats(fx('bucket-stats-one.json')), [alpha]);
});

test('lists and error texts', () => {
  assert.deepEqual(parseUserList(fx('user-list.json')), ['alice', 'bob']);
  assert.throws(() => parseUserList('{"x":1}'), /array of ids/);
  assert.ok(isNoSuchUser(fx('user-info-nosuch.json.stderr')));
  assert.ok(isNoSuchBucket(210, fx('bucket-stats-nosuch.json.stderr')));
  assert.ok(!isNoSuchUser(fx('user-create-exists.json.stderr')));
});

test('argv: -c always, values as option values, --format json last', () => {
  const c = { conf: '/x/ceph.conf', name: 'client.admin', keyring: '/x/k' };
  assert.deepEqual(rgw.userInfo(c, 'alice'), [
    'radosgw-admin',
    '-c',
    '/x/ceph.conf',
    '-n',
    'client.admin',
    '--keyring',
    '/x/k',
    'user',
    'info',
    '--uid',
    'alice',
    '--format',
    'json',
  ]);
  assert.deepEqual(rgw.quotaSet(c, 'b', undefined, 10).slice(7, -2), [
    'quota',
    'set',
    '--quota-scope',
    'bucket',
    '--bucket',
    'b',
    '--max-size',
    '-1',
    '--max-objects',
    '10',
  ]);
  assert.ok(rgw.bucketRm(c, 'b', true).includes('--purge-objects'));
  assert.ok(!rgw.bucketRm(c, 'b', false).includes('--purge-objects'));
  const g = {
    conn: c,
    address: '::1',
    port: 7480,
    data: '/d',
    pidFile: '/r/p',
    adminSocket: '/r/a',
    logFile: '/l',
  };
  assert.equal(rgwFrontends(g), 'beast endpoint=[::1]:7480');
  assert.equal(
    rgwFrontends({ ...g, address: '127.0.0.1', tls: { cert: '/t/cert.pem', key: '/t/key.pem' } }),
    'beast ssl_endpoint=127.0.0.1:7480 ssl_certificate=/t/cert.pem ssl_private_key=/t/key.pem',
  );
  assert.deepEqual(radosgwStart(g).slice(0, 3), ['radosgw', '-c', '/x/ceph.conf']);
});
