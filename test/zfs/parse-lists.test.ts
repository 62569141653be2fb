import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseZfsVersion } from '../../agent/zfs/dialect.js';
import { parseDatasetList, parseSnapshotList, parseZfsGet } from '../../agent/zfs/parse-zfs-list.js';
import {
  estimateFromProperties,
  parseResumeToken,
  parseSendEstimate,
} from '../../agent/zfs/parse-zfs-send.js';
import { parseZpoolGet, parseZpoolList } from '../../agent/zfs/parse-zpool-list.js';
import { parseDuration, parseSize, parseZfsDate } from '../../agent/zfs/units.js';
import { fixture } from './fixtures.js';

const M = 1024 * 1024;

describe('units', () => {
  it('reads nicenums, exact numbers and dashes', () => {
    assert.equal(parseSize('123M'), 123 * M);
    assert.equal(parseSize('1.87M'), Math.round(1.87 * M));
    assert.equal(parseSize('0'), 0);
    assert.equal(parseSize('0B'), 0);
    assert.equal(parseSize('3985729650688'), 3985729650688);
    assert.equal(parseSize('-'), undefined);
    assert.equal(parseSize('none'), undefined);
    assert.equal(parseSize('12 apples'), undefined);
  });
  it('reads dates in both tools’ formats and durations', () => {
    assert.equal(parseZfsDate('Wed Nov 25 12:14 2026'), Date.UTC(2026, 10, 25, 12, 14));
    assert.equal(parseZfsDate('Tue Jan  2 10:00:00 2024'), Date.UTC(2024, 0, 2, 10, 0, 0));
    assert.equal(parseZfsDate('1700000101'), 1700000101000);
    assert.equal(parseZfsDate('yesterday'), undefined);
    assert.equal(parseDuration('0h0m'), 0);
    assert.equal(parseDuration('2h15m'), 8100);
    assert.equal(parseDuration('00:12:31'), 751);
    assert.equal(parseDuration('1 days 06:38:12'), 110292);
  });
});

describe('zpool list / get', () => {
  it('zfs-fuse: -H without -p (nicenums, percent signs)', () => {
    const cols = [
      'name',
      'size',
      'allocated',
      'free',
      'capacity',
      'dedupratio',
      'health',
      'altroot',
      'guid',
      'version',
    ];
    const [row] = parseZpoolList(fixture('zfs-fuse-0.7', 'zpool-list-H-o.txt'), cols);
    assert.deepEqual(row, {
      name: 'tank',
      health: 'ONLINE',
      size: 250 * M,
      allocated: Math.round(6.49 * M),
      free: 244 * M,
      capacity: 2,
      dedupratio: 1,
      altroot: '/tmp/zx/m',
      guid: '6604847060510009772',
      version: '23',
    });
    const two = parseZpoolList(fixture('zfs-fuse-0.7', 'zpool-list-H-two.txt'), cols.slice(0, 8));
    assert.deepEqual(
      two.map((r) => [r.name, r.altroot]),
      [
        ['backup', undefined],
        ['tank', '/tmp/zx/m'],
      ],
    );
  });

  it('OpenZFS: -Hp exact values with fragmentation', () => {
    const cols = [
      'name',
      'size',
      'allocated',
      'free',
      'capacity',
      'dedupratio',
      'health',
      'altroot',
      'fragmentation',
      'guid',
    ];
    const rows = parseZpoolList(fixture('openzfs-2.1.11-lab', 'zpool-list-Hp.txt'), cols);
    assert.equal(rows.length, 2);
    assert.equal(rows[1]!.name, 'tank');
    assert.equal(rows[1]!.size, 251658240);
    assert.equal(rows[1]!.capacity, 5);
    assert.equal(rows[1]!.fragmentation, 4);
    assert.equal(rows[1]!.altroot, undefined);
    assert.equal(rows[0]!.altroot, '/mnt');
  });

  it('zpool get: the aligned table of zfs-fuse and the scripted form of OpenZFS', () => {
    const fuse = parseZpoolGet(fixture('zfs-fuse-0.7', 'zpool-get-all-cplx.txt')).get('cplx')!;
    assert.deepEqual(fuse.get('guid'), { value: '5573228473359973609', source: 'default' });
    assert.deepEqual(fuse.get('cachefile'), { value: 'none', source: 'local' });
    assert.deepEqual(fuse.get('altroot'), { value: '/tmp/zx/mnt2', source: 'local' });
    assert.deepEqual(fuse.get('size'), { value: '862M', source: '-' });
    const ozfs = parseZpoolGet(fixture('openzfs-2.1.11-lab', 'zpool-get-Hp.txt')).get('tank')!;
    assert.deepEqual(ozfs.get('ashift'), { value: '12', source: 'local' });
    assert.equal(ozfs.get('feature@encryption')?.value, 'active');
    assert.equal(ozfs.get('feature@zstd_compress')?.value, 'enabled');
  });
});

