/**
 * An external cluster's gateway (`backend: external-rgw`): the agent manages users and buckets
 * through radosgw-admin against that cluster's conf and talks S3 to its endpoint, but does not
 * start or stop the gateway. Here the "external" cluster is a Ceph lab whose radosgw the lab
 * itself runs; when it stops, the agent answers `unavailable`, and serves again once it is back.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createObjectService } from '../../agent/object/service.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';
import { type CephLab, processesUnder, startCephLab } from './ceph-lab.js';

const labDir = tempDir('calypso-ceph-');
let lab: CephLab;
let t: TestAgent;

before(async () => {
  lab = await startCephLab(labDir.dir);
  t = await startTestAgent({
    services: [
      createObjectService({
        config: {
          backend: 'external-rgw',
          external: lab.endpoint,
          ceph: {
            conf: lab.conf,
            adminName: 'client.admin',
            adminKeyring: lab.adminKeyring,
            gatewayName: lab.rgwName,
          },
        },
      }),
    ],
  });
});
after(async () => {
  await t?.stop();
  await lab?.stop();
  assert.deepEqual(processesUnder(labDir.dir), []);
  labDir.cleanup();
});

const kindOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { kind?: string }) => e.kind,
  );

test('external gateway: managed through its cluster, never started or stopped by the agent', async () => {
  const st = await t.call<{
    backend: string;
    available: boolean;
    gateway: { managed: boolean; running: boolean };
  }>('object.status');
  assert.deepEqual(
    [st.backend, st.available, st.gateway.managed, st.gateway.running],
    ['external-rgw', true, false, true],
  );
  assert.equal(await kindOf(t.call('object.service.stop')), 'unavailable');
  await t.call('object.user.create', { id: 'ext', displayName: 'External' });
  await t.call('object.bucket.create', { name: 'far-away', owner: 'ext' });
  assert.deepEqual(
    (await t.call<{ items: { name: string; owner: string }[] }>('object.bucket.list')).items.map((b) => [
      b.name,
      b.owner,
    ]),
    [['far-away', 'ext']],
  );
  await lab.stopRgw();
  const down = await t.call<{ available: boolean; reason?: string }>('object.status');
  assert.equal(down.available, false);
  assert.match(down.reason ?? '', /does not answer/);
  assert.equal(await kindOf(t.call('object.bucket.list')), 'unavailable');
  await lab.startRgw();
  assert.equal((await t.call<{ items: unknown[] }>('object.bucket.list')).items.length, 1);
});
