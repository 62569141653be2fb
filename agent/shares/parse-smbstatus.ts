/**
 * `smbstatus --json` (Samba 4.17+), pure: the sessions, the tree connects (a client on a share) and the
 * open files (each open of a file, under the share's directory). Recorded output in
 * test/fixtures/smbstatus/samba-4.17/. Samba keys every table by an id; only the fields used are read.
 */
export interface SmbStatus {
  sessions: { id: string; user: string; machine: string; dialect: string }[];
  /** tree connects: `share` is the share's name (smbstatus' "service") */
  tcons: { share: string; machine: string }[];
  /** one entry per open; `sharePath` is the share's directory (its "service_path") */
  opens: { sharePath: string; file: string }[];
}

type Table = Record<string, Record<string, unknown>>;
const table = (v: unknown): Table => (v && typeof v === 'object' ? (v as Table) : {});
const str = (v: unknown) => (typeof v === 'string' ? v : '');

export function parseSmbstatusJson(text: string): SmbStatus {
  const j = JSON.parse(text) as Record<string, unknown>;
  if (!j || typeof j !== 'object' || !('sessions' in j))
    throw new Error('smbstatus --json: no "sessions" table in its output');
  return {
    sessions: Object.entries(table(j.sessions)).map(([id, s]) => ({
      id,
      user: str(s.username),
      machine: str(s.remote_machine),
      dialect: str(s.session_dialect),
    })),
    tcons: Object.values(table(j.tcons)).map((t) => ({ share: str(t.service), machine: str(t.machine) })),
    opens: Object.values(table(j.open_files)).flatMap((f) =>
      Object.keys(table(f.opens)).map(() => ({ sharePath: str(f.service_path), file: str(f.filename) })),
    ),
  };
}
