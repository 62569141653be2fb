/**
 * A virtual library definition on the real tgtd (Debian's tgt): the plan of
 * agent/vtl/tgt-map.ts is accepted by tgtimg and tgtadm, and an iSCSI initiator on loopback
 * (libiscsi's iscsi-ls) sees one tape LUN per drive and the medium changer. tgtd runs in a
 * private mount namespace (its control socket under a tmpfs /run), on a free loopback port, and
 * is shut down and checked gone. Moving cartridges with the real mtx needs the SG_IO preload of
 * test/tape-emu; that is the emulated-library suite.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { createRunner } from '../../agent/runner.js';
import type { VtlLibrary } from '../../agent/vtl/model.js';
import { entry, tempDir } from '../helpers/paths.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** tgtd processes using this control port (read from /proc: nothing else is asked). */
function tgtdWith(control: number): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        return path.basename(argv[0] ?? '') === 'tgtd' && argv.includes(String(control));
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('a library definition becomes tape LUNs and a medium changer on the real tgtd', async () => {
  const tmp = tempDir('calypso-tgt-');
  const control = 3000 + (process.pid % 5000);
  const port = await freePort();
  const library: VtlLibrary = {
    id: 10,
    name: 'lab',
    personality: 'STK-L700',
    drives: [8, 8],
    slots: 6,
    mailslots: 2,
    barcodePrefix: 'T',
    tapes: 3,
    cleaningTapes: 1,
    capacityMB: 100,
    compression: 0,
  };
  try {
    const args = JSON.stringify({ library, dir: tmp.dir, control, port });
    const r = await createRunner().run(
      [
        'unshare',
        '--mount',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        'mount -t tmpfs tmpfs /run && exec "$@"',
        'sh',
        process.execPath,
        ...entry('test/tape/tgt-lab-child'),
        args,
      ],
      { timeoutMs: 120_000 },
    );
    const out = JSON.parse(r.stdout) as {
      error?: string;
      show: string;
      ls: string;
      commands: number;
      tgtdExited: boolean;
    };
    assert.equal(out.error, undefined, r.stderr);
    assert.equal(out.tgtdExited, true);
    // tgtadm's view: LUN 1 and 2 tapes with no cartridge, LUN 3 the changer with its media home
    assert.match(out.show, /LUN: 1\s+Type: tape[\s\S]*?Online: No/);
    assert.match(out.show, /LUN: 2\s+Type: tape/);
    assert.match(out.show, /LUN: 3\s+Type: changer[\s\S]*?Backing store type: smc/);
    assert.match(out.show, /ACL information:\s+127\.0\.0\.1/);
    // an initiator's view over iSCSI on loopback
    assert.match(out.ls, /Lun:1\s+Type:SEQUENTIAL_ACCESS/);
    assert.match(out.ls, /Lun:2\s+Type:SEQUENTIAL_ACCESS/);
    assert.match(out.ls, /Lun:3\s+Type:MEDIA_CHANGER/);
    // the cartridges, named by barcode in the changer's media home, as tgtimg made them
    for (const b of ['T00001L8', 'T00002L8', 'T00003L8', 'CLN010L8'])
      assert.ok(existsSync(path.join(tmp.dir, b)) && statSync(path.join(tmp.dir, b)).size > 0, b);
    assert.deepEqual(tgtdWith(control), [], 'tgtd is gone');
  } finally {
    for (const pid of tgtdWith(control)) process.kill(pid, 'SIGKILL');
    tmp.cleanup();
  }
});
