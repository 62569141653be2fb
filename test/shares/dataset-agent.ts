/**
 * A test agent with the zfs and shares subsystems whose shares live on datasets of a pool made on one file vdev
 * (zfs-fuse on the host, OpenZFS in the kernel lab guest), its smbd on a free loopback port with share users in
 * nss_wrapper files: test/shares/datasets.test.ts and test/lab/guest/shares-pv.ts.
 */
import path from 'node:path';
import { sharesSubsystem } from '../../agent/shares/service.js';
import { createZfsService } from '../../agent/zfs/service.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { FAST, vdevFiles } from '../zfs/helpers.js';
import type { SmbAccounts } from './smb-lab.js';

export async function startDatasetAgent(pool: string, smbPort: number, acc: SmbAccounts): Promise<TestAgent> {
  const t = await startTestAgent({
    services: [createZfsService(FAST), sharesSubsystem],
    config: {
      shares: {
        pool,
        smbPort,
        smbInterfaces: ['127.0.0.1'],
        accounts: { backend: 'nss-wrapper', passwd: acc.passwd, group: acc.group },
      },
    },
  });
  const [file] = vdevFiles(path.join(t.prefix, 'vdevs'), ['a.img']);
  await t.call('pool.create', {
    name: pool,
    topology: { data: [{ type: 'stripe', disks: [file] }] },
    // altroot / keeps the pool out of the machine's cachefile with mountpoints unchanged
    altroot: '/',
    mountpoint: path.join(t.prefix, 'mnt', pool),
  });
  return t;
}
