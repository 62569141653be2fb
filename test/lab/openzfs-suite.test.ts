/**
 * OpenZFS in the kernel lab, one boot: test/lab/guest/openzfs.ts (the real agent process on OpenZFS 2.1.11),
 * test/lab/guest/replication.ts (replication to another appliance resumed by token), test/lab/guest/shares-pv.ts
 * (a share's Previous Versions through smbd and smbclient, where .zfs exists), then
 * one ZFS suite, two real implementations: the files of test/zfs/ that run on zfs-fuse on the host run in the
 * kernel lab guest against OpenZFS 2.1 (Debian contrib's module, zfsutils-linux), in one boot. There
 * `useZfsFuse()` (test/zfs/helpers.ts) loads the zfs module instead of starting zfs-fuse, and the agent detects the
 * OpenZFS dialect by itself. Each file runs in its own `node --test` and is one test here; its full spec output is
 * the assertion message when it fails.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe } from 'node:test';
import { repoRoot } from '../helpers/paths.js';
import { guestFileTests } from './guest.js';

/**
 * the files of test/zfs that run on the real ZFS (they call useZfsFuse); the others read recordings or a fake
 * runner and say nothing about the machine's ZFS (they run on the host)
 */
const dir = path.join(repoRoot(), 'test/zfs');
const FILES = readdirSync(dir)
  .filter((f) => f.endsWith('.test.ts') && readFileSync(path.join(dir, f), 'utf8').includes('useZfsFuse('))
  .sort()
  .map((f) => `test/zfs/${f.replace(/\.ts$/, '')}`);

describe('kernel lab: OpenZFS (one boot)', () => {
  guestFileTests(
    [
      { rel: 'test/lab/guest/openzfs', name: 'OpenZFS through the agent process' },
      {
        rel: 'test/lab/guest/replication',
        name: 'replication resumed by token on OpenZFS (two agents, sshd)',
      },
      {
        rel: 'test/lab/guest/shares-pv',
        name: 'Previous Versions of a share on OpenZFS, listed and read through smbd with smbclient',
      },
      ...FILES.map((rel) => ({ rel, name: `${rel} passes on OpenZFS 2.1 in the guest` })),
    ],
    { timeoutS: 2700, memMiB: 3072 },
  );
});
