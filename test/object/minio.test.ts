/**
 * MinIO on handwritten `mc --json` outputs (test/fixtures/minio; no MinIO server runs here: its
 * community repository was archived upstream in 2026 and Debian has no package) and its
 * environment file rendered through the real managed-config pipeline (LMDB, atomic writes,
 * history) of an in-process agent.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { readableValue } from '../../agent/config-set/versions.js';
import { createLayout } from '../../agent/layout.js';
import { MinioBackend } from '../../agent/object/backend-minio.js';
import { mcAdmin } from '../../agent/object/commands.js';
import { ADMIN_SECRET_KEY, type ObjectContext } from '../../agent/object/context.js';
import { minioCertsDir, minioEnvFile } from '../../agent/object/minio-env.js';
import {
  jsonSequence,
  mcError,
  parseAccessKeys,
  parseDu,
  parseNewAccessKey,
  parseQuotaInfo,
  parseUserList,
} from '../../agent/object/parse-mc.js';
import { createObjectService } from '../../agent/object/service.js';
import type { Runner, RunOptions, RunResult } from '../../agent/runner.js';
import { startTestAgent } from '../helpers/agent.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const dir = path.join(repoRoot(), 'test', 'fixtures', 'minio', 'mc-RELEASE.2024');
const fx = (f: string) => readFileSync(path.join(dir, f), 'utf8');

test('mc --json: a sequence of indented messages; errors are messages too', () => {
  assert.equal(jsonSequence(fx('user-list.json')).length, 2);
  assert.deepEqual(parseUserList(fx('user-list.json')), [
    { id: 'alice', displayName: 'alice', suspended: false, keys: [] },
    { id: 'backup-svc', displayName: 'backup-svc', suspended: true, keys: [] },
  ]);
  assert.deepEqual(
    parseAccessKeys(fx('accesskey-ls.json'), 'alice').map((k) => k.accessKey),
    ['Q3AM3UQ867SPQQA43P2F', 'AKIAZ7EXAMPLE2KEY'],
  );
  const k = parseNewAccessKey(fx('accesskey-create.json'), 'alice');
  assert.deepEqual([k.user, k.accessKey], ['alice', 'Q3AM3UQ867SPQQA43P2F']);
  assert.ok(k.secretKey.length >= 40);
  assert.deepEqual(parseDu(fx('du-bucket.json')), { bytes: 31457280, objects: 42 });
  assert.deepEqual(parseQuotaInfo(fx('quota-info.json')), { enabled: true, maxSize: 1073741824 });
  assert.deepEqual(parseQuotaInfo(fx('quota-info-none.json')), { enabled: false });
  assert.match(mcError(fx('error-no-such-user.json')) ?? '', /user does not exist/);
  assert.throws(() => parseUserList(fx('error-no-such-user.json')), /user does not exist/);
  // braces inside strings do not split messages
  assert.equal(jsonSequence('{"a":"}{"}\n{"b":"\\"{"}').length, 2);
});

/** A runner that answers mc commands from the fixtures and records what it was given. */
function fakeMc(): Runner & { calls: { argv: string[]; opts: RunOptions }[] } {
  const calls: { argv: string[]; opts: RunOptions }[] = [];
  const answer = (argv: string[]): string => {
    const a = argv.join(' ');
    if (a.includes('admin user list')) return fx('user-list.json');
    if (a.includes('admin accesskey ls')) return fx('accesskey-ls.json');
    if (a.includes('admin accesskey create')) return fx('accesskey-create.json');
    if (a.includes('admin user add')) return fx('user-add.json');
    return '{"status":"success"}';
  };
  return {
    calls,
    which: (n) => (n === 'mc' ? '/usr/bin/mc' : undefined),
    async run(argv, opts = {}): Promise<RunResult> {
      calls.push({ argv: [...argv], opts });
      return {
        argv: [...argv],
        code: 0,
        stdout: answer([...argv]),
        stderr: '',
        durationMs: 1,
        truncated: false,
      };
    },
    spawn() {
      throw new Error('not used');
    },
  };
}

