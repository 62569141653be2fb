/**
 * The tgtadm show parser against output recorded from the real tgtd here (Debian's tgt,
 * test/fixtures/tgt/show-target.txt: one target, a file-backed LUN with a set serial, a CHAP
 * account and two ACL entries), and the IQN check against RFC 3720 names and hostile ones.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isIqn } from '../../agent/iscsi/names.js';
import { parseTgtadmShow } from '../../agent/iscsi/parse-tgtadm-show.js';
import { repoRoot } from '../helpers/paths.js';

test('tgtadm show: target, LUNs, accounts and ACLs as tgtd reported them', () => {
  const text = readFileSync(path.join(repoRoot(), 'test/fixtures/tgt/show-target.txt'), 'utf8');
  const [t, ...more] = parseTgtadmShow(text);
  assert.equal(more.length, 0);
  assert.equal(t!.tid, 1);
  assert.equal(t!.iqn, 'iqn.2026-12.test:t1');
  assert.equal(t!.state, 'ready');
  assert.deepEqual(t!.sessions, []);
  assert.deepEqual(
    t!.luns.map((l) => [l.lun, l.type, l.scsiSn, l.scsiId, l.sizeMB, l.blockSize, l.backingPath]),
    [
      [0, 'controller', 'beaf10', 'IET     00010000', 0, 1, null],
      [1, 'disk', 'CAL0001', 'cal1', 8, 512, '/tmp/isl/lun1.img'],
    ],
  );
  assert.deepEqual(t!.accounts, ['u1']);
  assert.deepEqual(t!.acl, ['127.0.0.1', 'iqn.2026-12.test:ini']);
});

test('IQNs: RFC 3720 names pass, malformed and metacharacter names do not', () => {
  for (const ok of [
    'iqn.2026-12.com.example:storage.lun1',
    'iqn.2001-04.com.example',
    'eui.02004567A425678D',
  ])
    assert.ok(isIqn(ok), ok);
  for (const bad of [
    'iqn.2026-13.com.example:x',
    'iqn.26-12.com.example',
    'IQN.2026-12.com.example',
    'iqn.2026-12.com.example:a b',
    'iqn.2026-12.com.example:x;rm',
    'iqn.2026-12.com.example:x"}',
    'iqn.2026-12.com.example:x\n',
    'eui.123',
  ])
    assert.ok(!isIqn(bad), JSON.stringify(bad));
});
