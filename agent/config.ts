/**
 * calypso.yaml: parsed with `yaml`, validated against a TypeBox schema with defaults.
 * A bad file stops the agent with the file, line and reason (ConfigError).
 */
import { readFileSync } from 'node:fs';
import { type Static, type TObject, type TProperties, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { LineCounter, parseDocument } from 'yaml';
import { parseSecrets } from './secrets.js';

const RoleMap = Type.Object(
  {
    users: Type.Array(Type.String(), { default: [], description: 'user names given this role' }),
    groups: Type.Array(Type.String(), {
      default: [],
      description: 'group names whose members get this role',
    }),
    uids: Type.Array(Type.Integer({ minimum: 0 }), {
      default: [],
      description: 'numeric uids given this role',
    }),
  },
  { additionalProperties: false, default: {} },
);

/**
 * A subsystem's slice of calypso.yaml: a top-level key and its schema (every field with a
 * default), declared in `agent/<subsystem>/config.ts` and listed with the subsystem
 * (agent/subsystems.ts). The agent validates the whole file against the core schema plus
 * every slice; a subsystem reads its part with `configOf`.
 */
export interface ConfigSlice<T extends TObject = TObject> {
  key: string;
  schema: T;
}

export function defineConfigSlice<T extends TObject>(key: string, schema: T): ConfigSlice<T> {
  return { key, schema };
}

/** A subsystem's validated, defaulted part of the configuration. */
export function configOf<T extends TObject>(config: Config, slice: ConfigSlice<T>): Static<T> {
  const v = (config as unknown as Record<string, unknown>)[slice.key];
  return (v ?? Value.Default(slice.schema, {})) as Static<T>;
}

/** The core schema with the subsystems' slices added as top-level keys. */
export function configSchemaWith(slices: readonly ConfigSlice[]): TObject {
  const props: TProperties = { ...CoreConfigSchema.properties };
  for (const s of slices) {
    if (props[s.key]) throw new Error(`config: key ${s.key} declared twice`);
    props[s.key] = Type.Object(s.schema.properties, {
      ...s.schema,
      additionalProperties: s.schema.additionalProperties ?? false,
      default: {},
    });
  }
  return Type.Object(props, { additionalProperties: false, default: {} });
}

const CoreConfigSchema = Type.Object(
  {
    agent: Type.Object(
      {
        socket: Type.Object(
          {
            path: Type.Optional(
              Type.String({ description: 'Unix socket path; default <prefix>/run/calypso/agent.sock' }),
            ),
            mode: Type.String({
              pattern: '^0?[0-7]{3}$',
              default: '0660',
              description: 'octal file mode of the socket',
            }),
            group: Type.String({
              default: 'calypso',
              description: 'group owning the socket (when it exists)',
            }),
          },
          { additionalProperties: false, default: {} },
        ),
        websocket: Type.Object(
          {
            enabled: Type.Boolean({ default: true }),
            host: Type.String({
              default: '127.0.0.1',
              description: 'bind address; beyond loopback TLS is required',
            }),
            port: Type.Integer({
              minimum: 0,
              maximum: 65535,
              default: 8787,
              description: '0 picks a free port',
            }),
            tls: Type.Union([Type.Literal('auto'), Type.Literal('on'), Type.Literal('off')], {
              default: 'auto',
              description: 'auto: TLS from etc/calypso/tls when bound beyond loopback',
            }),
            origins: Type.Array(Type.String({ maxLength: 200 }), {
              default: ['https://localhost:9090', 'https://127.0.0.1:9090'],
              description:
                'browser origins allowed to open the WebSocket (Cockpit’s by default); a request without Origin (not a browser) is not checked',
            }),
          },
          { additionalProperties: false, default: {} },
        ),
        limits: Type.Object(
          {
            maxMessageBytes: Type.Integer({ minimum: 1024, default: 4 * 1024 * 1024 }),
            maxPublicMessageBytes: Type.Integer({
              minimum: 1024,
              default: 64 * 1024,
              description:
                'message size for callers with no role (public methods only); a longer line is refused before it is parsed',
            }),
            maxBatch: Type.Integer({ minimum: 1, default: 100 }),
            maxBatchCallsInFlight: Type.Integer({
              minimum: 1,
              default: 512,
              description: 'calls of batches in flight per connection; a batch past it gets one limit error',
            }),
            maxDepth: Type.Integer({ minimum: 4, default: 64 }),
            maxConnections: Type.Integer({ minimum: 1, default: 256 }),
            idleTimeoutSec: Type.Integer({ minimum: 0, default: 900, description: '0: never' }),
            maxInflight: Type.Integer({
              minimum: 1,
              default: 64,
              description: 'calls in flight per connection before the agent stops reading from it',
            }),
            maxBufferedBytes: Type.Integer({
              minimum: 65536,
              default: 8 * 1024 * 1024,
              description: 'a reader slower than this much queued output is disconnected',
            }),
            maxResponseBytes: Type.Integer({
              minimum: 65536,
              default: 8 * 1024 * 1024,
              description: 'bytes of answers one batch may produce; beyond, the batch gets one limit error',
            }),
            maxQueuedBytesTotal: Type.Integer({
              minimum: 1024 * 1024,
              default: 64 * 1024 * 1024,
              description:
                'output queued for all connections together; past it, a connection that is not reading is dropped',
            }),
            maxQueuedBytesPerPeer: Type.Integer({
              minimum: 65536,
              default: 16 * 1024 * 1024,
              description:
                'output queued for all connections of one non-admin uid (Unix) or token (WebSocket); past it, the connection whose answer does not fit is closed',
            }),
            maxPerUid: Type.Integer({
              minimum: 1,
              default: 32,
              description: 'Unix-socket connections per non-admin uid',
            }),
            maxPerToken: Type.Integer({
              minimum: 1,
              default: 32,
              description: 'WebSocket connections per non-admin API token',
            }),
            reservedForAdmin: Type.Integer({
              minimum: 0,
              default: 16,
              description: 'of maxConnections, slots only admins may take (so root can always connect)',
            }),
            reservedForOperator: Type.Integer({
              minimum: 0,
              default: 16,
              description: 'slots before the admins’ that only operators and admins may take',
            }),
            reservedForAuditor: Type.Integer({
              minimum: 0,
              default: 16,
              description: 'slots before the operators’ that only auditors and up may take',
            }),
            maxUnauthenticated: Type.Integer({
              minimum: 1,
              default: 64,
              description: 'TCP connections to the WebSocket port not yet upgraded with a valid token',
            }),
            handshakeTimeoutSec: Type.Integer({
              minimum: 1,
              default: 5,
              description: 'a TCP connection not upgraded within this time is closed',
            }),
            httpKeepAliveSec: Type.Integer({
              minimum: 1,
              default: 5,
              description:
                'an idle keep-alive HTTP connection (a /metrics scraper) is closed after this time',
            }),
            failedAuthPerMinute: Type.Integer({
              minimum: 1,
              default: 30,
              description:
                'failed token attempts per address per minute; more are refused with HTTP 429 unchecked',
            }),
          },
          { additionalProperties: false, default: {} },
        ),
        audit: Type.Object(
          {
            retentionDays: Type.Integer({
              minimum: 0,
              default: 365,
              description: 'audit records older than this are pruned (0: by count only)',
            }),
            maxRecords: Type.Integer({
              minimum: 1000,
              default: 1_000_000,
              description: 'records kept at most',
            }),
            maxParamsBytes: Type.Integer({
              minimum: 256,
              default: 4096,
              description:
                'params longer than this are stored as their size, SHA-256 and first 512 characters',
            }),
            refusalsPerMinute: Type.Integer({
              minimum: 1,
              default: 20,
              description: 'refusal records per peer per minute; more are summarised in one record',
            }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
          { default: 'info' },
        ),
        file: Type.Boolean({ default: true, description: 'write var/log/calypso/agent.log' }),
        rotateSize: Type.String({ default: '10m', pattern: '^[0-9]+[kmg]?$' }),
        rotateCount: Type.Integer({ minimum: 1, default: 10 }),
      },
      { additionalProperties: false, default: {} },
    ),
    roles: Type.Object(
      {
        admin: Type.Object(RoleMap.properties, {
          additionalProperties: false,
          default: { groups: ['calypso-admin'] },
        }),
        operator: Type.Object(RoleMap.properties, {
          additionalProperties: false,
          default: { groups: ['calypso-operator'] },
        }),
        auditor: Type.Object(RoleMap.properties, {
          additionalProperties: false,
          default: { groups: ['calypso'] },
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    jobs: Type.Object(
      {
        retentionDays: Type.Integer({ minimum: 1, default: 30 }),
        maxFinished: Type.Integer({ minimum: 10, default: 2000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    terminal: Type.Object(
      {
        enabled: Type.Boolean({
          default: true,
          description: 'false: no shell is opened (terminal.open and /terminal answer unavailable)',
        }),
        shell: Type.String({ default: '/bin/bash' }),
        maxSessions: Type.Integer({ minimum: 1, default: 16 }),
        idleTimeoutSec: Type.Integer({ minimum: 0, default: 1800 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);
/**
 * The core keys, with any subsystem key let through unchecked: for tools that read only the
 * core (the upgrader finds the socket) without loading every subsystem.
 */
export const CoreOnlyConfigSchema = Type.Object(CoreConfigSchema.properties, {
  additionalProperties: true,
  default: {},
});

/** The core configuration; subsystem slices are read with `configOf`. */
export type Config = Static<typeof CoreConfigSchema>;
/** The core schema alone (subsystem slices: `configSchemaWith`). */
export const ConfigSchema = CoreConfigSchema;

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${reason}`);
    this.name = 'ConfigError';
  }
}

/** Parse and validate configuration text; `file` names it in errors. */
export function parseConfig(text: string, file = 'calypso.yaml', schema: TObject = CoreConfigSchema): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.pos?.[0];
    const line = pos === undefined ? undefined : lineCounter.linePos(pos).line;
    throw new ConfigError(file, line, first.message.split('\n')[0] ?? 'YAML error');
  }
  const raw = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(file, 1, 'the top level must be a mapping');
  const value = Value.Default(schema, Value.Clone(raw));
  const err = Value.Errors(schema, value).First();
  if (err) {
    const segments = err.path.split('/').filter(Boolean);
    let line: number | undefined;
    for (let n = segments.length; n > 0 && line === undefined; n--) {
      const node = doc.getIn(segments.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) line = lineCounter.linePos(node.range[0]).line;
    }
    const where = segments.length ? segments.join('.') : '(top)';
    throw new ConfigError(file, line, `${where}: ${err.message}`);
  }
  return value as Config;
}

export function loadConfig(file: string, schema: TObject = CoreConfigSchema): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return parseConfig('', file, schema);
    throw new ConfigError(file, undefined, (e as Error).message);
  }
  return parseConfig(text, file, schema);
}

/** secrets.env: KEY=VALUE lines. Values are returned, never logged. */
/** secrets.env as a map (the agent keeps it in a SecretStore, agent/secrets.ts). */
export function loadSecrets(file: string): Map<string, string> {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return new Map();
  }
  return parseSecrets(text);
}
