/**
 * The OpenZFS 2.1.11 recordings of the kernel lab (test/fixtures/zfs/openzfs-2.1.11-lab) that the status, list and
 * iostat tests do not read (a zvol's properties), and that the fake runner (test/zfs/fake-runner.ts) answers from
 * them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseZfsGet } from '../../agent/zfs/parse-zfs-list.js';
import { fakeRunner } from './fake-runner.js';
import { fixture } from './fixtures.js';

const rec = (name: string) => fixture('openzfs-2.1.11-lab', name);

test('zfs get -Hp of a zvol (recorded): volsize and volblocksize', () => {
  const vol = parseZfsGet(rec('zfs-get-Hp-volume.txt')).get('tank/calypso/iscsi/lun0')!;
  assert.equal(vol.get('type')?.value, 'volume');
  assert.equal(vol.get('volsize')?.value, String(64 << 20));
  assert.equal(vol.get('volblocksize')?.value, '8192');
});

test('the fake runner answers from the recordings', async () => {
  const fake = fakeRunner();
  const run = (argv: string[]) => fake.run(argv);
  const get = await run([
    'zfs',
    'get',
    '-H',
    '-p',
    '-o',
    'name,property,value,source',
    'creation,userrefs',
    '--',
    'tank/calypso/db@auto-20241109-0000',
  ]);
  assert.equal(
    get.stdout,
    'tank/calypso/db@auto-20241109-0000\tcreation\t1796567809\t-\ntank/calypso/db@auto-20241109-0000\tuserrefs\t1\t-',
  );
  const token = await run(['zfs', 'get', '-H', '-o', 'value', 'receive_resume_token', '--', 'backup/copy']);
  assert.match(token.stdout, /^1-c2c8bdf56-/);
  await assert.rejects(
    run(['zfs', 'get', '-H', '-p', '-o', 'name,property,value,source', 'used', '--', 'tank/nope']),
    /dataset does not exist/,
  );
});
