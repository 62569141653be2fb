/** The pure parts of a run (agent/remote/push.ts): retention per side and the dataset tree. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectedAfter, parseTree, prunePlan } from '../../agent/remote/push.js';

const snaps = (...n: string[]) => n.map((snapshot, i) => ({ snapshot, guid: String(100 + i) }));

describe('replication retention and the dataset tree', () => {
  it('keeps the newest `keep`, and never the held last common snapshot or anything newer', () => {
    assert.deepEqual(prunePlan(snaps('a', 'b', 'c', 'd'), 'd', 1), ['a', 'b', 'c']);
    assert.deepEqual(prunePlan(snaps('a', 'b', 'c', 'd'), 'd', 2), ['a', 'b']);
    // d arrived after the run began: c is held, so with keep 1 both c and d stay
    assert.deepEqual(prunePlan(snaps('a', 'b', 'c', 'd'), 'c', 1), ['a', 'b']);
    assert.deepEqual(prunePlan(snaps('a', 'b'), 'b', 5), []);
    // the held one is not there (a target that lost it): nothing is destroyed
    assert.deepEqual(prunePlan(snaps('a', 'b'), 'x', 1), []);
  });
  it('the target after an incremental: rolled back to from, plus the new snapshot', () => {
    const before = snaps('a', 'b', 'z');
    const src = snaps('a', 'b', 'c');
    const after = expectedAfter(before, { mode: 'incremental', snapshot: 'c', from: 'b', force: true }, src);
    assert.deepEqual(
      after.map((s) => s.snapshot),
      ['a', 'b', 'c'],
    );
  });
  it('the tree: the dataset and its descendants, parents first, nothing beside it', () => {
    assert.deepEqual(parseTree('tank/a/b\ntank/a\ntank/ab\ntank/a/b/c\n', 'tank/a'), [
      'tank/a',
      'tank/a/b',
      'tank/a/b/c',
    ]);
  });
});
