/**
 * Migration off another S3 server (the path MinIO users need now): copy buckets and their
 * objects from any S3 endpoint into local buckets, reporting bytes, abortable, and resumable —
 * a second run copies only what has not arrived. "Arrived" means same key, same size and same
 * ETag; a multipart ETag (`…-N`) depends on the part size, so the source's ETag travels with the
 * copy as metadata (`calypso-source-etag`) and is compared instead.
 */
import { Transform } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { RpcError } from '../../rpc/errors.js';
import { fromS3, s3Code } from './s3.js';
import { loadSdk } from './sdk.js';

export const SOURCE_ETAG = 'calypso-source-etag';

export interface ObjectEntry {
  key: string;
  size: number;
  etag: string;
}

export interface BucketPair {
  source: string;
  target: string;
}

export interface BucketReport extends BucketPair {
  copied: number;
  skipped: number;
  bytesCopied: number;
  bytesSkipped: number;
}

export interface MigrateReport {
  buckets: BucketReport[];
  copied: number;
  skipped: number;
  bytesCopied: number;
  bytesSkipped: number;
}

export interface MigrateRun {
  source: S3Client;
  target: S3Client;
  /** buckets to copy; undefined: every bucket of the source, same names */
  buckets?: BucketPair[];
  /** Create the target bucket when missing (owned by the migration's owner). */
  ensureBucket(name: string): Promise<void>;
  signal: AbortSignal;
  progress(percent: number, description: string): void;
  /** Compare only (a dry run): the report counts what a run would copy; nothing is created. */
  planOnly?: boolean;
}

const unquote = (e: string | undefined) => (e ?? '').replace(/^"|"$/g, '');

export async function listAll(
  client: S3Client,
  bucket: string,
  signal?: AbortSignal,
): Promise<ObjectEntry[]> {
  const { ListObjectsV2Command } = await loadSdk();
  const out: ObjectEntry[] = [];
  let token: string | undefined;
  do {
    const r = await client
      .send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }), { abortSignal: signal })
      .catch((err) => {
        if (s3Code(err) === 'NoSuchBucket') return undefined;
        throw fromS3(err, `list ${bucket}`);
      });
    if (!r) return out;
    for (const o of r.Contents ?? [])
      if (o.Key !== undefined) out.push({ key: o.Key, size: o.Size ?? 0, etag: unquote(o.ETag) });
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** Has `src` arrived as `dst`? (pure apart from the HEAD a multipart source needs) */
async function arrived(
  target: S3Client,
  bucket: string,
  src: ObjectEntry,
  dst: ObjectEntry | undefined,
  signal: AbortSignal,
): Promise<boolean> {
  if (!dst || dst.size !== src.size) return false;
  if (dst.etag === src.etag) return true;
  if (!src.etag.includes('-')) return false;
  const { HeadObjectCommand } = await loadSdk();
  const h = await target
    .send(new HeadObjectCommand({ Bucket: bucket, Key: src.key }), { abortSignal: signal })
    .catch(() => undefined);
  return h?.Metadata?.[SOURCE_ETAG] === src.etag;
}

function check(signal: AbortSignal): void {
  if (signal.aborted) throw new RpcError('aborted', 'migration aborted; run it again to resume');
}

export async function migrate(run: MigrateRun): Promise<MigrateReport> {
  const { source, target, signal } = run;
  const { ListBucketsCommand, GetObjectCommand, PutObjectCommand } = await loadSdk();
  let pairs = run.buckets;
  if (!pairs) {
    const r = await source.send(new ListBucketsCommand({}), { abortSignal: signal }).catch((err) => {
      throw fromS3(err, 'source: list buckets');
    });
    pairs = (r.Buckets ?? []).flatMap((b) => (b.Name ? [{ source: b.Name, target: b.Name }] : []));
  }
  // first the whole plan (what is missing where), so progress is in bytes of the whole job
  const work: { pair: BucketPair; copy: ObjectEntry[]; report: BucketReport }[] = [];
  for (const pair of pairs) {
    check(signal);
    run.progress(0, `comparing ${pair.source} with ${pair.target}`);
    const src = await listAll(source, pair.source, signal);
    if (!run.planOnly) await run.ensureBucket(pair.target);
    const dst = new Map((await listAll(target, pair.target, signal)).map((o) => [o.key, o]));
    const report: BucketReport = { ...pair, copied: 0, skipped: 0, bytesCopied: 0, bytesSkipped: 0 };
    const copy: ObjectEntry[] = [];
    for (const o of src) {
      if (await arrived(target, pair.target, o, dst.get(o.key), signal)) {
        report.skipped++;
        report.bytesSkipped += o.size;
      } else copy.push(o);
    }
    work.push({ pair, copy, report });
  }
  if (run.planOnly) {
    for (const w of work) {
      w.report.copied = w.copy.length;
      w.report.bytesCopied = w.copy.reduce((n, o) => n + o.size, 0);
    }
    return summarise(work.map((w) => w.report));
  }
  const total = work.reduce((n, w) => n + w.copy.reduce((m, o) => m + o.size, 0), 0);
  let done = 0;
  const tell = (what: string) =>
    run.progress(total ? Math.min(99, (done / total) * 100) : 99, `${done} of ${total} bytes; ${what}`);

  for (const { pair, copy, report } of work) {
    for (const o of copy) {
      check(signal);
      tell(`${pair.source}/${o.key}`);
      const got = await source
        .send(new GetObjectCommand({ Bucket: pair.source, Key: o.key }), { abortSignal: signal })
        .catch((err) => {
          throw fromS3(err, `source ${pair.source}/${o.key}`);
        });
      let last = Date.now();
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          done += chunk.length;
          if (Date.now() - last > 250) {
            last = Date.now();
            tell(`${pair.source}/${o.key}`);
          }
          cb(null, chunk);
        },
      });
      const body = (got.Body as NodeJS.ReadableStream).pipe(counter);
      const put = await target
        .send(
          new PutObjectCommand({
            Bucket: pair.target,
            Key: o.key,
            Body: body,
            ContentLength: o.size,
            ContentType: got.ContentType,
            Metadata: { ...got.Metadata, [SOURCE_ETAG]: o.etag },
          }),
          { abortSignal: signal },
        )
        .catch((err) => {
          check(signal);
          throw fromS3(err, `target ${pair.target}/${o.key}`);
        });
      // a single-part source's ETag is the MD5 of its bytes: what arrived must have the same
      if (!o.etag.includes('-') && unquote(put.ETag) !== o.etag)
        throw new RpcError(
          'failed',
          `${pair.target}/${o.key}: ETag ${unquote(put.ETag)} after copy, ${o.etag} at the source`,
        );
      report.copied++;
      report.bytesCopied += o.size;
    }
  }
  run.progress(100, `${done} bytes copied`);
  return summarise(work.map((w) => w.report));
}

function summarise(reports: BucketReport[]): MigrateReport {
  const sum = (f: (r: BucketReport) => number) => reports.reduce((n, r) => n + f(r), 0);
  return {
    buckets: reports,
    copied: sum((r) => r.copied),
    skipped: sum((r) => r.skipped),
    bytesCopied: sum((r) => r.bytesCopied),
    bytesSkipped: sum((r) => r.bytesSkipped),
  };
}
