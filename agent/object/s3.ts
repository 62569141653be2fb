/**
 * The S3 data path, through the AWS SDK v3 (request signing is the SDK's, never ours): clients
 * for an endpoint and credentials, the admin's S3 steps of a plan, and the mapping of S3 errors
 * to the error catalogue.
 */
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { RpcError } from '../../rpc/errors.js';
import type { Step, Versioning } from './backend.js';
import type { PolicyDocument } from './policy.js';

export interface S3Credentials {
  accessKey: string;
  secretKey: string;
}

export function s3Client(endpoint: string, c: S3Credentials, region = 'us-east-1'): S3Client {
  return new S3Client({
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
  return err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
}

export function s3Code(err: unknown): string | undefined {
  return err instanceof S3ServiceException ? err.name : undefined;
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

export async function runS3Step(client: S3Client, step: Extract<Step, { kind: 's3' }>): Promise<void> {
  const i = step.input as never;
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
    }
  } catch (err) {
    throw fromS3(err, `s3 ${step.op}`);
  }
}

export async function readVersioning(client: S3Client, bucket: string): Promise<Versioning> {
  try {
    const r = await client.send(new GetBucketVersioningCommand({ Bucket: bucket }));
    return r.Status === 'Enabled' ? 'enabled' : r.Status === 'Suspended' ? 'suspended' : 'off';
  } catch (err) {
    throw fromS3(err, `bucket ${bucket}`);
  }
}

export async function readPolicy(client: S3Client, bucket: string): Promise<PolicyDocument | undefined> {
  try {
    const r = await client.send(new GetBucketPolicyCommand({ Bucket: bucket }));
    return r.Policy ? (JSON.parse(r.Policy) as PolicyDocument) : undefined;
  } catch (err) {
    if (s3Code(err) === 'NoSuchBucketPolicy' || s3Code(err) === 'NoSuchBucketPolicyException')
      return undefined;
    throw fromS3(err, `bucket ${bucket}`);
  }
}

/** Is an S3 endpoint answering at all (any HTTP status)? */
export async function answers(endpoint: string, timeoutMs = 2000): Promise<string | undefined> {
  try {
    const r = await fetch(endpoint, { signal: AbortSignal.timeout(timeoutMs) });
    await r.arrayBuffer();
    return r.status >= 500 ? `HTTP ${r.status}` : undefined;
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return cause ?? (err as Error).message;
  }
}
