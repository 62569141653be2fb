/**
 * Read access to the SQLite catalog through the sqlite3 CLI in read-only mode (argv → run →
 * JSON rows). Why the catalog and not bconsole for reads: Bacula 9.6's `list`/`llist` print
 * ASCII tables and cannot filter or page, and every bconsole call costs a director session;
 * a read-only SQL query pages 10,000 jobs in milliseconds and never disturbs the director.
 * Writes (jobs, volumes, pruning) stay with the director.
 *
 * `-readonly` makes the CLI open the file read-only; `.timeout` waits on the director's write
 * locks instead of failing with SQLITE_BUSY.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { RpcError, unavailable } from '../../rpc/errors.js';
import type { Runner } from '../runner.js';
import { extractSchemaSql } from './catalog-sql.js';

/** Debian's script, bacula-director-sqlite3 package. */
export const DEBIAN_SCHEMA_SCRIPT = '/usr/share/bacula-director/make_sqlite3_tables';

export interface CatalogOptions {
  runner: Runner;
  dbPath: string;
  timeoutMs?: number;
}

export class Catalog {
  constructor(private opts: CatalogOptions) {}

  get path(): string {
    return this.opts.dbPath;
  }

  exists(): boolean {
    return existsSync(this.opts.dbPath);
  }

  async query<T>(sql: string, signal?: AbortSignal): Promise<T[]> {
    if (!this.exists()) throw unavailable(`bacula catalog ${this.opts.dbPath} does not exist yet`);
    const argv = ['sqlite3', '-readonly', '-json', '-bail', '-cmd', '.timeout 5000', this.opts.dbPath, sql];
    let out: string;
    try {
      const r = await this.opts.runner.run(argv, {
        timeoutMs: this.opts.timeoutMs ?? 15_000,
        signal,
        maxOutput: 256 * 1024 * 1024,
      });
      out = r.stdout;
    } catch (err) {
      // Never echo the SQL back: it is ours, and the caller only needs to know the catalog failed.
      if (err instanceof RpcError && err.kind === 'failed') {
        throw new RpcError(
          'failed',
          `bacula catalog query failed: ${String(err.data.stderr ?? '').slice(0, 300)}`,
        );
      }
      throw err;
    }
    const text = out.trim();
    return text ? (JSON.parse(text) as T[]) : [];
  }
}

/**
 * Create an empty catalog from Debian's schema script (once, before the director first starts).
 * The SQL goes to sqlite3 on stdin; the script's shell parts (cd /var/lib/bacula, chmod) are not run.
 */
export async function createCatalog(
  runner: Runner,
  dbPath: string,
  script = DEBIAN_SCHEMA_SCRIPT,
): Promise<boolean> {
  if (existsSync(dbPath)) return false;
  let text: string;
  try {
    text = await readFile(script, 'utf8');
  } catch {
    throw unavailable(`bacula catalog schema ${script} not found (is bacula-director-sqlite3 installed?)`);
  }
  await runner.run(['sqlite3', '-bail', dbPath], { input: extractSchemaSql(text), timeoutMs: 60_000 });
  return true;
}
