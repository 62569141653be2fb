/**
 * job.*: follow, list and abort long work.
 */
import { Type } from '@sinclair/typebox';
import { type AnyMethodDef, defineMethod } from '../../rpc/registry.js';
import type { AgentDeps } from '../deps.js';
import { JOB_STATES } from '../jobs.js';
import { Job, JobId } from './schemas.js';

export function jobMethods(deps: AgentDeps): AnyMethodDef[] {
  const { jobs } = deps;
  return [
    defineMethod({
      name: 'job.get',
      summary: 'One job with its state, progress, result or error and log.',
      params: Type.Object({ id: JobId }, { additionalProperties: false }),
      result: Job,
      role: 'auditor',
      mutating: false,
      handler: async (p) => jobs.get(p.id),
    }),
    defineMethod({
      name: 'job.list',
      summary: 'Jobs, newest first.',
      params: Type.Object(
        {
          state: Type.Optional(Type.Union(JOB_STATES.map((s) => Type.Literal(s)))),
          method: Type.Optional(Type.String({ maxLength: 100, description: 'only jobs of this method' })),
          limit: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 1000, description: 'page size, default 50' }),
          ),
          offset: Type.Optional(Type.Integer({ minimum: 0, description: 'skip this many' })),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({ items: Type.Array(Job), total: Type.Integer() }),
      role: 'auditor',
      mutating: false,
      handler: async (p) => jobs.list(p),
    }),
    defineMethod({
      name: 'job.abort',
      summary: 'Abort a running job (its state becomes aborted once the work has stopped).',
      params: Type.Object({ id: JobId }, { additionalProperties: false }),
      result: Job,
      role: 'operator',
      mutating: true,
      handler: async (p, ctx) => {
        if (ctx.dryRun) {
          jobs.get(p.id);
          return { dryRun: true, commands: [], notes: [`would abort job ${p.id}`] };
        }
        return jobs.abort(p.id);
      },
    }),
  ];
}
