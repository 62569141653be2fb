/**
 * The agent's own methods, one file per namespace: system.*, auth.*, job.*, audit.*, events.*.
 */
import type { AgentDeps, Service } from '../deps.js';
import { auditMethods } from './audit.js';
import { authMethods } from './auth.js';
import { eventMethods } from './events.js';
import type { CoreExtra } from './extra.js';
import { jobMethods } from './job.js';
import { systemMethods } from './system.js';

export type { CoreExtra } from './extra.js';

export function coreService(deps: AgentDeps, extra: CoreExtra): Service {
  return {
    name: 'core',
    methods: [
      ...systemMethods(deps, extra),
      ...authMethods(deps, extra),
      ...jobMethods(deps),
      ...auditMethods(deps),
      ...eventMethods(deps),
    ],
  };
}
