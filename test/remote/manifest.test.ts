/**
 * The pure parts of a replica drill's manifest (agent/remote/manifest.ts) for volumes: the comparison of a
 * volume's one entry, the bounded wait for its clone's device, and the volsize bound checked before any
 * clone is made. The device path itself is tested on OpenZFS in the kernel lab (test/lab/guest/replication.ts).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  compareManifests,
  type Entry,
  hashDevice,
  makeManifest,
  waitDevice,
} from '../../agent/remote/manifest.js';
import { tempDir } from '../helpers/paths.js';

const vol = (sha256: string, size = 4 << 20): Entry => ({ path: '', type: 'volume', size, sha256 });

describe('replica drills of volumes', () => {
  it('a volume is one entry: equal when its size and SHA-256 agree, different otherwise', () => {
    assert.deepEqual(compareManifests([vol('a'.repeat(64))], [vol('a'.repeat(64))]), []);
    const [d] = compareManifests([vol('a'.repeat(64))], [vol('b'.repeat(64))]);
    assert.equal(d?.result, 'different');
    assert.equal(d?.path, '');
    assert.match(
      d?.detail ?? '',
      /source 4194304 bytes, sha256 aaaaaaaaaaaa…, replica 4194304 bytes, sha256 bbbbbbbbbbbb…/,
    );
    assert.equal(
      compareManifests([vol('a'.repeat(64))], [vol('a'.repeat(64), 8 << 20)])[0]?.result,
      'different',
    );
    // a replica that is a filesystem where the source is a volume
    assert.equal(
      compareManifests([vol('a'.repeat(64))], [{ path: '', type: 'dir' }])[0]?.result,
      'different',
    );
  });
  it('waits for the clone’s device a bounded time, then says so in words', async () => {
    const { dir, cleanup } = tempDir('zvol-wait-');
    try {
      const t0 = Date.now();
      await assert.rejects(
        waitDevice(path.join(dir, 'never'), 300),
        /the volume clone's device .*never did not appear within 0 s \(udev makes it: is udevd running\?\)/,
      );
      assert.ok(Date.now() - t0 < 5000);
      await waitDevice(dir, 300);
    } finally {
      cleanup();
    }
  });
  it('a device that vanishes after it appeared (OpenZFS re-makes a clone’s minor) is waited for and hashed again, within the bound', async () => {
    const { dir, cleanup } = tempDir('zvol-vanish-');
    try {
      const dev = path.join(dir, 'zd0');
      writeFileSync(dev, 'x');
      const gone = (code: string) => Object.assign(new Error(`${code}: open ${dev}`), { code });
      // gone twice (the link, then the node), then there
      let tries = 0;
      const flaky = async (f: string) => {
        tries++;
        if (tries === 1) throw gone('ENOENT');
        if (tries === 2) throw gone('ENXIO');
        return `hash of ${path.basename(f)}`;
      };
      assert.equal(await hashDevice(dev, 5000, flaky), 'hash of zd0');
      assert.equal(tries, 3);
      // always gone: a bounded wait, then words
      const t0 = Date.now();
      await assert.rejects(
        hashDevice(dev, 600, async () => {
          throw gone('ENOENT');
        }),
        /the volume clone's device .*zd0 kept vanishing for 1 s \(ENOENT\): OpenZFS re-made it and udev did not settle/,
      );
      assert.ok(Date.now() - t0 < 5000);
      // any other error is the answer at once
      let other = 0;
      await assert.rejects(
        hashDevice(dev, 5000, async () => {
          other++;
          throw gone('EIO');
        }),
        /EIO/,
      );
      assert.equal(other, 1);
    } finally {
      cleanup();
    }
  });
  it('a volume larger than maxBytes is refused before anything is cloned', async () => {
    const ran: string[][] = [];
    const run = async (argv: string[]) => {
      ran.push(argv);
      return { code: 0, stdout: argv.includes('volsize') ? `${8 << 20}\n` : '', stderr: '' };
    };
    await assert.rejects(
      makeManifest(run, 'tank/vol@s1', 'tank/calypso-drill-x', '/nowhere', {
        maxFiles: 10,
        maxBytes: 4 << 20,
      }),
      /tank\/vol@s1 holds more than 4194304 bytes: raise maxBytes/,
    );
    assert.deepEqual(ran, [['zfs', 'get', '-Hp', '-o', 'value', 'volsize', '--', 'tank/vol@s1']]);
  });
});
