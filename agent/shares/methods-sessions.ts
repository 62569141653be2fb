/**
 * shares.sessions: who is connected over SMB now, on which shares, and how many files each share
 * has open — one `smbstatus --json` (the same reading as the shares metrics), for the Shares page.
 */
import { Type } from '@sinclair/typebox';
import { unavailable } from '../../rpc/errors.js';
import { type AnyMethodDef, defineMethod } from '../../rpc/registry.js';
import type { SmbStatus } from './parse-smbstatus.js';

export interface SessionsContext {
  requireSamba(): Promise<void>;
  /** smbstatus' tables and the share name of a share directory (service.ts) */
  read(): Promise<{ status: SmbStatus; shareOf: (dir: string) => string }>;
  /** uid → user name from the account backend (smbstatus shows a uid it cannot resolve itself) */
  userNames(): Promise<Map<number, string>>;
}

/** The sessions with their shares, and per share its clients and open files. Pure. */
export function sessionsView(
  status: SmbStatus,
  shareOf: (dir: string) => string,
  names: Map<number, string> = new Map(),
) {
  const sessions = status.sessions.map((s) => ({
    id: s.id,
    user: (/^\d+$/.test(s.user) ? names.get(Number(s.user)) : undefined) ?? s.user,
    machine: s.machine,
    dialect: s.dialect,
    shares: [...new Set(status.tcons.filter((t) => t.machine === s.machine).map((t) => t.share))].sort(),
  }));
  const by = new Map<string, { share: string; clients: number; openFiles: number }>();
  const row = (share: string) => {
    const r = by.get(share) ?? { share, clients: 0, openFiles: 0 };
    by.set(share, r);
    return r;
  };
  for (const t of status.tcons) row(t.share).clients++;
  for (const o of status.opens) row(shareOf(o.sharePath)).openFiles++;
  return { sessions, shares: [...by.values()].sort((a, b) => a.share.localeCompare(b.share)) };
}

export function sessionMethods(sc: SessionsContext): AnyMethodDef[] {
  return [
    defineMethod({
      name: 'shares.sessions',
      summary:
        'SMB sessions now (user, client machine, dialect, the shares it is on) and per share its clients and open files (smbstatus --json)',
      params: Type.Object({}, { additionalProperties: false }),
      result: Type.Object({
        sessions: Type.Array(
          Type.Object({
            id: Type.String(),
            user: Type.String({ description: 'the user the session runs as (guest: the guest account)' }),
            machine: Type.String({ description: 'the client address' }),
            dialect: Type.String({ description: 'SMB dialect, e.g. SMB3_11' }),
            shares: Type.Array(Type.String(), { description: 'shares its client is connected to' }),
          }),
        ),
        shares: Type.Array(
          Type.Object({
            share: Type.String(),
            clients: Type.Integer({ description: 'tree connects (a client on the share)' }),
            openFiles: Type.Integer({ description: 'files held open (each open counted)' }),
          }),
        ),
      }),
      role: 'auditor',
      mutating: false,
      handler: async () => {
        await sc.requireSamba();
        let r: Awaited<ReturnType<SessionsContext['read']>>;
        try {
          r = await sc.read();
        } catch (err) {
          throw unavailable(`smbstatus could not list the sessions: ${(err as Error).message}`, {
            reason: (err as Error).message,
          });
        }
        const names = await sc.userNames().catch(() => new Map<number, string>());
        return sessionsView(r.status, r.shareOf, names);
      },
    }),
  ] as AnyMethodDef[];
}
