/** The desired state the SCST tests share, and its recorded running state under test/fixtures/scst-sysfs. */
import path from 'node:path';
import type { IscsiState, Lun } from '../../agent/iscsi/model.js';
import { repoRoot } from '../helpers/paths.js';

/** the recorded /sys/kernel/scst_tgt, as a sysroot */
export const SYSROOT = path.join(repoRoot(), 'test', 'fixtures', 'scst-sysfs');

export const FILE_SIZE = 16 * 1048576;

export const backingPath = (l: Lun): string =>
  l.backing.kind === 'zvol' ? `/dev/zvol/${l.backing.dataset}` : `/srv/calypso/iscsi/${l.backing.name}`;

export function backingOf(f: string): Lun['backing'] | undefined {
  if (f.startsWith('/dev/zvol/')) return { kind: 'zvol', dataset: f.slice('/dev/zvol/'.length) };
  if (f.startsWith('/srv/calypso/iscsi/'))
    return { kind: 'file', name: f.slice('/srv/calypso/iscsi/'.length), sizeBytes: FILE_SIZE };
  return undefined;
}

export const secrets = new Map([
  ['ISCSI_T1_CHAP_SECRET', 'secret-alice1'],
  ['ISCSI_T1_CHAP_MUTUAL_SECRET', 'secret-mutual1'],
]);

export const STORE = 'iqn.2026-01.com.example:store';
export const DB = 'iqn.2026-01.com.example:db';

export function desired(): IscsiState {
  return {
    targets: [
      {
        tid: 1,
        iqn: STORE,
        alias: 'store',
        portals: [{ address: '192.0.2.10', port: 3260 }],
        luns: [
          {
            lun: 0,
            backing: { kind: 'zvol', dataset: 'tank/vol0' },
            blockSize: 512,
            readonly: false,
            cache: 'write-through',
            serial: '1a2b3c4d5e6f7081',
            naa: `6001405${'a'.repeat(25)}`,
          },
          {
            lun: 1,
            backing: { kind: 'file', name: 'disk1.img', sizeBytes: FILE_SIZE },
            blockSize: 4096,
            readonly: true,
            cache: 'write-back',
            serial: '00000000000000b1',
            naa: `6001405${'b'.repeat(25)}`,
          },
        ],
        groups: [],
        chap: { user: 'alice', mutualUser: 'store' },
        enabled: true,
      },
      {
        tid: 2,
        iqn: DB,
        portals: [{ address: '0.0.0.0', port: 3260 }],
        luns: [
          {
            lun: 0,
            backing: { kind: 'zvol', dataset: 'tank/db' },
            blockSize: 4096,
            readonly: false,
            cache: 'write-through',
            serial: '00000000000000d0',
            naa: `6001405${'d'.repeat(25)}`,
          },
        ],
        groups: [
          {
            name: 'dbhosts',
            initiators: ['iqn.2026-01.com.example:db1', 'iqn.2026-01.com.example:db2'],
            luns: [{ lun: 0, target: 0 }],
          },
        ],
        enabled: true,
      },
    ],
  };
}
