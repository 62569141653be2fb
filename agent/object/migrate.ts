/**
 * Migration off another S3 server (the path MinIO users need now): copy buckets and their
 * objects from any S3 endpoint into local buckets, reporting bytes, abortable, and resumable —
 * a second run copies only what has not arrived. "Arrived" means same key, same size and same
 * ETag; a multipart ETag (`…-N`) depends on the part size, so the source's ETag travels with the
 * copy as metadata (`calypso-source-etag`) and is compared instead.
 *
 * A source is not trusted to be finite: its listing is read one page at a time, compared with
 * the target and copied as it goes, and a run looks at `maxKeys` source keys at most (the next
 * run resumes), so memory stays bounded by a page however long the listing (issue #28 item 10).
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
  /** the run stopped at `maxKeys`: run it again to go on */
  truncated?: boolean;
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
  /** source keys looked at in this run at most (default DEFAULT_MAX_KEYS) */
  maxKeys?: number;
}

const unquote = (e: string | undefined) => (e ?? '').replace(/^"|"$/g, '');

/** Keys asked for per listing page; a page with more is refused (a hostile source). */
export const PAGE_KEYS = 1000;
/** Source keys looked at in one run by default; the next run resumes (what arrived is skipped). */
export const DEFAULT_MAX_KEYS = 100_000;

/**
 * A bucket's listing, one page at a time: at most one page is held (issue #28 item 10: a
 * source that lists forever grew the agent to 1.84 GB when the listing was collected first).
 * A page larger than asked, or a continuation token that does not advance, ends the run.
 */
export async function* listPages(
  client: S3Client,
  bucket: string,
  signal?: AbortSignal,
): AsyncGenerator<ObjectEntry[]> {
  const { ListObjectsV2Command } = await loadSdk();
  let token: string | undefined;
  const seen = new Set<string>();
  do {
    const r = await client
      .send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token, MaxKeys: PAGE_KEYS }), {
        abortSignal: signal,
      })
      .catch((err) => {
        if (s3Code(err) === 'NoSuchBucket') return undefined;
        throw fromS3(err, `list ${bucket}`);
      });
    if (!r) return;
    const page = r.Contents ?? [];
    if (page.length > PAGE_KEYS)
      throw new RpcError(
        'failed',
        `${bucket}: the server listed ${page.length} keys in one page, ${PAGE_KEYS} were asked for`,
      );
    yield page.flatMap((o) =>
      o.Key !== undefined ? [{ key: o.Key, size: o.Size ?? 0, etag: unquote(o.ETag) }] : [],
    );
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
    if (token !== undefined) {
      if (seen.has(token)) throw new RpcError('failed', `${bucket}: the listing goes round in a circle`);
      seen.add(token);
      if (seen.size > 64) seen.delete(seen.values().next().value as string);
    }
  } while (token);
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * The target's listing walked alongside the source's (both in S3's key order): `find(key)`
 * answers from one page at a time. A source out of order costs a copy, never memory.
 */
function targetCursor(client: S3Client, bucket: string, signal: AbortSignal) {
  const pages = listPages(client, bucket, signal);
  let page: ObjectEntry[] = [];
  let i = 0;
  let done = false;
  return {
    async find(key: string): Promise<ObjectEntry | undefined> {
      for (;;) {
        while (i < page.length) {
          const c = byteOrder(page[i]!.key, key);
          if (c === 0) return page[i];
          if (c > 0) return undefined;
          i++;
        }
        if (done) return undefined;
        const n = await pages.next();
        if (n.done) {
          done = true;
          return undefined;
        }
        page = n.value;
        i = 0;
      }
    },
    close: () => pages.return(undefined),
  };
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
  const { source, signal } = run;
  const { ListBucketsCommand } = await loadSdk();
  let pairs = run.buckets;
  if (!pairs) {
    const r = await source.send(new ListBucketsCommand({}), { abortSignal: signal }).catch((err) => {
      throw fromS3(err, 'source: list buckets');
    });
    pairs = (r.Buckets ?? [])
      .slice(0, 1000)
      .flatMap((b) => (b.Name ? [{ source: b.Name, target: b.Name }] : []));
  }
  // the target buckets first (one owned by someone else is a conflict before anything is read)
  if (!run.planOnly)
    for (const pair of pairs) {
      check(signal);
      await run.ensureBucket(pair.target);
    }
  // then what is missing where (streamed, counted only), so progress is in bytes of the job
  const plan = await walk(run, pairs, undefined);
  if (run.planOnly) return plan;
  const total = plan.bytesCopied;
  let done = 0;
  const report = await walk(run, pairs, {
    count: (n) => {
      done += n;
    },
    tell: (what) =>
      run.progress(total ? Math.min(99, (done / total) * 100) : 99, `${done} of ${total} bytes; ${what}`),
  });
  run.progress(100, `${done} bytes copied`);
  return report;
}

/**
 * One pass over the source, a page at a time, each key compared with the target as it goes:
 * counted only (`copying` undefined) or copied. Stops after `maxKeys` source keys.
 */
async function walk(
  run: MigrateRun,
  pairs: BucketPair[],
  copying: { count: (n: number) => void; tell: (what: string) => void } | undefined,
): Promise<MigrateReport> {
  const { source, target, signal } = run;
  const maxKeys = run.maxKeys ?? DEFAULT_MAX_KEYS;
  const reports: BucketReport[] = [];
  let looked = 0;
  let truncated = false;
  for (const pair of pairs) {
    if (truncated) break;
    check(signal);
    if (!copying) run.progress(0, `comparing ${pair.source} with ${pair.target}`);
    const report: BucketReport = { ...pair, copied: 0, skipped: 0, bytesCopied: 0, bytesSkipped: 0 };
    reports.push(report);
    const dst = targetCursor(target, pair.target, signal);
    try {
      for await (const page of listPages(source, pair.source, signal)) {
        check(signal);
        for (const o of page) {
          if (looked >= maxKeys) {
            truncated = true;
            break;
          }
          looked++;
          if (await arrived(target, pair.target, o, await dst.find(o.key), signal)) {
            report.skipped++;
            report.bytesSkipped += o.size;
            continue;
          }
          if (copying) await copyOne(run, pair, o, copying.count, copying.tell);
          report.copied++;
          report.bytesCopied += o.size;
        }
        if (truncated) break;
      }
    } finally {
      await dst.close();
    }
  }
  return { ...summarise(reports), ...(truncated ? { truncated: true } : {}) };
}

/** Copy one object, counting its bytes as they pass. */
async function copyOne(
  run: MigrateRun,
  pair: BucketPair,
  o: ObjectEntry,
  count: (n: number) => void,
  tell: (what: string) => void,
): Promise<void> {
  const { source, target, signal } = run;
  const { GetObjectCommand, PutObjectCommand } = await loadSdk();
  tell(`${pair.source}/${o.key}`);
  const got = await source
    .send(new GetObjectCommand({ Bucket: pair.source, Key: o.key }), { abortSignal: signal })
    .catch((err) => {
      throw fromS3(err, `source ${pair.source}/${o.key}`);
    });
  let last = Date.now();
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      count(chunk.length);
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
