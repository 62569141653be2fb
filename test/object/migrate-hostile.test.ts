/**
 * A hostile S3 source for `object.migrate` (issue #28 item 10): a real HTTP server speaking
 * S3's ListObjectsV2, reached by the AWS SDK as the agent reaches any source, that keeps
 * answering "truncated, here is the next page" (long keys, 60 pages before it ever ends). The
 * migration (a dry run, as in the attack) must stop after `maxKeys` keys, asking for no more
 * pages than those keys fill, with the heap bounded by a page; a page larger than asked for and
 * a continuation token that comes back are refused. The target is the same server, which has
 * no such bucket (NoSuchBucket), as for a first run.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { migrate, PAGE_KEYS } from '../../agent/object/migrate.js';
import { s3Client } from '../../agent/object/s3.js';

const PAGES = 60;
const PAD = 'k'.repeat(900);
let mode: 'endless' | 'fat' | 'loop' = 'endless';
let pagesServed = 0;

function listing(page: number, n: number, token: string | undefined): string {
  const items: string[] = [];
  for (let i = 0; i < n; i++)
    items.push(
      `<Contents><Key>${String(page).padStart(6, '0')}/${String(i).padStart(6, '0')}-${PAD}</Key><Size>1</Size><ETag>"00000000000000000000000000000000"</ETag></Contents>`,
    );
  return `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>evil</Name><KeyCount>${n}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>${token ? 'true' : 'false'}</IsTruncated>${token ? `<NextContinuationToken>${token}</NextContinuationToken>` : ''}${items.join('')}</ListBucketResult>`;
}

describe('a hostile S3 source for object.migrate', { timeout: 120_000 }, () => {
  let server: Server;
  let client: S3Client;

  before(async () => {
    server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (!u.pathname.startsWith('/evil')) {
        res.writeHead(404, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code><Message>no</Message></Error>',
        );
        return;
      }
      pagesServed++;
      const page = Number(u.searchParams.get('continuation-token') ?? '0');
      const next = mode === 'loop' ? '7' : page + 1 < PAGES ? String(page + 1) : undefined;
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(listing(page, mode === 'fat' ? 5 * PAGE_KEYS : PAGE_KEYS, next));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    client = await s3Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, {
      accessKey: 'x',
      secretKey: 'y',
    });
  });
  after(async () => {
    client?.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const run = (maxKeys?: number) =>
    migrate({
      source: client,
      target: client,
      buckets: [{ source: 'evil', target: 'copy' }],
      ensureBucket: async () => {},
      signal: new AbortController().signal,
      progress: () => {},
      planOnly: true,
      ...(maxKeys ? { maxKeys } : {}),
    });

  it('an endless listing stops at maxKeys, holding one page at a time', async () => {
    mode = 'endless';
    pagesServed = 0;
    global.gc?.();
    const heap = process.memoryUsage().heapUsed;
    let peak = heap;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 5);
    const r = await run(5 * PAGE_KEYS);
    clearInterval(sampler);
    assert.equal(r.truncated, true, 'the run says it stopped early');
    assert.equal(r.copied, 5 * PAGE_KEYS, 'exactly maxKeys keys were looked at');
    assert.ok(pagesServed <= 6, `${pagesServed} pages asked for`);
    const grewMB = (peak - heap) / 1024 / 1024;
    assert.ok(grewMB < 40, `heap grew ${grewMB.toFixed(1)} MiB at most`);
  });

  it('a page larger than asked for is refused', async () => {
    mode = 'fat';
    await assert.rejects(run(), /listed 5000 keys in one page, 1000 were asked for/);
  });

  it('a continuation token that comes back is refused', async () => {
    mode = 'loop';
    await assert.rejects(run(), /goes round in a circle/);
  });
});
