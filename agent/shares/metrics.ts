/**
 * What the shares subsystem contributes to `/metrics` (agent/metrics-registry.ts): SMB sessions, and
 * clients connected and files open per share, from one `smbstatus --json` per scrape.
 */
import { defineMetrics, family, type MetricsSource } from '../metrics-registry.js';
import type { SmbStatus } from './parse-smbstatus.js';

/** `read` gives smbstatus' tables and the share name of each share directory. */
export function sharesMetrics(
  read: () => Promise<{ status: SmbStatus; shareOf: (dir: string) => string }>,
): MetricsSource<unknown>[] {
  type R = Awaited<ReturnType<typeof read>>;
  const count = (keys: string[], set: (l: { share: string }, v: number) => void) => {
    const by = new Map<string, number>();
    for (const k of keys) by.set(k, (by.get(k) ?? 0) + 1);
    for (const [share, n] of by) set({ share }, n);
  };
  return [
    defineMetrics({
      name: 'shares.smb',
      read,
      families: [
        family<R>({
          name: 'calypso_shares_smb_sessions',
          help: 'SMB sessions (authenticated or guest clients) on smbd',
          labels: [],
          collect: (r, set) => set({}, r.status.sessions.length),
        }),
        family<R>({
          name: 'calypso_shares_smb_connections',
          help: 'SMB tree connects (a client on a share) per share',
          labels: ['share'],
          collect: (r, set) =>
            count(
              r.status.tcons.map((t) => t.share),
              set,
            ),
        }),
        family<R>({
          name: 'calypso_shares_smb_open_files',
          help: 'Files held open by SMB clients per share (each open counted)',
          labels: ['share'],
          collect: (r, set) =>
            count(
              r.status.opens.map((o) => r.shareOf(o.sharePath)),
              set,
            ),
        }),
      ],
    }),
  ];
}
