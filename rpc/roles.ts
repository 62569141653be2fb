/**
 * Roles are a closed table with inclusion and default deny (STYLE.md convention 10):
 * admin ⊃ operator ⊃ auditor ⊃ public. `none` (an identity with no mapped role) may call
 * only `public` methods.
 */
export const ROLES = ['none', 'public', 'auditor', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];
/** Roles a method can require. */
export type LeastRole = Exclude<Role, 'none'>;

const RANK: Record<Role, number> = { none: 0, public: 0, auditor: 2, operator: 3, admin: 4 };

export function roleAllows(have: Role, need: LeastRole): boolean {
  if (need === 'public') return true;
  return RANK[have] >= RANK[need];
}

export interface Identity {
  /** user name (or `token:<id>` for API tokens) */
  user: string;
  uid?: number;
  gid?: number;
  pid?: number;
  groups?: number[];
  role: Role;
  transport: 'unix' | 'websocket' | 'internal';
  tokenId?: string;
}
