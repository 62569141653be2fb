/**
 * The parsers on OpenZFS 2.1.11 outputs recorded in the kernel lab (test/fixtures/zfs/openzfs-2.1.11-lab), next to
 * the hand-written ones of openzfs-2.x: pool status, dataset and snapshot lists, iostat, send estimates.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseDatasetList, parseSnapshotList } from '../../agent/zfs/parse-zfs-list.js';
import { parseSendEstimate } from '../../agent/zfs/parse-zfs-send.js';
import { parseZpoolIostat } from '../../agent/zfs/parse-zpool-iostat.js';
import { parseZpoolStatus } from '../../agent/zfs/parse-zpool-status.js';
import { repoRoot } from '../helpers/paths.js';

const rec = (name: string) =>
  readFileSync(path.join(repoRoot(), 'test/fixtures/zfs/openzfs-2.1.11-lab', name), 'utf8');

test('zpool status -P -p (recorded): labz ONLINE, a mirror of two disks', () => {
  const [p] = parseZpoolStatus(rec('zpool-status-P-p-online.txt'));
  assert.equal(p?.name, 'labz');
  assert.equal(p?.state, 'ONLINE');
  assert.match(JSON.stringify(p), /\/dev\/sda1/);
  assert.match(JSON.stringify(p), /\/dev\/sdb1/);
});

test('zpool status (recorded): a paused scrub reads as paused', () => {
  const [p] = parseZpoolStatus(rec('zpool-status-scrub-paused.txt'));
  assert.match(JSON.stringify(p), /paused/);
});

test('zfs list -Hp (recorded, the agent’s columns): datasets and snapshots', () => {
  const ds = parseDatasetList(rec('zfs-list-Hp-datasets.txt'));
  assert.ok(ds.some((d) => d.name === 'labz/data'));
  const snaps = parseSnapshotList(rec('zfs-list-Hp-snapshots.txt'));
  assert.ok(snaps.some((s) => s.name === 'labz/data@s1'));
});

test('zpool iostat -Hp and zfs send -nvP (recorded)', () => {
  const [io] = parseZpoolIostat(rec('zpool-iostat-Hp.txt'), true);
  assert.equal(io?.name, 'labz');
  assert.equal(io?.alloc, 6931456);
  assert.equal(parseSendEstimate(rec('zfs-send-nvP-full.txt'))?.bytes, 3165616);
  // a resumed send (token lines first) estimates what is left
  assert.equal(parseSendEstimate(rec('zfs-send-nvP-resume.txt'))?.bytes, 2767280);
});
