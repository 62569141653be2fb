/**
 * Pure parsers of bconsole output (Bacula 9.6). Fixtures: test/fixtures/bacula/9.6.7/.
 *
 * Bacula 9.6's `.api 2` does not give JSON for `list`/`llist` (that arrived later and in
 * Bareos); it does turn the `.status <daemon> header|running|terminated` dot-commands into
 * `key=value` blocks, which is what these parsers read for live state. Catalog lists come from
 * the SQLite catalog instead (catalog.ts).
 */
import type { RunningJob } from './catalog-schemas.js';

export type { RunningJob } from './catalog-schemas.js';

/** Lines bconsole prints around every session; they carry no command output. */
const NOISE = [
  /^Connecting to Director /,
  /^1000 OK: /,
  /^Enter a period to cancel a command\.$/,
  /^You have messages\.$/,
  /^Automatically selected Catalog: /,
  /^Using Catalog "/,
];

export interface Session {
  /** output without the session noise, still including the echoed commands */
  body: string;
  /** the director answered the greeting */
  connected: boolean;
  /** the director refused our password */
  authFailed: boolean;
}

export function stripSession(text: string): Session {
  const lines = text.replace(/\r/g, '').split('\n');
  return {
    connected: lines.some((l) => l.startsWith('1000 OK: ')),
    authFailed: lines.some((l) => l.startsWith('Director authorization problem')),
    body: lines.filter((l) => !NOISE.some((re) => re.test(l))).join('\n'),
  };
}

/**
 * Split a session body into the outputs of each command. bconsole echoes each command line in
 * non-interactive mode; the output of command i is what follows its echo up to the next echo.
 */
export function splitCommands(body: string, commands: readonly string[]): string[] {
  const lines = body.split('\n');
  const out: string[] = [];
  let i = 0;
  let current: string[] | undefined;
  for (const line of lines) {
    if (i < commands.length && line.trim() === commands[i]!.trim()) {
      if (current) out.push(current.join('\n'));
      current = [];
      i++;
      continue;
    }
    current?.push(line);
  }
  if (current) out.push(current.join('\n'));
  while (out.length < commands.length) out.push('');
  return out.map((s) => s.replace(/^\n+|\n+$/g, ''));
}

/** `.api 2` key=value blocks, separated by blank lines; section headers (`running:`) skipped. */
export function parseKeyValueBlocks(text: string): Record<string, string>[] {
  const blocks: Record<string, string>[] = [];
  let cur: Record<string, string> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line === '' || /^[a-z]+:$/.test(line) || line === '====') {
      if (cur && Object.keys(cur).length) blocks.push(cur);
      cur = undefined;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    cur ??= {};
    cur[line.slice(0, eq)] = line.slice(eq + 1);
  }
  if (cur && Object.keys(cur).length) blocks.push(cur);
  return blocks;
}

export interface DaemonHeader {
  name: string;
  version: string;
  started?: string;
  reloaded?: string;
  pid?: number;
  jobsRun?: number;
  jobsRunning?: number;
}

const epochIso = (v: string | undefined) =>
  v && /^\d+$/.test(v) ? new Date(Number(v) * 1000).toISOString() : undefined;
const int = (v: string | undefined) =>
  v !== undefined && /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : undefined;

/** `.api 2` then `.status dir|storage=X|client=X header`. */
export function parseStatusHeader(text: string): DaemonHeader | undefined {
  const b = parseKeyValueBlocks(text).find((x) => x.name !== undefined && x.version !== undefined);
  if (!b) return undefined;
  return {
    name: b.name!,
    version: b.version!.split(' ')[0]!,
    started: epochIso(b.started_epoch),
    reloaded: epochIso(b.reloaded_epoch),
    pid: int(b.pid),
    jobsRun: int(b.jobs_run),
    jobsRunning: int(b.jobs_running),
  };
}

/**
 * Running jobs from `.status dir|client=X|storage=X running`. The daemons spell the keys
 * differently (director/SD: `jobid`, `jobbytes`; FD: `JobId`, `JobBytes`, `Bytes/sec`), so keys
 * are compared case-insensitively.
 */
export function parseRunningJobs(text: string): RunningJob[] {
  const out: RunningJob[] = [];
  for (const block of parseKeyValueBlocks(text)) {
    const b: Record<string, string> = {};
    for (const [k, v] of Object.entries(block)) b[k.toLowerCase()] = v;
    const jobId = int(b.jobid);
    if (jobId === undefined) continue;
    out.push({
      jobId,
      job: b.job ?? '',
      level: b.level?.trim() || undefined,
      type: b.type,
      status: b.status,
      files: int(b.jobfiles) ?? 0,
      bytes: int(b.jobbytes) ?? 0,
      rate: int(b['bytes/sec']) ?? int(b.avebytes_sec),
      file: b['processing file'],
    });
  }
  return out;
}

export type CommandOutcome<T> =
  | { ok: true; value: T }
  | { ok: false; reason: 'not_found' | 'conflict' | 'failed'; message: string };

const lastLines = (text: string, n = 3) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(' ');

