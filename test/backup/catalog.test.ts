/**
 * The catalog queries against a real SQLite catalog made from Debian's schema script and
 * seeded with synthetic jobs and files: paging, filters, totals, browsing, file resolution,
 * stale directories, literal escaping.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Catalog, createCatalog } from '../../agent/backup/catalog.js';
import {
  type BrowseRow,
  browseSql,
  extractSchemaSql,
  fileEntry,
  lit,
  localText,
  resolveDirsSql,
  resolveFilesSql,
  staleDirsSql,
} from '../../agent/backup/catalog-sql.js';
import { BackupOps } from '../../agent/backup/ops.js';
import { createRunner } from '../../agent/runner.js';
import { tempDir } from '../helpers/paths.js';
import { SEED_CLIENTS, seedCatalog, seedFilesSql } from './seed.js';

describe('catalog (SQLite, Debian schema)', () => {
  const runner = createRunner();
  const tmp = tempDir('calypso-catalog-');
  const db = path.join(tmp.dir, 'bacula.db');
  const catalog = new Catalog({ runner, dbPath: db });
  // ops with a console that is never reached: history and job lookups only read the catalog
  const ops = new BackupOps({ catalog, bconsole: undefined as never });
  const start = 1_700_000_000;

  before(async () => {
    assert.equal(await createCatalog(runner, db), true);
    assert.equal(await createCatalog(runner, db), false, 'an existing catalog is left alone');
    await seedCatalog(runner, db, { jobs: 500, start, stepSec: 3600 });
    await runner.run(['sqlite3', db], { input: seedFilesSql(1) });
  });
  after(() => tmp.cleanup());

  it('extracts the schema SQL from the heredoc and refuses anything else', () => {
    assert.equal(
      extractSchemaSql('x <<END-OF-DATA\nCREATE TABLE a(b);\nEND-OF-DATA\nexit 0'),
      'CREATE TABLE a(b);',
    );
    assert.throws(() => extractSchemaSql('#!/bin/sh\necho nothing'), /heredoc/);
  });

  it('pages jobs newest first with the total', async () => {
    const p1 = await ops.history({ offset: 0, limit: 50 });
    assert.equal(p1.total, 500);
    assert.equal(p1.items.length, 50);
    assert.equal(p1.items[0]?.jobId, 500);
    assert.equal(p1.items[49]?.jobId, 451);
    const last = await ops.history({ offset: 480, limit: 50 });
    assert.equal(last.items.length, 20);
    assert.equal(last.items.at(-1)?.jobId, 1);
    const past = await ops.history({ offset: 900, limit: 50 });
    assert.deepEqual(past, { items: [], total: 500 });
    const asc = await ops.history({ offset: 0, limit: 3, order: 'asc' });
    assert.deepEqual(
      asc.items.map((i) => i.jobId),
      [1, 2, 3],
    );
  });

  it('filters by name, client, type, level, status and time', async () => {
    const byName = await ops.history({ offset: 0, limit: 500, name: 'nightly-db' });
    assert.equal(byName.total, 100);
    assert.ok(byName.items.every((i) => i.name === 'nightly-db'));
    const quoted = await ops.history({ offset: 0, limit: 500, client: "o'brien-fd" });
    assert.equal(quoted.total, 125);
    assert.ok(quoted.items.every((i) => i.client === "o'brien-fd"));
    const restores = await ops.history({ offset: 0, limit: 500, type: 'restore' });
    assert.equal(restores.total, 10);
    assert.ok(restores.items.every((i) => i.type === 'restore'));
    const fulls = await ops.history({ offset: 0, limit: 500, level: 'Full', type: 'backup' });
    assert.ok(fulls.total > 0 && fulls.items.every((i) => i.level === 'Full'));
    const bad = await ops.history({ offset: 0, limit: 500, status: ['error', 'aborted'] });
    assert.ok(bad.total > 0 && bad.items.every((i) => i.status === 'error' || i.status === 'aborted'));
    const window = await ops.history({
      offset: 0,
      limit: 500,
      since: start + 10 * 3600,
      until: start + 20 * 3600,
    });
    assert.deepEqual(
      window.items.map((i) => i.jobId).sort((a, b) => a - b),
      [11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
    );
    const item = await ops.job(42);
    assert.equal(item.jobId, 42);
    assert.equal(item.client, SEED_CLIENTS[41 % SEED_CLIENTS.length]);
    assert.equal(item.durationSec, 60);
    assert.equal(item.started, new Date((start + 41 * 3600 + 5) * 1000).toISOString());
    await assert.rejects(ops.job(9999), /not in the catalog/);
  });

  it('keeps injection attempts inside string literals', async () => {
    assert.equal(lit("x' OR 1=1 --"), "'x'' OR 1=1 --'");
    assert.throws(() => lit(1.5), /integer/);
    assert.throws(() => lit('a\u0000b'), /NUL/);
    const r = await ops.history({ offset: 0, limit: 10, name: "x' OR '1'='1" });
    assert.equal(r.total, 0);
  });

  it('browses one directory level: sub-directories first, then files, with decoded stats', async () => {
    const root = await catalog.query<BrowseRow>(browseSql(1, '/', 0, 100));
    assert.deepEqual(
      root.map((r) => r.name),
      ['srv/'],
    );
    const rows = await catalog.query<BrowseRow>(browseSql(1, '/srv/data/', 0, 100));
    const items = rows.map((r) => fileEntry('/srv/data/', r));
    assert.deepEqual(
      items.map((i) => [i.name, i.type]),
      [
        ['sub', 'dir'],
        ['a.txt', 'file'],
        ['b c.txt', 'file'],
        ['é.txt', 'file'],
      ],
    );
    assert.equal(items[0]?.mode, 0o750);
    assert.equal(items[2]?.mode, 0o600);
    assert.equal(items[2]?.size, 20);
    assert.equal(Number(rows[0]?.total), 4);
    const page = await catalog.query<BrowseRow>(browseSql(1, '/srv/data/', 1, 2));
    assert.deepEqual(
      page.map((r) => r.name),
      ['a.txt', 'b c.txt'],
    );
    // SQLite's LIKE would be case-insensitive; the prefix test must not be
    assert.deepEqual(await catalog.query(browseSql(1, '/SRV/', 0, 10)), []);
  });

  it('resolves chosen files and directories to catalog ids', async () => {
    const files = await catalog.query<{ dir: string; name: string; fileId: number }>(
      resolveFilesSql(
        [1],
        [
          { dir: '/srv/data/', name: 'é.txt' },
          { dir: '/srv/data/sub/', name: 'deep.txt' },
          { dir: '/srv/data/', name: 'missing' },
        ],
      ),
    );
    assert.deepEqual(files.map((f) => f.name).sort(), ['deep.txt', 'é.txt']);
    const dirs = await catalog.query<{ path: string }>(resolveDirsSql([1], ['/srv/data/sub/', '/nope/']));
    assert.deepEqual(
      dirs.map((d) => d.path),
      ['/srv/data/sub/'],
    );
  });

  it('finds directories whose files came from a later job of the chain', async () => {
    // job 2 (an incremental) adds a file to /srv/data/sub/ without its directory entry
    await runner.run(['sqlite3', db], {
      input:
        "INSERT INTO File (FileIndex, JobId, PathId, FilenameId, LStat, MD5) VALUES (1, 2, 2, 2, 'A A IGk B A A A K A A A A A A', '');",
    });
    const stale = await catalog.query<{ path: string }>(staleDirsSql([1, 2]));
    assert.deepEqual(
      stale.map((s) => s.path),
      ['/srv/data/sub/'],
    );
    assert.deepEqual(await catalog.query(staleDirsSql([1])), []);
  });

  it('says unavailable when the catalog does not exist yet', async () => {
    const none = new Catalog({ runner, dbPath: path.join(tmp.dir, 'none.db') });
    await assert.rejects(none.query('SELECT 1'), (e: Error & { kind?: string }) => e.kind === 'unavailable');
  });

  it('writes time bounds in the catalog’s local wall-clock format', () => {
    assert.match(localText(start), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  });
});
