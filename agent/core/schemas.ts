/**
 * Schemas shared by the agent's own methods (system, auth, job, audit, events).
 */
import { Type } from '@sinclair/typebox';
import { JOB_STATES } from '../jobs.js';

export const Empty = Type.Object({}, { additionalProperties: false });
export const Progress = Type.Object({ percent: Type.Number(), description: Type.String() });
export const WireErr = Type.Object({
  code: Type.Integer(),
  message: Type.String(),
  data: Type.Optional(Type.Unknown()),
});
export const Job = Type.Object(
  {
    id: Type.String(),
    method: Type.String(),
    state: Type.Union(JOB_STATES.map((s) => Type.Literal(s))),
    progress: Progress,
    user: Type.String(),
    lock: Type.Optional(Type.String()),
    createdAt: Type.Number(),
    startedAt: Type.Optional(Type.Number()),
    finishedAt: Type.Optional(Type.Number()),
    result: Type.Optional(Type.Unknown()),
    error: Type.Optional(WireErr),
    log: Type.Array(Type.Object({ time: Type.Number(), message: Type.String() })),
  },
  { description: 'a job' },
);
export const JobId = Type.String({ pattern: '^[0-9a-z]{6,32}$', description: 'job id' });
export const RoleName = Type.Union([
  Type.Literal('admin'),
  Type.Literal('operator'),
  Type.Literal('auditor'),
]);
export const TokenInfo = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: RoleName,
  createdAt: Type.Number(),
  createdBy: Type.String(),
  expiresAt: Type.Optional(Type.Number()),
  revokedAt: Type.Optional(Type.Number()),
  lastUsedAt: Type.Optional(Type.Number()),
});
export const Topic = Type.String({
  pattern: '^(\\*|[a-z][a-zA-Z0-9]*(\\.[a-z][a-zA-Z0-9]*)*(\\.\\*)?)$',
  maxLength: 100,
  description: 'a topic (`disk.added`), a prefix (`disk.*`) or `*`',
  errorMessage: 'a topic is a dotted name such as disk.added, a prefix such as disk.*, or * for all',
});
