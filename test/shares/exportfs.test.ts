/**
 * `exportfs -v` parsed from output recorded in the kernel lab (test/fixtures/exportfs/lab-debian12: the
 * agent's NFS shares on the kernel nfsd — long paths whose client is on a continuation line, an address, a
 * read-only and an async export, all_squash, a wildcard and a netgroup client — recorded by
 * `scripts/lab/record-fixtures.sh nfs`). The drift it feeds is tested in the lab (test/lab/guest/shares-nfs.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseExportfsV } from '../../agent/shares/parse-exportfs.js';
import { repoRoot } from '../helpers/paths.js';

const text = readFileSync(
  path.join(repoRoot(), 'test/fixtures/exportfs/lab-debian12/exportfs-v.txt'),
  'utf8',
);
const root = '/tmp/calypso-test-vBUcOG/srv/calypso/shares';

describe('exportfs -v (recorded in the kernel lab)', () => {
  it('one export per path and client, continuation lines joined, options split', () => {
    const t = parseExportfsV(text);
    assert.deepEqual(
      t.map((e) => [e.path, e.client]),
      [
        [root, '127.0.0.1'],
        [`${root}/rw`, '127.0.0.1'],
        [`${root}/ro`, '127.0.0.1'],
        [`${root}/deny`, '10.9.9.9'],
        [`${root}/names`, '*.calypso.invalid'],
        [`${root}/names`, '@calypsolab'],
      ],
    );
    const rw = t[1]!;
    assert.ok(
      rw.options.includes('rw') && rw.options.includes('anonuid=4242') && rw.options.includes('root_squash'),
    );
    assert.ok(t[2]!.options.includes('ro') && t[2]!.options.includes('async'));
    assert.ok(t[3]!.options.includes('all_squash'));
    assert.ok(t[5]!.options.includes('ro'), 'the netgroup client is read-only');
  });

  it('short paths on one line, <world> as *, and a line it cannot read refused', () => {
    assert.deepEqual(parseExportfsV('/srv/a       \t<world>(sync,wdelay,ro)\n'), [
      { path: '/srv/a', client: '*', options: ['sync', 'wdelay', 'ro'] },
    ]);
    assert.deepEqual(parseExportfsV(''), []);
    assert.throws(() => parseExportfsV('/srv/a\n\t\tclient(rw\n'), /unexpected line/);
  });
});