describe('zfs list / get', () => {
  it('zfs-fuse datasets (nicenums) with their origin and quota', () => {
    const cols = [
      'name',
      'type',
      'used',
      'available',
      'referenced',
      'mountpoint',
      'compression',
      'quota',
      'origin',
    ];
    const rows = parseDatasetList(fixture('zfs-fuse-0.7', 'zfs-list-datasets.txt'), cols);
    assert.equal(rows.length, 5);
    const shares = rows.find((r) => r.name === 'tank/shares')!;
    assert.equal(shares.quota, 64 * M);
    assert.equal(shares.used, Math.round(5.33 * M));
    const clone = rows.find((r) => r.name === 'tank/clone')!;
    assert.equal(clone.origin, 'tank/shares/alice@daily-1');
    assert.equal(clone.used, 0);
    assert.equal(rows[0]!.quota, undefined);
  });

  it('OpenZFS datasets (-p) including a volume', () => {
    const rows = parseDatasetList(fixture('openzfs-2.1.11-lab', 'zfs-list-Hp-datasets.txt'));
    const vol = rows.find((r) => r.type === 'volume')!;
    assert.equal(vol.name, 'tank/calypso/iscsi/lun0');
    assert.equal(vol.volsize, 64 * M);
    assert.equal(vol.mountpoint, undefined);
    assert.equal(rows[0]!.creation, 1796567748000);
    assert.equal(rows[0]!.mounted, true);
    const clone = rows.find((r) => r.name === 'tank/clone')!;
    assert.equal(clone.origin, 'tank/calypso/db@auto-20241109-0000');
    assert.equal(clone.used, 0);
  });

  it('snapshots of both dialects', () => {
    const fuse = parseSnapshotList(fixture('zfs-fuse-0.7', 'zfs-list-snapshots.txt'));
    assert.equal(fuse.length, 6);
    assert.deepEqual(fuse[4], {
      name: 'tank/shares/alice@daily-1',
      dataset: 'tank/shares/alice',
      snapshot: 'daily-1',
      holds: 0,
      used: 88 * 1024,
      referenced: Math.round(3.12 * M),
      created: Date.UTC(2026, 10, 25, 12, 14),
    });
    const oz = parseSnapshotList(fixture('openzfs-2.1.11-lab', 'zfs-list-Hp-snapshots.txt'));
    assert.equal(oz.length, 8);
    assert.equal(oz[0]!.holds, 1);
    assert.equal(oz[1]!.holds, 0);
    assert.equal(oz[1]!.created, 1796567812 * 1000);
    assert.equal(oz[2]!.used, 57344);
    assert.equal(oz[3]!.referenced, 8552448);
    // the raw five-column `zfs list -H -t snapshot` (mountpoint last) also parses by position
    const raw = parseSnapshotList(fixture('zfs-fuse-0.7', 'zfs-list-t-snapshot-H.txt'));
    assert.equal(raw.length, 6);
  });

  it('zfs get -Hp in both dialects', () => {
    const fuse = parseZfsGet(fixture('zfs-fuse-0.7', 'zfs-get-Hp-r.txt'));
    assert.equal(fuse.get('tank@daily-1')?.get('creation')?.value, '1795608842');
    assert.equal(fuse.get('tank/shares')?.get('used')?.source, '-');
    const oz = parseZfsGet(fixture('openzfs-2.1.11-lab', 'zfs-get-Hp-all.txt')).get('tank/calypso/db')!;
    assert.equal(oz.get('mountpoint')?.source, 'inherited from tank/calypso');
    assert.equal(oz.get('calypso:role')?.value, 'db');
    assert.deepEqual(oz.get('recordsize'), { value: '16384', source: 'local' });
    const locked = parseZfsGet(fixture('openzfs-2.1.11-lab', 'zfs-get-Hp-encryption-locked.txt'));
    assert.equal(locked.get('tank/calypso/secret')?.get('keystatus')?.value, 'unavailable');
    assert.equal(locked.get('tank/calypso/secret')?.get('encryption')?.value, 'aes-256-gcm');
  });
});

describe('send estimates and versions', () => {
  it('reads zfs send -nvP', () => {
    const full = parseSendEstimate(fixture('openzfs-2.1.11-lab', 'zfs-send-nvP-full.txt'))!;
    assert.equal(full.bytes, 5362328);
    assert.equal(full.streams[0]!.kind, 'full');
    const inc = parseSendEstimate(fixture('openzfs-2.1.11-lab', 'zfs-send-nvP-incremental.txt'))!;
    assert.equal(inc.bytes, 3231384);
    assert.equal(inc.streams[0]!.from, 'tank/calypso/db@auto-20241109-0000');
    // a resumed send: the token's contents first, then what is left of the stream
    assert.equal(parseSendEstimate(fixture('openzfs-2.1.11-lab', 'zfs-send-nvP-resume.txt'))?.bytes, 7522240);
    assert.equal(parseSendEstimate('invalid option n'), undefined);
  });
  it('estimates from properties where there is no dry run', () => {
    assert.equal(estimateFromProperties({ referenced: 5365760 }).bytes, 5365760);
    assert.equal(
      estimateFromProperties({ referenced: 8519680 }, { referenced: 5365760, used: 90112 }).bytes,
      3244032,
    );
  });
  it('reads resume tokens and versions', () => {
    assert.equal(parseResumeToken('-\n'), undefined);
    assert.equal(parseResumeToken('1-e604ea4bf-e0-789c63a2\n'), '1-e604ea4bf-e0-789c63a2');
    const get = parseZfsGet(fixture('openzfs-2.1.11-lab', 'zfs-get-Hp-resume-token.txt'));
    const token = get.get('backup/copy')!.get('receive_resume_token')!.value;
    assert.equal(parseResumeToken(`${token}\n`), token);
    assert.match(token, /^1-[0-9a-f]+-[0-9a-f]+-789c/);
    assert.equal(
      parseResumeToken(`${get.get('tank/calypso/db')!.get('receive_resume_token')!.value}\n`),
      undefined,
    );
    assert.equal(parseZfsVersion(fixture('openzfs-2.1.11-lab', 'zfs-version.txt')), '2.1.11');
    assert.equal(parseZfsVersion(fixture('zfs-fuse-0.7', 'zfs-version.txt')), undefined);
  });
});
