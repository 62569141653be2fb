/**
 * Connection slots by role (issue #15 item 5, issue #28 item 18). Of `max` connections the
 * last `reserved.admin` are for admins only, the `reserved.operator` before them for operators
 * and admins, the `reserved.auditor` before those for auditors and up: nine role-less uids
 * filling their per-uid caps used to lock out operators and auditors, not only admins.
 * Shared by the Unix-socket and WebSocket transports.
 */
import type { Role } from './roles.js';

export interface SlotReservations {
  admin?: number;
  operator?: number;
  auditor?: number;
}

const WHO = {
  admin: 'administrators',
  operator: 'operators and administrators',
  auditor: 'auditors, operators and administrators',
} as const;

/**
 * Why a connection of `role` is refused when `open` connections are open, or undefined.
 * Reservations are clamped so that a role-less caller keeps at least one slot.
 */
export function slotRefusal(open: number, max: number, role: Role, r: SlotReservations): string | undefined {
  if (open >= max) return 'too many connections';
  // the slots each tier may not use, cumulated from the top and kept below max
  const admin = Math.min(r.admin ?? 0, max - 1);
  const operator = Math.min(admin + (r.operator ?? 0), max - 1);
  const auditor = Math.min(operator + (r.auditor ?? 0), max - 1);
  const [closed, tier] =
    role === 'admin'
      ? [0, undefined]
      : role === 'operator'
        ? [admin, 'admin' as const]
        : role === 'auditor'
          ? [operator, 'operator' as const]
          : [auditor, 'auditor' as const];
  if (tier === undefined || open < max - closed) return undefined;
  return `too many connections: the last ${closed} are reserved for ${WHO[tier]}`;
}
