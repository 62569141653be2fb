/**
 * The backup desired state in LMDB (`config` db): `backup/settings` and
 * `backup/<kind>/<name>`. No secrets are ever stored here (secrets.ts). Objects are normalised
 * (defaults applied, validated) on the way in, so what is stored is what is rendered.
 */
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Database } from 'lmdb';
import { invalid } from '../../rpc/errors.js';
import {
  ClientSchema,
  DEFAULT_SETTINGS,
  type DesiredState,
  FilesetSchema,
  JobSchema,
  KINDS,
  type Kind,
  PoolSchema,
  ScheduleSchema,
  type Settings,
  StorageSchema,
} from './model.js';

const LIST: Record<Kind, keyof Omit<DesiredState, 'settings'>> = {
  client: 'clients',
  fileset: 'filesets',
  schedule: 'schedules',
  pool: 'pools',
  storage: 'storages',
  job: 'jobs',
};

export const KIND_SCHEMA: Record<Kind, TSchema> = {
  client: ClientSchema,
  fileset: FilesetSchema,
  schedule: ScheduleSchema,
  pool: PoolSchema,
  storage: StorageSchema,
  job: JobSchema,
};

export function listKey(kind: Kind): keyof Omit<DesiredState, 'settings'> {
  return LIST[kind];
}

/** Defaults applied, then validated; `invalid` with the first schema error otherwise. */
export function normalize<T>(schema: TSchema, input: unknown, what: string): T {
  let v = Value.Clone(input) as Record<string, unknown>;
  // Storage is a union: pick the member by its `type` so that member defaults apply.
  if (schema === StorageSchema && v && typeof v === 'object') {
    const member = (StorageSchema.anyOf as TSchema[]).find(
      (m) => (m as unknown as { properties: { type: { const: string } } }).properties.type.const === v.type,
    );
    if (!member) throw invalid(`${what}: type must be "disk" or "tape"`);
    v = Value.Default(member, v) as Record<string, unknown>;
    v = Value.Clean(member, v) as Record<string, unknown>;
  } else {
    v = Value.Default(schema, v) as Record<string, unknown>;
  }
  if (!Value.Check(schema, v)) {
    const e = [...Value.Errors(schema, v)][0];
    throw invalid(`${what}: ${e ? `${e.path || '/'} ${e.message}` : 'does not match the schema'}`);
  }
  return v as T;
}

/**
 * The desired state as agents before the managed-config pipeline kept it (`backup/settings`,
 * `backup/<kind>/<name>` in the `config` db): read once, as the pipeline's initial state, so an
 * upgraded appliance keeps its Bacula configuration. Nothing writes these keys any more.
 */
export class LegacyStateStore {
  constructor(private db: Database) {}

  settings(): Settings {
    const stored = this.db.get('backup/settings') as Partial<Settings> | undefined;
    return { ...DEFAULT_SETTINGS, ...stored };
  }

  load(): DesiredState {
    const state: DesiredState = {
      settings: this.settings(),
      clients: [],
      filesets: [],
      schedules: [],
      pools: [],
      storages: [],
      jobs: [],
    };
    for (const kind of KINDS) {
      const prefix = `backup/${kind}/`;
      for (const { value } of this.db.getRange({ start: prefix, end: `${prefix}\uffff` })) {
        (state[LIST[kind]] as unknown[]).push(value);
      }
    }
    return state;
  }
}

/** A copy of `state` with `obj` inserted or replaced in its list (sorted by name, as LMDB orders keys). */
export function withObject(state: DesiredState, kind: Kind, obj: { name: string }): DesiredState {
  const key = LIST[kind];
  const list = (state[key] as { name: string }[]).filter((o) => o.name !== obj.name);
  list.push(obj);
  list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ...state, [key]: list };
}

export function withoutObject(state: DesiredState, kind: Kind, name: string): DesiredState {
  const key = LIST[kind];
  return { ...state, [key]: (state[key] as { name: string }[]).filter((o) => o.name !== name) };
}
