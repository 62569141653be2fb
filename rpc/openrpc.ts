/**
 * `rpc.discover`: an OpenRPC 1.2.6 document generated from the registry. Schemas are the
 * methods' own TypeBox schemas (JSON Schema), so the document cannot drift from validation.
 * Extension fields `x-role`, `x-mutating`, `x-job` carry the registry's metadata.
 */
import { Type } from '@sinclair/typebox';
import { ERROR_KINDS } from './errors.js';
import { DryRunPlanSchema, JobRefSchema, type Registry } from './registry.js';

export function buildOpenRpc(registry: Registry, version: string): Record<string, unknown> {
  const plain = (s: unknown) => JSON.parse(JSON.stringify(s)) as Record<string, unknown>;
  const methods = registry.list().map(({ def, params }) => {
    const props = params.properties as Record<string, Record<string, unknown>>;
    const required = new Set((params.required as string[] | undefined) ?? []);
    let result: unknown = def.result;
    if (def.job) result = JobRefSchema;
    if (def.mutating && !def.noDryRun) result = Type.Union([result as never, DryRunPlanSchema]);
    return {
      name: def.name,
      summary: def.summary,
      ...(def.description ? { description: def.description } : {}),
      paramStructure: 'by-name',
      params: Object.entries(props).map(([name, schema]) => ({
        name,
        // a documented default is filled in when left out (rpc/params-defaults.ts)
        required: required.has(name) && schema.default === undefined,
        ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
        schema: plain(schema),
      })),
      result: { name: `${def.name}.result`, schema: plain(result) },
      errors: Object.entries(ERROR_KINDS).map(([kind, e]) => ({
        code: e.code,
        message: e.message,
        data: { kind },
      })),
      'x-role': def.role,
      'x-mutating': def.mutating,
      'x-job': Boolean(def.job),
    };
  });
  return {
    openrpc: '1.2.6',
    info: {
      title: 'Calypso agent',
      version,
      description: 'Control plane of the Calypso storage and backup appliance (JSON-RPC 2.0).',
    },
    servers: [
      { name: 'unix', url: 'unix:///run/calypso/agent.sock', summary: 'NDJSON over the Unix socket' },
      {
        name: 'websocket',
        url: 'ws://127.0.0.1:8787/rpc',
        summary: 'one JSON text per message; bearer token',
      },
    ],
    methods,
  };
}
