/**
 * A self-signed certificate for the WebSocket transport (rpc/ws-transport.ts reads
 * tls/cert.pem and tls/key.pem), made only when neither file exists: a certificate the site
 * installed is never replaced. Node can make keys but not X.509 certificates, so openssl does it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Runner } from '../runner.js';

export interface SelfSigned {
  cert: Buffer;
  key: Buffer;
}

/** argv for openssl: P-256 key, ten years, the host's names and loopback as subject alternative names. */
export function selfSignedArgv(keyFile: string, certFile: string, hostname: string): string[] {
  const names = [...new Set([hostname, 'localhost'])].map((n) => `DNS:${n}`);
  return [
    'openssl',
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '3650',
    '-subj',
    `/O=Calypso appliance/CN=${hostname}`,
    '-addext',
    `subjectAltName=${[...names, 'IP:127.0.0.1', 'IP:::1'].join(',')}`,
    '-addext',
    'extendedKeyUsage=serverAuth',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ];
}

/** Generate in a private temp directory; the caller writes the files into tls/ with their modes. */
export async function makeSelfSigned(runner: Runner, hostname = os.hostname()): Promise<SelfSigned> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'calypso-tls-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    await runner.run(selfSignedArgv(keyFile, certFile, hostname), { timeoutMs: 30_000 });
    return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
