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
  unix: {
    admin: 'administrators',
    operator: 'operators and administrators',
    auditor: 'auditors, operators and administrators',
  },
  token: {
    admin: 'admin tokens',
    operator: 'operator and admin tokens',
    auditor: 'auditor, operator and admin tokens',
  },
} as const;

/**
 * Why a connection of `role` is refused when `open` connections are open, or undefined.
 * Reservations are clamped so that a role-less caller keeps at least one slot.
 */
export function slotRefusal(
  open: number,
  max: number,
  role: Role,
  r: SlotReservations,
  who: 'unix' | 'token' = 'unix',
): string | undefined {
  if (open >= max) return 'too many connections';
  // the slots each tier may not use, cumulated from the top and kept below max
  const admin = Math.min(r.admin ?? 0, max - 1);
  const operator = Math.min(admin + (r.operator ?? 0), max - 1);
  const auditor = Math.min(operator + (r.auditor ?? 0), max - 1);
  const closed = role === 'admin' ? 0 : role === 'operator' ? admin : role === 'auditor' ? operator : auditor;
  if (open < max - closed) return undefined;
  // named by the lowest role above the caller that holds some of the closed slots
  const tier = closed > operator ? 'auditor' : closed > admin ? 'operator' : 'admin';
  return `too many connections: the last ${closed} are reserved for ${WHO[who][tier]}`;
}
