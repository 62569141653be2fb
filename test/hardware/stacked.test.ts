/**
 * Stacked block devices, built in a temporary tree: dm-multipath over two SAS paths is one disk
 * (the dm device) with both paths; an md array over a partition is not a disk but a holder of
 * its disk; lsblk --sysroot sees the same top-level devices.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { probeAll } from '../../probes/index.js';
import { pad, TreeBuilder } from '../../probes/synthetic-builder.js';
import { tempDir } from '../helpers/paths.js';

function build(root: string): void {
  const b = new TreeBuilder(root);
  const pci = b.pci('sys/devices/pci0000:00/0000:00:01.0', '0000:03:00.0', {
    vendor: '1000',
    device: '0097',
    driver: 'mpt3sas',
  });
  const host = b.scsiHost(pci, 0, 'mpt3sas', 'sas_host');
  const lu = '3600508b1001c4d4c8f0a1b2c3d4e5f60';
  const paths = ['sdb', 'sdc'].map((name, i) => {
    const dev = b.scsiDevice(`${host}/port-0:${i}/end_device-0:${i}`, `0:0:${i}:0`, {
      type: 0,
      vendor: pad('HPE', 8),
      model: pad('MO001600JWDKU', 16),
      rev: 'HPD2',
      wwid: `naa.${lu.slice(1)}`,
    });
    b.block(dev, name, { devno: `8:${16 * (i + 1)}`, sectors: 3125627568, rotational: false });
    return `${dev}/block/${name}`;
  });
  const dm = b.block(undefined, 'dm-0', { devno: '253:0', sectors: 3125627568 });
  b.attrs(`${dm}/dm`, { uuid: `mpath-${lu}`, name: 'mpatha', suspended: 0 });
  paths.forEach((p, i) => {
    const name = ['sdb', 'sdc'][i]!;
    b.link(`${dm}/slaves/${name}`, p);
    b.link(`${p}/holders/dm-0`, dm);
  });
  // sdd with a partition that an md array uses
  const dev = b.scsiDevice(`${host}/port-0:2/end_device-0:2`, '0:0:2:0', {
    type: 0,
    vendor: pad('ATA', 8),
    model: pad('ST4000NM0035', 16),
    rev: 'TN05',
  });
  const sdd = b.block(dev, 'sdd', {
    devno: '8:48',
    sectors: 7814037168,
    rotational: true,
    parts: [{ number: 1, start: 2048, size: 7814035087, devno: '8:49' }],
  });
  const md = b.block(undefined, 'md0', { devno: '9:0', sectors: 7813771264 });
  b.link(`${md}/slaves/sdd1`, `${sdd}/sdd1`);
  b.link(`${sdd}/sdd1/holders/md0`, md);
}

test('dm-multipath is one disk with two paths; md is a holder, not a disk', (t) => {
  const tmp = tempDir('calypso-stacked-');
  t.after(tmp.cleanup);
  build(tmp.dir);
  const inv = probeAll(tmp.dir);
  assert.deepEqual(
    inv.disks.map((d) => [d.name, d.type, d.path]),
    [
      ['dm-0', 'mpath', '/dev/mapper/mpatha'],
      ['sdd', 'disk', '/dev/sdd'],
    ],
  );
  const mp = inv.disks.find((d) => d.type === 'mpath')!;
  assert.deepEqual(
    mp.paths.map((p) => [p.name, p.hctl, p.hba]),
    [
      ['sdb', '0:0:0:0', '0000:03:00.0'],
      ['sdc', '0:0:1:0', '0000:03:00.0'],
    ],
  );
  assert.equal(mp.wwn, '0x600508b1001c4d4c8f0a1b2c3d4e5f60');
  assert.equal(mp.id, 'wwn-0x600508b1001c4d4c8f0a1b2c3d4e5f60');
  assert.equal(mp.model, 'MO001600JWDKU');
  assert.equal(mp.transport, 'sas');
  assert.deepEqual(inv.disks.find((d) => d.name === 'sdd')!.holders, ['md0']);
  // lsblk nests dm-0 under both paths and md0 under sdd1: its top level is sdb, sdc, sdd
  const ls = JSON.parse(
    execFileSync('lsblk', ['--sysroot', tmp.dir, '-J', '-o', 'NAME'], { encoding: 'utf8' }),
  ) as {
    blockdevices: { name: string }[];
  };
  assert.deepEqual(ls.blockdevices.map((d) => d.name).sort(), ['sdb', 'sdc', 'sdd']);
  const covered = new Set(inv.disks.flatMap((d) => d.paths.map((p) => p.name)));
  for (const d of ls.blockdevices) assert.ok(covered.has(d.name), `${d.name} is a path of some disk`);
});
