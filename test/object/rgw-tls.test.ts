/**
 * The local gateway with TLS from etc/calypso/tls: the agent starts radosgw with beast's
 * `ssl_endpoint`, reaches it over https trusting the appliance's own certificate, and an
 * independent client that trusts that certificate can put and get; plain http is not served.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { NewKey } from '../../agent/object/model.js';
import { type ObjectRig, startObjectRig } from './helpers.js';

let rig: ObjectRig;
before(async () => {
  rig = await startObjectRig({ tls: true });
});
after(async () => {
  await rig?.stop();
});

test('https gateway with the appliance certificate', async () => {
  const plan = await rig.t.call<{ commands: string[][] }>('object.service.start', { dryRun: true });
  const tlsDir = rig.t.deps.layout.tlsDir;
  assert.ok(
    plan.commands[0]!.includes(
      `beast ssl_endpoint=127.0.0.1:${rig.lab.rgwPort} ssl_certificate=${path.join(tlsDir, 'cert.pem')} ssl_private_key=${path.join(tlsDir, 'key.pem')}`,
    ),
  );
  const st = await rig.t.call<{ available: boolean; endpoint: string }>('object.service.start');
  assert.equal(st.available, true);
  assert.equal(st.endpoint, `https://127.0.0.1:${rig.lab.rgwPort}`);
  const { key } = await rig.t.call<{ key: NewKey }>('object.user.create', { id: 'tls', displayName: 'TLS' });
  await rig.t.call('object.bucket.create', { name: 'secure', owner: 'tls' });
  const ca = readFileSync(path.join(tlsDir, 'cert.pem'), 'utf8');
  const agent = new https.Agent({ ca });
  const c = new S3Client({
    endpoint: st.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: key.accessKey, secretAccessKey: key.secretKey },
    requestHandler: { httpsAgent: agent },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    await c.send(new PutObjectCommand({ Bucket: 'secure', Key: 'k', Body: 'over tls' }));
    const got = await c.send(new GetObjectCommand({ Bucket: 'secure', Key: 'k' }));
    assert.equal(await got.Body!.transformToString(), 'over tls');
  } finally {
    c.destroy();
    agent.destroy();
  }
  await assert.rejects(fetch(`http://127.0.0.1:${rig.lab.rgwPort}/`, { signal: AbortSignal.timeout(3000) }));
  await rig.t.call('object.service.stop');
});
