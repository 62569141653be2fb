/**
 * The object-storage test rig: a Ceph lab (mon + memstore OSD) under a temp prefix and an
 * in-process agent whose object service manages that cluster's gateway (it starts radosgw
 * itself, with `object.service.start`). S3 clients of the tests are independent AWS SDK clients.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { selfSignedArgv } from '../../agent/install/tls.js';
import { createLayout } from '../../agent/layout.js';
import type { ObjectConfig } from '../../agent/object/config.js';
import { createObjectService } from '../../agent/object/service.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { tempDir } from '../helpers/paths.js';
import { type CephLab, processesUnder, startCephLab } from './ceph-lab.js';

const exec = promisify(execFile);

export interface ObjectRig {
  lab: CephLab;
  t: TestAgent;
  config: Partial<ObjectConfig>;
  /** Stop the agent and start a new one on the same prefix (LMDB, secrets.env survive). */
  restartAgent(): Promise<void>;
  client(accessKey: string, secretKey: string): S3Client;
  stop(): Promise<void>;
}

export interface ObjectRigOptions {
  startGateway?: boolean;
  /** a self-signed certificate in the agent's etc/calypso/tls and `tls: on` (the installer's argv) */
  tls?: boolean;
  /** a lifecycle day lasts this many seconds (ceph-lab.ts) */
  lcDebugInterval?: number;
}

export async function startObjectRig(opts: ObjectRigOptions = {}): Promise<ObjectRig> {
  const labDir = tempDir('calypso-ceph-');
  const agentDir = tempDir('calypso-object-');
  let lab: CephLab | undefined;
  let t: TestAgent | undefined;
  const clients: S3Client[] = [];
  const stop = async () => {
    for (const c of clients) c.destroy();
    await t?.stop().catch(() => {});
    await lab?.stop();
    const left = processesUnder(labDir.dir);
    labDir.cleanup();
    agentDir.cleanup();
    if (left.length) throw new Error(`ceph processes survived: ${left.join(', ')}`);
  };
  try {
    lab = await startCephLab(labDir.dir, { rgw: false, lcDebugInterval: opts.lcDebugInterval });
    if (opts.tls) {
      const dir = createLayout(agentDir.dir).tlsDir;
      mkdirSync(dir, { recursive: true });
      const [bin, ...args] = selfSignedArgv(
        path.join(dir, 'key.pem'),
        path.join(dir, 'cert.pem'),
        'localhost',
      );
      await exec(bin!, args);
    }
    const config: Partial<ObjectConfig> = {
      backend: 'rgw',
      address: '127.0.0.1',
      port: lab.rgwPort,
      tls: opts.tls ? 'on' : 'off',
      ceph: {
        conf: lab.conf,
        adminName: 'client.admin',
        adminKeyring: lab.adminKeyring,
        gatewayName: lab.rgwName,
        gatewayKeyring: lab.rgwKeyring,
      },
    };
    const start = () => startTestAgent({ prefix: agentDir.dir, services: [createObjectService({ config })] });
    t = await start();
    if (opts.startGateway) await t.call('object.service.start');
    const rig: ObjectRig = {
      lab,
      t,
      config,
      async restartAgent() {
        await rig.t.stop();
        t = await start();
        rig.t = t;
      },
      client(accessKey, secretKey) {
        const c = new S3Client({
          endpoint: lab!.endpoint,
          region: 'us-east-1',
          forcePathStyle: true,
          credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
          maxAttempts: 1,
        });
        clients.push(c);
        return c;
      },
      stop,
    };
    return rig;
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

/** The error an SDK call fails with (or undefined when it succeeds). */
export async function s3Error(p: Promise<unknown>): Promise<{ name: string; status?: number } | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
}

/** Retry `fn` until it returns true (gateway caches catch up within a second or two). */
export async function eventually(fn: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}
