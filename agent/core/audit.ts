/**
 * audit.*: query the hash-chained audit log and verify its chain.
 */
import { Type } from '@sinclair/typebox';
import { type AnyMethodDef, defineMethod } from '../../rpc/registry.js';
import type { AgentDeps } from '../deps.js';
import { Empty } from './schemas.js';

export function auditMethods(deps: AgentDeps): AnyMethodDef[] {
  const { audit } = deps;
  return [
    defineMethod({
      name: 'audit.query',
      summary: 'Audit records, newest first, with filters and pagination.',
      params: Type.Object(
        {
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'default 50' })),
          offset: Type.Optional(Type.Integer({ minimum: 0, description: 'skip this many' })),
          method: Type.Optional(
            Type.String({ maxLength: 100, description: 'exact, or a prefix ending in *' }),
          ),
          user: Type.Optional(Type.String({ maxLength: 100, description: 'only this user' })),
          outcome: Type.Optional(
            Type.Union(['ok', 'error', 'denied', 'accepted', 'dry-run'].map((o) => Type.Literal(o))),
          ),
          since: Type.Optional(Type.Number({ description: 'ms since the epoch' })),
          until: Type.Optional(Type.Number({ description: 'ms since the epoch' })),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({
        items: Type.Array(
          Type.Object({ seq: Type.Integer(), time: Type.Number() }, { additionalProperties: true }),
        ),
        total: Type.Integer(),
      }),
      role: 'auditor',
      mutating: false,
      handler: async (p) => {
        await audit.flushed(); // appends are batched: include the ones still in flight
        return audit.query(p);
      },
    }),
    defineMethod({
      name: 'audit.verify',
      summary: 'Walk the hash chain of the audit log and report the first altered or missing record.',
      params: Empty,
      result: Type.Object({
        ok: Type.Boolean(),
        checked: Type.Integer(),
        firstBad: Type.Optional(Type.Integer()),
        reason: Type.Optional(Type.String()),
      }),
      role: 'auditor',
      mutating: false,
      handler: async () => {
        await audit.flushed();
        return audit.verify();
      },
    }),
  ];
}
