/**
 * What a bucket holds as an S3 client sees it (issue #22): current objects, every stored
 * version, delete markers and unfinished multipart uploads, each counted on its own. RGW's own
 * figures (`usage`, what the quota limits) count every version and the parts of unfinished
 * uploads as objects and bytes, which no S3 listing shows; these named fields explain the gap.
 * Read with the bucket owner's S3 client (ListObjectVersions, ListMultipartUploads, ListParts).
 *
 * Also the pure builder of the plan that aborts stale multipart uploads (dry run = real run).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Plan } from './backend.js';
import type { Contents } from './model.js';
import { fromS3 } from './s3.js';
import { loadSdk } from './sdk.js';

export interface Upload {
  key: string;
  uploadId: string;
  initiated?: string;
}

const MAX_ENTRIES = 200_000;
const MAX_UPLOADS_WITH_PARTS = 1000;

/** Unfinished multipart uploads of a bucket, oldest first. */
export async function listUploads(client: S3Client, bucket: string): Promise<Upload[]> {
  const { ListMultipartUploadsCommand } = await loadSdk();
  const out: Upload[] = [];
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  try {
    for (;;) {
      const r = await client.send(
        new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker, UploadIdMarker }),
      );
      for (const u of r.Uploads ?? [])
        if (u.Key && u.UploadId)
          out.push({
            key: u.Key,
            uploadId: u.UploadId,
            ...(u.Initiated ? { initiated: u.Initiated.toISOString() } : {}),
          });
      if (!r.IsTruncated || out.length >= MAX_ENTRIES) break;
      KeyMarker = r.NextKeyMarker;
      UploadIdMarker = r.NextUploadIdMarker;
    }
  } catch (err) {
    throw fromS3(err, `bucket ${bucket}: multipart uploads`);
  }
  return out.sort((a, b) => (a.initiated ?? '').localeCompare(b.initiated ?? ''));
}

async function partsOf(
  client: S3Client,
  bucket: string,
  u: Upload,
): Promise<{ parts: number; bytes: number }> {
  const { ListPartsCommand } = await loadSdk();
  let parts = 0;
  let bytes = 0;
  let PartNumberMarker: string | undefined;
  for (;;) {
    const r = await client.send(
      new ListPartsCommand({ Bucket: bucket, Key: u.key, UploadId: u.uploadId, PartNumberMarker }),
    );
    for (const p of r.Parts ?? []) {
      parts++;
      bytes += p.Size ?? 0;
    }
    if (!r.IsTruncated) return { parts, bytes };
    PartNumberMarker = r.NextPartNumberMarker;
  }
}

/** Count a bucket's contents by kind (see ContentsSchema). */
export async function readContents(client: S3Client, bucket: string, now = new Date()): Promise<Contents> {
  const { ListObjectVersionsCommand } = await loadSdk();
  const c: Contents = {
    currentObjects: 0,
    currentBytes: 0,
    versions: 0,
    versionBytes: 0,
    noncurrentVersions: 0,
    deleteMarkers: 0,
    multipartUploads: 0,
    multipartParts: 0,
    multipartBytes: 0,
    complete: true,
    countedAt: now.toISOString(),
  };
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  try {
    for (;;) {
      const r = await client.send(
        new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker, VersionIdMarker }),
      );
      for (const v of r.Versions ?? []) {
        c.versions++;
        c.versionBytes += v.Size ?? 0;
        if (v.IsLatest) {
          c.currentObjects++;
          c.currentBytes += v.Size ?? 0;
        } else c.noncurrentVersions++;
      }
      c.deleteMarkers += r.DeleteMarkers?.length ?? 0;
      if (!r.IsTruncated) break;
      if (c.versions + c.deleteMarkers >= MAX_ENTRIES) {
        c.complete = false;
        break;
      }
      KeyMarker = r.NextKeyMarker;
      VersionIdMarker = r.NextVersionIdMarker;
    }
    const uploads = await listUploads(client, bucket);
    c.multipartUploads = uploads.length;
    if (uploads[0]?.initiated) c.oldestUpload = uploads[0].initiated;
    if (uploads.length > MAX_UPLOADS_WITH_PARTS) c.complete = false;
    for (const u of uploads.slice(0, MAX_UPLOADS_WITH_PARTS)) {
      const p = await partsOf(client, bucket, u);
      c.multipartParts += p.parts;
      c.multipartBytes += p.bytes;
    }
  } catch (err) {
    throw fromS3(err, `bucket ${bucket}: listing`);
  }
  return c;
}

/** The uploads started before `olderThanHours` ago (an upload without a start time is kept). */
export function staleUploads(uploads: readonly Upload[], olderThanHours: number, now: number): Upload[] {
  const cutoff = now - olderThanHours * 3_600_000;
  return uploads.filter((u) => u.initiated !== undefined && Date.parse(u.initiated) < cutoff);
}

/** The plan aborting those uploads: one S3 AbortMultipartUpload each (their parts are freed). */
export function abortPlan(bucket: string, uploads: readonly Upload[], olderThanHours: number): Plan {
  return {
    steps: uploads.map((u) => ({
      kind: 's3' as const,
      op: 'AbortMultipartUpload' as const,
      input: { Bucket: bucket, Key: u.key, UploadId: u.uploadId },
    })),
    notes: [
      uploads.length
        ? `${uploads.length} unfinished multipart upload(s) of ${bucket} started more than ${olderThanHours} h ago are aborted`
        : `no unfinished multipart upload of ${bucket} started more than ${olderThanHours} h ago`,
    ],
  };
}
