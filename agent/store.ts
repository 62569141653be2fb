/**
 * Agent state in LMDB (lmdb-js) under var/lib/calypso: named databases for jobs, audit,
 * tokens, settings and each subsystem's desired configuration, with a schema version and
 * forward migrations. Opening an environment left by a killed process is safe: LMDB commits
 * are atomic, so the last committed transaction is what we see.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { type Database, open, type RootDatabase } from 'lmdb';

export const DB_NAMES = [
  'meta',
  'jobs',
  'audit',
  'tokens',
  'settings',
  'config',
  'alerts',
  'history',
] as const;
export type DbName = (typeof DB_NAMES)[number];

export interface Migration {
  version: number;
  description: string;
  up(store: Store): Promise<void>;
}

/** Forward migrations, in order. Version 1 is the initial layout (nothing to transform). */
export const MIGRATIONS: Migration[] = [{ version: 1, description: 'initial layout', up: async () => {} }];
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export interface Store {
  root: RootDatabase;
  /**
   * This appliance's random id (32 hex digits), made on the state's first open and kept in the
   * `meta` database — so in every state backup, and never shared by two appliances, even when
   * they are set up alike. What must differ between appliances (LUN serials and NAA ids) is
   * derived from it.
   */
  applianceId(): string;
  db(name: DbName): Database;
  schemaVersion(): number;
  close(): Promise<void>;
}

const APPLIANCE_ID = 'applianceId';

export interface OpenStoreOptions {
  path: string;
  migrations?: Migration[];
  /** Called before a migration runs, so that callers can back up the state first. */
  beforeMigrate?: (from: number, to: number) => Promise<void>;
}

export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  mkdirSync(opts.path, { recursive: true, mode: 0o700 });
  const root = open({ path: opts.path, compression: false, maxDbs: 32, mapSize: 4 * 1024 ** 3 });
  const dbs = new Map<DbName, Database>();
  for (const name of DB_NAMES) {
    dbs.set(name, root.openDB({ name, keyEncoding: name === 'audit' ? 'uint32' : 'ordered-binary' }));
  }
  const store: Store = {
    root,
    db: (name) => dbs.get(name)!,
    schemaVersion: () => (dbs.get('meta')!.get('schemaVersion') as number | undefined) ?? 0,
    applianceId: () => dbs.get('meta')!.get(APPLIANCE_ID) as string,
    close: async () => {
      await root.flushed;
      await root.close();
    },
  };
  const migrations = opts.migrations ?? MIGRATIONS;
  const current = store.schemaVersion();
  const target = migrations.at(-1)?.version ?? 0;
  if (current > target) {
    await root.close();
    throw new Error(
      `state: schema version ${current} is newer than this agent knows (${target}); refusing to open`,
    );
  }
  if (current < target) {
    await opts.beforeMigrate?.(current, target);
    for (const m of migrations) {
      if (m.version <= current) continue;
      await m.up(store);
      await dbs.get('meta')!.put('schemaVersion', m.version);
    }
  }
  const meta = dbs.get('meta')!;
  if (typeof meta.get(APPLIANCE_ID) !== 'string')
    await meta.ifNoExists(APPLIANCE_ID, () => {
      meta.put(APPLIANCE_ID, randomBytes(16).toString('hex'));
    });
  return store;
}
