/**
 * The S3 data path, through the AWS SDK v3 (request signing is the SDK's, never ours): clients
 * for an endpoint and credentials, the admin's S3 steps of a plan, and the mapping of S3 errors
 * to the error catalogue.
 */
import type https from 'node:https';
import type { S3Client } from '@aws-sdk/client-s3';
import { RpcError } from '../../rpc/errors.js';
import { httpsModule, tlsModule } from '../util/lazy-modules.js';
import type { Step, Versioning } from './backend.js';
import type { PolicyDocument } from './policy.js';
import { loadSdk, sdkIfLoaded } from './sdk.js';

export interface S3Credentials {
  accessKey: string;
  secretKey: string;
}

/**
 * HTTPS agent trusting the system CAs plus the appliance's own certificate (etc/calypso/tls/
 * cert.pem, self-signed by the installer unless the site put its own): the agent reaches its
 * local gateway on loopback by IP, which that certificate names.
 */
export function trustingAgent(extraCa: string | undefined): https.Agent | undefined {
  return extraCa
    ? new (httpsModule().Agent)({ ca: [...tlsModule().rootCertificates, extraCa], keepAlive: true })
    : undefined;
}

export async function s3Client(
  endpoint: string,
  c: S3Credentials,
  region = 'us-east-1',
  agent?: https.Agent,
): Promise<S3Client> {
  const { S3Client } = await loadSdk();
  return new S3Client({
    ...(agent ? { requestHandler: { httpsAgent: agent } } : {}),
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId: c.accessKey, secretAccessKey: c.secretKey },
    // RGW (Pacific) and older MinIO do not know the SDK's default CRC32 trailers; MD5/ETag
    // remain the integrity check, as S3 defined it before 2025
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 2,
  });
}

/** HTTP status of an SDK error, if it is one. */
export function s3Status(err: unknown): number | undefined {
  const sdk = sdkIfLoaded();
  return sdk && err instanceof sdk.S3ServiceException ? err.$metadata.httpStatusCode : undefined;
}

export function s3Code(err: unknown): string | undefined {
  const sdk = sdkIfLoaded();
  return sdk && err instanceof sdk.S3ServiceException ? err.name : undefined;
}

/** An S3 failure as a catalogue error (no request ids or credentials leak into `data`). */
export function fromS3(err: unknown, what: string): RpcError {
  if (err instanceof RpcError) return err;
  if ((err as Error)?.name === 'AbortError') return new RpcError('aborted', `${what}: aborted`);
  const status = s3Status(err);
  const code = s3Code(err);
  if (status === undefined)
    return new RpcError('unavailable', `${what}: the gateway did not answer (${(err as Error).message})`, {
      reason: 'gateway not answering',
    });
  const kind =
    status === 404 ? 'not_found' : status === 403 ? 'denied' : status === 409 ? 'conflict' : 'failed';
  return new RpcError(kind, `${what}: ${code ?? 'error'} (HTTP ${status})`, { s3Code: code, status });
}

type S3Step = Extract<Step, { kind: 's3' }>;

/** The S3 calls both gateways take alike (MinIO and RGW speak the same S3 for these). */
export const s3Steps = {
  createBucket: (name: string, objectLock?: boolean): S3Step => ({
    kind: 's3',
    op: 'CreateBucket',
    input: { Bucket: name, ...(objectLock ? { ObjectLockEnabledForBucket: true } : {}) },
  }),
  versioning: (name: string, on: boolean): S3Step => ({
    kind: 's3',
    op: 'PutBucketVersioning',
    input: { Bucket: name, VersioningConfiguration: { Status: on ? 'Enabled' : 'Suspended' } },
  }),
  /** the bucket policy, or none (deleted) */
  policy: (name: string, doc: PolicyDocument | undefined): S3Step =>
    doc
      ? { kind: 's3', op: 'PutBucketPolicy', input: { Bucket: name, Policy: JSON.stringify(doc) } }
      : { kind: 's3', op: 'DeleteBucketPolicy', input: { Bucket: name } },
};

export async function runS3Step(client: S3Client, step: Extract<Step, { kind: 's3' }>): Promise<void> {
  const i = step.input as never;
  const {
    CreateBucketCommand,
    PutBucketVersioningCommand,
    PutBucketPolicyCommand,
    DeleteBucketPolicyCommand,
    AbortMultipartUploadCommand,
    PutObjectLockConfigurationCommand,
    PutBucketLifecycleConfigurationCommand,
    DeleteBucketLifecycleCommand,
  } = await loadSdk();
  try {
    switch (step.op) {
      case 'CreateBucket':
        await client.send(new CreateBucketCommand(i));
        return;
      case 'PutBucketVersioning':
        await client.send(new PutBucketVersioningCommand(i));
        return;
      case 'PutBucketPolicy':
        await client.send(new PutBucketPolicyCommand(i));
        return;
      case 'DeleteBucketPolicy':
        await client.send(new DeleteBucketPolicyCommand(i));
        return;
      case 'AbortMultipartUpload':
        await client.send(new AbortMultipartUploadCommand(i));
        return;
      case 'PutObjectLockConfiguration':
        await client.send(new PutObjectLockConfigurationCommand(i));
        return;
      case 'PutBucketLifecycleConfiguration':
        await client.send(new PutBucketLifecycleConfigurationCommand(i));
        return;
      case 'DeleteBucketLifecycle':
        await client.send(new DeleteBucketLifecycleCommand(i));
        return;
    }
  } catch (err) {
    throw fromS3(err, `s3 ${step.op}`);
  }
}

export async function readVersioning(client: S3Client, bucket: string): Promise<Versioning> {
  const { GetBucketVersioningCommand } = await loadSdk();
  try {
    const r = await client.send(new GetBucketVersioningCommand({ Bucket: bucket }));
    return r.Status === 'Enabled' ? 'enabled' : r.Status === 'Suspended' ? 'suspended' : 'off';
  } catch (err) {
    throw fromS3(err, `bucket ${bucket}`);
  }
}

export async function readPolicy(client: S3Client, bucket: string): Promise<PolicyDocument | undefined> {
  const { GetBucketPolicyCommand } = await loadSdk();
  try {
    const r = await client.send(new GetBucketPolicyCommand({ Bucket: bucket }));
    return r.Policy ? (JSON.parse(r.Policy) as PolicyDocument) : undefined;
  } catch (err) {
    if (s3Code(err) === 'NoSuchBucketPolicy' || s3Code(err) === 'NoSuchBucketPolicyException')
      return undefined;
    throw fromS3(err, `bucket ${bucket}`);
  }
}

/** Is an S3 endpoint answering at all (any HTTP status)? Undefined when it is, else why not. */
export function answers(
  endpoint: string,
  timeoutMs = 2000,
  agent?: https.Agent,
): Promise<string | undefined> {
  if (endpoint.startsWith('https:')) {
    return new Promise((resolve) => {
      const req = httpsModule().get(endpoint, { agent, timeout: timeoutMs }, (res) => {
        res.resume();
        resolve((res.statusCode ?? 500) >= 500 ? `HTTP ${res.statusCode}` : undefined);
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
  }
  return fetch(endpoint, { signal: AbortSignal.timeout(timeoutMs) }).then(
    async (r) => {
      await r.arrayBuffer();
      return r.status >= 500 ? `HTTP ${r.status}` : undefined;
    },
    (err) => (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message,
  );
}
