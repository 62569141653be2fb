/**
 * The demo's object storage (sandbox/appliance.ts): a Ceph cluster of one monitor and one
 * memstore OSD under the sandbox (sandbox/ceph.ts), whose RADOS Gateway the agent starts itself
 * (object.service.start); seeded with a user and one bucket holding a few objects, put through
 * S3 with that user's key, as a client would.
 */
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ObjectConfig } from '../agent/object/config.js';
import { type CephLab, cephLabPaths, startCephLab } from './ceph.js';

export const BUCKET = 'demo-media';
export const CEPH_TOOLS = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'ceph-authtool', 'monmaptool'];
export const CEPH_INSTALL = 'apt-get install ceph-mon ceph-osd radosgw ceph-common';

const cephDir = (box: string) => path.join(box, 'ceph');

export function startCeph(box: string, rgwPort: number): Promise<CephLab> {
  return startCephLab(cephDir(box), { rgw: false, rgwPort });
}

/**
 * The agent's `object` slice for the lab the sandbox starts in `box`: the gateway's port, the
 * cephx names and keyrings. Known before the cluster is up, so the agent need not wait for it.
 */
export function objectConfig(box: string, rgwPort: number): Partial<ObjectConfig> {
  const p = cephLabPaths(cephDir(box));
  return {
    backend: 'rgw',
    address: '127.0.0.1',
    port: rgwPort,
    tls: 'off',
    ceph: {
      conf: p.conf,
      adminName: 'client.admin',
      adminKeyring: p.adminKeyring,
      gatewayName: p.rgwName,
      gatewayKeyring: p.rgwKeyring,
    },
  };
}

type Call = <T>(m: string, p?: Record<string, unknown>) => Promise<T>;

/** The gateway, a user `demo` and the bucket with three objects (a few hundred KiB). */
export async function seedBucket(call: Call, lab: CephLab): Promise<void> {
  await call('object.service.start');
  const { key } = await call<{ key: { accessKey: string; secretKey: string } }>('object.user.create', {
    id: 'demo',
    displayName: 'Demo user',
  });
  await call('object.bucket.create', { name: BUCKET, owner: 'demo' });
  const s3 = new S3Client({
    endpoint: lab.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: key.accessKey, secretAccessKey: key.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    const objects: [string, string | Buffer][] = [
      ['photos/harbour.jpg', Buffer.alloc(180 * 1024, 7)],
      ['photos/lighthouse.jpg', Buffer.alloc(220 * 1024, 9)],
      ['notes/readme.txt', 'Objects put through S3 by the demo.\n'],
    ];
    for (const [Key, Body] of objects) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));
  } finally {
    s3.destroy();
  }
}