/** `run job=X ... yes` → the queued JobId. */
export function parseRunOutput(text: string): CommandOutcome<number> {
  const m = /Job queued\. JobId=(\d+)/.exec(text);
  if (m) return { ok: true, value: Number(m[1]) };
  const nf = /Job "([^"]*)" not found/.exec(text);
  if (nf) return { ok: false, reason: 'not_found', message: `job ${nf[1]} is not defined in the director` };
  return { ok: false, reason: 'failed', message: lastLines(text) || 'the director did not queue the job' };
}

/** `cancel jobid=N`. */
export function parseCancel(text: string): CommandOutcome<string> {
  if (/marked to be canceled/.test(text)) return { ok: true, value: lastLines(text, 1) };
  const nr = /JobId=(\d+) is not running/.exec(text);
  if (nr) return { ok: false, reason: 'conflict', message: `job ${nr[1]} is not running` };
  return { ok: false, reason: 'failed', message: lastLines(text) || 'cancel failed' };
}

/** `label storage=X pool=Y volume=Z [slot=N drive=N]`. */
export function parseLabel(text: string): CommandOutcome<string> {
  const done = text.split('\n').find((l) => /successfully created|3000 OK label\./.test(l));
  if (done) return { ok: true, value: done.trim() };
  const ex = /Media record for new Volume "([^"]*)" already exists/.exec(text);
  if (ex) return { ok: false, reason: 'conflict', message: `volume ${ex[1]} already exists` };
  return { ok: false, reason: 'failed', message: lastLines(text) || 'label failed' };
}

/** `purge volume=X`. */
export function parsePurge(text: string): CommandOutcome<string> {
  const st = /Volume "([^"]*)" has VolStatus "([^"]*)" and cannot be purged/.exec(text);
  if (st)
    return { ok: false, reason: 'conflict', message: `volume ${st[1]} is ${st[2]} and cannot be purged` };
  if (/Marking it purged|purged from catalog/.test(text)) return { ok: true, value: lastLines(text, 1) };
  if (/No Volume found|not found/i.test(text))
    return { ok: false, reason: 'not_found', message: lastLines(text, 1) };
  return { ok: false, reason: 'failed', message: lastLines(text) || 'purge failed' };
}

/** `estimate job=X level=Y` → files and bytes the job would read. */
export function parseEstimate(text: string): { files: number; bytes: number } | undefined {
  const m = /estimate files=([\d,]+) bytes=([\d,]+)/.exec(text);
  if (!m) return undefined;
  return { files: Number(m[1]!.replace(/,/g, '')), bytes: Number(m[2]!.replace(/,/g, '')) };
}

/** `llist ...`: `Key: value` lines (right-aligned keys). */
export function parseLlist(text: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  let cur: Record<string, string> | undefined;
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z][A-Za-z0-9]*): ?(.*)$/.exec(line);
    if (!m) {
      if (line.trim() === '' && cur) {
        out.push(cur);
        cur = undefined;
      }
      continue;
    }
    cur ??= {};
    cur[m[1]!] = m[2]!;
  }
  if (cur) out.push(cur);
  return out;
}

/** `list jobs|volumes|...` ASCII tables → rows keyed by the header cells. */
export function parseTable(text: string): Record<string, string>[] {
  const rows = text.split('\n').filter((l) => l.startsWith('|'));
  const cells = (l: string) =>
    l
      .slice(1, l.lastIndexOf('|'))
      .split('|')
      .map((c) => c.trim());
  const [head, ...body] = rows;
  if (!head) return [];
  const keys = cells(head);
  return body.map((l) => Object.fromEntries(cells(l).map((c, i) => [keys[i] ?? `col${i}`, c])));
}

/** `.bvfs_get_jobids jobid=N` → the jobs a restore of N needs (its Full, Differential, Incrementals). */
export function parseJobIds(text: string): number[] {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => /^\d+(,\d+)*$/.test(l));
  return line ? line.split(',').map(Number) : [];
}

/** `restore ... yes` → JobId of the queued restore, or why not. */
export function parseRestoreOutput(text: string): CommandOutcome<{ jobId: number; files?: number }> {
  const m = /Job queued\. JobId=(\d+)/.exec(text);
  const f = /(\d[\d,]*) files? selected to be restored/.exec(text);
  const files = f ? Number(f[1]!.replace(/,/g, '')) : undefined;
  if (m) return { ok: true, value: { jobId: Number(m[1]), files } };
  const nj = /No Job found for JobId (\d+)/.exec(text);
  if (nj) return { ok: false, reason: 'not_found', message: `job ${nj[1]} is not in the catalog` };
  if (/No files selected to be restored|No database record found/.test(text)) {
    return { ok: false, reason: 'not_found', message: 'no files selected to be restored' };
  }
  return { ok: false, reason: 'failed', message: lastLines(text) || 'restore was not queued' };
}

/** Final Bacula JobStatus from `wait jobid=N`: `JobStatus=Canceled (A)`. */
export function parseWaitStatus(text: string): string | undefined {
  return /JobStatus=[^(]*\((\w)\)/.exec(text)?.[1];
}
