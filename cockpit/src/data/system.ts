/** system.* and auth.whoami: who the agent thinks we are, and what this appliance can do. */
import type { Item, Result } from '../generated/api.js';
import type { AgentClient } from '../rpc/client.js';

export type WhoAmI = Result<'auth.whoami'>;

export type Capability = Item<'system.capabilities'>;

export type SystemInfo = Result<'system.info'>;

type Opts = { signal?: AbortSignal };

export const whoami = (c: AgentClient, o: Opts = {}) => c.call<WhoAmI>('auth.whoami', {}, o);
export const capabilities = (c: AgentClient, o: Opts = {}) =>
  c.call<Capability[]>('system.capabilities', {}, o);
export const systemInfo = (c: AgentClient, o: Opts = {}) => c.call<SystemInfo>('system.info', {}, o);

/** Capabilities behind each area of the navigation that has no pages yet. */
export const AREA_CAPABILITIES: Record<string, string[]> = {
  iscsi: ['scst', 'tgt', 'iscsi-initiator'],
  tape: ['mhvtl', 'mtx', 'mt'],
  backup: ['bacula-dir', 'bacula-sd', 'bacula-fd', 'bconsole', 'bareos-dir'],
  object: ['minio'],
};

const RANK = { none: 0, public: 0, auditor: 2, operator: 3, admin: 4 } as const;
/** Whether the caller's role reaches `need` (the agent decides; this only shapes hints). */
export function roleAtLeast(who: WhoAmI | undefined, need: 'auditor' | 'operator' | 'admin'): boolean {
  return who ? RANK[who.role] >= RANK[need] : false;
}