test('MinIO backend: credentials in the environment, a new user’s secret on stdin, never in argv', async () => {
  const runner = fakeMc();
  const secrets = new Map([[ADMIN_SECRET_KEY, 'root-secret/with+chars']]);
  const tmp = tempDir();
  after(tmp.cleanup);
  const backend = new MinioBackend({
    deps: { secrets, layout: createLayout(tmp.dir) } as never,
    cfg: { adminUser: 'calypso-admin' } as never,
    runner,
    endpoint: 'http://127.0.0.1:9000',
  });
  const users = await backend.listUsers();
  assert.deepEqual(users[0]!.keys.length, 2);
  const env = runner.calls[0]!.opts.env!;
  assert.equal(env.MC_HOST_calypso, 'http://calypso-admin:root-secret%2Fwith%2Bchars@127.0.0.1:9000');
  assert.ok(!runner.calls.some((c) => c.argv.join(' ').includes('root-secret')));

  const plan = await backend.createUser({ id: 'carol' });
  assert.deepEqual((plan.steps[0] as { argv: string[] }).argv, mcAdmin.userAdd('carol'));
  const r = await backend.run(plan);
  const add = runner.calls.at(-1)!;
  assert.equal(add.opts.input, `${r.newKey!.secretKey}\n`);
  assert.ok(!add.argv.includes(r.newKey!.secretKey));
  assert.deepEqual([r.newKey!.user, r.newKey!.accessKey], ['carol', 'carol']);

  // canned grants are IAM policies attached to users (MinIO's bucket policies name no users)
  assert.deepEqual(await backend.listGrants('photos'), [
    { bucket: 'photos', user: 'alice', access: 'read-only' },
  ]);
  assert.deepEqual(await backend.listGrants('other'), []);
  const grant = await backend.setGrant('photos', 'alice', 'read-write');
  assert.deepEqual(
    grant.steps.map((s) => (s as { argv: string[] }).argv.slice(3)),
    [
      ['admin', 'policy', 'detach', 'calypso', 'calypso-photos-read-only', '--user', 'alice'],
      ['admin', 'policy', 'create', 'calypso', 'calypso-photos-read-write', grant.files![0]!.path],
      ['admin', 'policy', 'attach', 'calypso', 'calypso-photos-read-write', '--user', 'alice'],
    ],
  );
  const doc = JSON.parse(grant.files![0]!.content) as {
    Statement: { Resource: string[]; Principal?: unknown }[];
  };
  assert.deepEqual(
    doc.Statement.map((st) => st.Resource),
    [['arn:aws:s3:::photos'], ['arn:aws:s3:::photos/*']],
  );
  assert.ok(
    doc.Statement.every((st) => st.Principal === undefined),
    'an IAM policy names no principal',
  );
  await backend.run(grant);
  assert.equal(readFileSync(grant.files![0]!.path, 'utf8'), grant.files![0]!.content);
  assert.equal(statSync(grant.files![0]!.path).mode & 0o777, 0o600);
  const revoke = await backend.setGrant('photos', 'alice', undefined);
  assert.deepEqual(
    revoke.steps.map((s) => (s as { argv: string[] }).argv.slice(3, 6)),
    [['admin', 'policy', 'detach']],
  );

  const key = await backend.run(await backend.createKey('alice'));
  assert.equal(key.newKey?.accessKey, 'Q3AM3UQ867SPQQA43P2F');
  await assert.rejects(
    backend.setQuota('photos', { enabled: true, maxObjects: 10 }),
    (e: { kind?: string }) => e.kind === 'invalid',
  );
  const q = await backend.setQuota('photos', { enabled: true, maxSize: 1 << 30 });
  assert.deepEqual((q.steps[0] as { argv: string[] }).argv, [
    'mc',
    '--json',
    '--no-color',
    'quota',
    'set',
    'calypso/photos',
    '--size',
    String(1 << 30),
  ]);
});

test('MinIO environment file: rendered through the pipeline, password from secrets.env, redacted in history', async () => {
  const t = await startTestAgent({
    services: [createObjectService({ config: { backend: 'minio', address: '127.0.0.1', port: 9000 } })],
  });
  try {
    // the data layout's object dataset is held once MinIO uses it (its environment applied)
    assert.deepEqual(t.deps.usage.usersOf('dataset', 'tank/calypso/object'), []);
    const st = await t.call<{ available: boolean; reason?: string }>('object.status');
    assert.equal(st.available, false);
    assert.match(st.reason ?? '', /mc|credentials/);
    const dry = await t.call<{ files: { path: string; diff: string }[] }>('object.minio.env.apply', {
      dryRun: true,
    });
    assert.equal(dry.files.length, 1);
    assert.match(dry.files[0]!.diff, /\+MINIO_ROOT_PASSWORD="\[redacted\]"/);
    assert.equal(t.deps.secrets.get(ADMIN_SECRET_KEY), undefined, 'a dry run generates no secret');
    const r = await t.call<{ changed: string[]; version: number }>('object.minio.env.apply');
    assert.equal(r.version, 1);
    const file = minioEnvFile({ deps: t.deps } as ObjectContext);
    assert.deepEqual(r.changed, [file]);
    const text = readFileSync(file, 'utf8');
    const password = t.deps.secrets.get(ADMIN_SECRET_KEY)!;
    assert.ok(password.length >= 24);
    assert.ok(text.includes(`MINIO_ROOT_PASSWORD="${password}"`));
    assert.match(text, /^MINIO_VOLUMES=".*\/srv\/calypso\/object"$/m);
    assert.match(text, /^MINIO_OPTS="--address 127\.0\.0\.1:9000"$/m);
    assert.match(text, /^MINIO_ROOT_USER="calypso-admin"$/m);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(readFileSync(t.deps.layout.secretsFile, 'utf8'), new RegExp(`^${ADMIN_SECRET_KEY}=`, 'm'));
    assert.deepEqual(t.deps.usage.usersOf('dataset', 'tank/calypso/object'), [
      'object storage (MinIO volume)',
    ]);
    assert.deepEqual(t.deps.usage.usersOf('dataset', 'tank/calypso', true), [
      'object storage (MinIO volume)',
    ]);
    assert.deepEqual(t.deps.usage.usersOf('dataset', 'tank/calypso/backups'), []);
    const again = await t.call<{ changed: string[] }>('object.minio.env.apply');
    assert.deepEqual(again.changed, [], 'unchanged configuration: nothing written');
    const history = await t.call<{ version: number }[]>('object.minio.env.history');
    assert.deepEqual(
      history.map((h) => h.version),
      [1],
    );
    // the pipeline's versions keep the file redacted: LMDB never holds the password
    const managed = t.deps.configSet.get('minio')!;
    const diff = await managed.diff(1);
    assert.deepEqual(diff, [], 'the file on disk is version 1');
    for (const { value } of t.deps.store.db('config').getRange({}))
      assert.ok(!JSON.stringify(readableValue(value)).includes(password), 'no password in LMDB');
  } finally {
    await t.stop();
  }
});

test('MinIO with TLS: its certs directory links to the appliance certificate', async () => {
  const t = await startTestAgent({
    services: [createObjectService({ config: { backend: 'minio', tls: 'on', port: 9000 } })],
  });
  try {
    mkdirSync(t.deps.layout.tlsDir, { recursive: true });
    writeFileSync(path.join(t.deps.layout.tlsDir, 'cert.pem'), 'CERT');
    writeFileSync(path.join(t.deps.layout.tlsDir, 'key.pem'), 'KEY');
    await t.call('object.minio.env.apply');
    const dir = minioCertsDir({ deps: t.deps } as ObjectContext);
    const text = readFileSync(minioEnvFile({ deps: t.deps } as ObjectContext), 'utf8');
    assert.ok(text.includes(`MINIO_OPTS="--address 127.0.0.1:9000 --certs-dir ${dir}"`));
    assert.equal(readFileSync(path.join(dir, 'public.crt'), 'utf8'), 'CERT');
    assert.equal(readFileSync(path.join(dir, 'private.key'), 'utf8'), 'KEY');
  } finally {
    await t.stop();
  }
});
