/**
 * iscsi.* — targets, LUNs, initiator groups, CHAP, sessions, drift (agent/iscsi/service.ts).
 * The shapes mirror the agent's result schemas; CHAP secrets go out in a create/set call and
 * never come back (a target says only whether its secret is set). Every mutation has a `plan`
 * twin: the same params with `dryRun: true`, answered with the files and argv the real call
 * would write and run.
 */
import type { DryRunPlan, Item, Params, Result } from '../generated/api.js';
import type { AgentClient } from '../rpc/client.js';

type Opts = { signal?: AbortSignal };

export type IscsiStatus = Result<'iscsi.status'>;
export type BackendProbe = IscsiStatus['backends'][number];

export type Target = Item<'iscsi.target.list'>;
export type Portal = Target['portals'][number];
export type Lun = Target['luns'][number];
export type Backing = Lun['backing'];
export type Group = Target['groups'][number];

export type Session = Item<'iscsi.session.list'>;

export type Drift = Result<'iscsi.drift'>;
export type DriftItem = Drift['items'][number];

/** A dry run's answer: what the real call would write and run. */
export type Plan = DryRunPlan;
export type FileDiff = NonNullable<Plan['files']>[number];

/** A real call's answer (adopt adds the running items it could not take over, each a sentence). */
export type Applied = Result<'iscsi.target.create'> & Partial<Pick<Result<'iscsi.adopt'>, 'skipped'>>;

export type ChapInput = NonNullable<Params<'iscsi.target.create'>['chap']>;

type ZvolCreate = NonNullable<Params<'iscsi.lun.create'>['create']>;
export type Volblocksize = NonNullable<ZvolCreate['volblocksize']>;
export const VOLBLOCKSIZES: Volblocksize[] = ['4K', '8K', '16K', '32K', '64K', '128K'];

/** What the "new LUN on a new zvol" dialog collects. */
export interface ZvolLunDraft {
  target: string;
  /** pool/path of the zvol */
  dataset: string;
  /** as typed: "100G", "1.5 TiB", "512M", or bytes */
  size: string;
  thin: boolean;
  volblocksize: Volblocksize;
  blockSize: Lun['blockSize'];
  /** LUN number; empty: the first free one */
  lun?: number;
  /** false: the zvol exists already (size, thin and volblocksize are then not sent) */
  create: boolean;
}

export const newZvolLunDraft = (target: string, pool = 'tank'): ZvolLunDraft => ({
  target,
  dataset: `${pool}/`,
  size: '10G',
  thin: true,
  volblocksize: '16K',
  blockSize: 512,
  create: true,
});

// ---- calls ----

export const iscsiStatus = (c: AgentClient, o: Opts = {}) => c.call<IscsiStatus>('iscsi.status', {}, o);
export const listTargets = (c: AgentClient, o: Opts = {}) => c.items<Target>('iscsi.target.list', {}, o);
export const listSessions = (c: AgentClient, o: Opts = {}) => c.items<Session>('iscsi.session.list', {}, o);
export const drift = (c: AgentClient, o: Opts = {}) => c.call<Drift>('iscsi.drift', {}, o);

/** A mutation and its dry run: `run(c, …, true)` answers the Plan, `false` the Applied result. */
function mutation<A extends unknown[]>(method: string, params: (...a: A) => Record<string, unknown>) {
  return {
    method,
    params,
    plan: (c: AgentClient, ...a: A) => c.call<Plan>(method, { ...params(...a), dryRun: true }),
    run: (c: AgentClient, ...a: A) => c.call<Applied>(method, params(...a)),
  };
}

export const createTarget = mutation(
  'iscsi.target.create',
  (t: Pick<Params<'iscsi.target.create'>, 'iqn' | 'alias' | 'portals' | 'chap'>) => compact({ ...t }),
);
export const updateTarget = mutation(
  'iscsi.target.update',
  (iqn: string, set: Params<'iscsi.target.update'>['set']) => ({
    iqn,
    set: compact(set),
  }),
);
export const deleteTarget = mutation('iscsi.target.delete', (iqn: string, force = false) =>
  force ? { iqn, force } : { iqn },
);
export const setChap = mutation('iscsi.target.chap.set', (iqn: string, chap: ChapInput) =>
  compact({ iqn, ...chap }),
);
export const clearChap = mutation('iscsi.target.chap.clear', (iqn: string) => ({ iqn }));
export const createZvolLun = mutation('iscsi.lun.create', (d: ZvolLunDraft) => zvolLunParams(d));
export const updateLun = mutation(
  'iscsi.lun.update',
  (target: string, lun: number, set: Params<'iscsi.lun.update'>['set']) => ({
    target,
    lun,
    set: compact(set),
  }),
);
export const deleteLun = mutation('iscsi.lun.delete', (target: string, lun: number, force = false) =>
  force ? { target, lun, force } : { target, lun },
);
export const createGroup = mutation(
  'iscsi.group.create',
  (target: string, name: string, initiators: string[], luns?: Group['luns']) =>
    compact({ target, name, initiators, luns }),
);
export const updateGroup = mutation(
  'iscsi.group.update',
  (target: string, name: string, initiators: string[], luns?: Group['luns']) =>
    compact({ target, name, initiators, luns }),
);
export const deleteGroup = mutation('iscsi.group.delete', (target: string, name: string) => ({
  target,
  name,
}));
/** make the running target match the desired state again */
export const reapply = mutation('iscsi.apply', () => ({}));
/** take what runs as the desired state */
export const adopt = mutation('iscsi.adopt', () => ({}));

// ---- pure view functions ----

/** Drop undefined fields: the agent's schemas refuse unknown ones, and `undefined` is not JSON. */
function compact<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const UNIT: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50 };

/** "100G", "1.5 TiB", "512 MB", "1048576" → bytes (binary units, as zfs reads them); undefined when unreadable. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:i?B)?\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]) * UNIT[m[2]!.toUpperCase()]!;
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : undefined;
}

const VOLBLOCK_BYTES = (v: Volblocksize) => Number.parseInt(v, 10) * 1024;

/** A zvol's size must be a multiple of its volblocksize: rounded up, as the dialog says. */
export function roundToBlock(bytes: number, v: Volblocksize): number {
  const b = VOLBLOCK_BYTES(v);
  return Math.ceil(bytes / b) * b;
}

const DATASET = /^[A-Za-z0-9][A-Za-z0-9_.:-]*(\/[A-Za-z0-9][A-Za-z0-9_.:-]*)+$/;

/** Problems with a draft, each a sentence; empty when it can be sent (the agent checks again). */
export function zvolLunProblems(d: ZvolLunDraft): string[] {
  const p: string[] = [];
  if (!DATASET.test(d.dataset))
    p.push('the zvol is pool/name: letters, digits, _ . : - and at least one "/"');
  else if (d.dataset.length > 200) p.push('the zvol name is longer than 200 characters');
  if (d.create) {
    const size = parseSize(d.size);
    if (size === undefined) p.push('the size is a number with an optional unit (K, M, G, T)');
    else if (size < 2 ** 20) p.push('the size is at least 1 MiB');
    else if (size > 2 ** 56) p.push('the size is at most 64 PiB');
  }
  if (d.lun !== undefined && (!Number.isInteger(d.lun) || d.lun < 0 || d.lun > 255))
    p.push('the LUN number is 0–255');
  return p;
}

/** The iscsi.lun.create params for a draft (throws with the problems when it has some). */
export function zvolLunParams(d: ZvolLunDraft): Params<'iscsi.lun.create'> {
  const problems = zvolLunProblems(d);
  if (problems.length) throw new Error(problems.join('; '));
  const p: Params<'iscsi.lun.create'> = {
    target: d.target,
    backing: { kind: 'zvol', dataset: d.dataset },
    blockSize: d.blockSize,
  };
  if (d.lun !== undefined) p.lun = d.lun;
  if (d.create)
    p.create = {
      sizeBytes: roundToBlock(parseSize(d.size)!, d.volblocksize),
      thin: d.thin,
      volblocksize: d.volblocksize,
    };
  return p;
}

/** A LUN's backing for people: the zvol's name, or the file with its size. */
export function backingLabel(b: Backing): string {
  return b.kind === 'zvol' ? `zvol ${b.dataset}` : `file ${b.name}`;
}

/** CHAP as shown: the user names only, never a secret. */
export function chapLabel(t: Pick<Target, 'chap'>): string {
  if (!t.chap) return 'none';
  return t.chap.mutualUser ? `${t.chap.user} (mutual: ${t.chap.mutualUser})` : t.chap.user;
}

export const portalLabel = (p: Portal): string =>
  p.address.includes(':') ? `[${p.address}]:${p.port}` : `${p.address}:${p.port}`;

/**
 * Portals as typed: "192.0.2.10:3260, [2001:db8::1]:3261, 0.0.0.0" (the port defaults to 3260).
 * Returns the list, or the entry it cannot read.
 */
export function parsePortals(text: string): { portals: Portal[] } | { problem: string } {
  const portals: Portal[] = [];
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    const m = /^\[([0-9a-fA-F:]+)\](?::(\d+))?$/.exec(part) ?? /^([0-9.]+)(?::(\d+))?$/.exec(part);
    const bare = !m && /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/.test(part) ? part : undefined;
    const address = m?.[1] ?? bare;
    const port = m?.[2] === undefined ? 3260 : Number(m[2]);
    if (!address || !Number.isInteger(port) || port < 1 || port > 65535)
      return { problem: `"${part}" is not address[:port] (IPv6 in brackets with a port)` };
    portals.push({ address, port });
  }
  return { portals };
}

/** The LUNs a group sees, "0→1, 1→0" (the group's number → the target's LUN). */
export const groupLunsLabel = (g: Group): string =>
  g.luns.length
    ? g.luns.map((m) => (m.lun === m.target ? `${m.lun}` : `${m.lun}→${m.target}`)).join(', ')
    : 'none';

/** One drift item as a sentence. */
export function driftSentence(i: DriftItem): string {
  const what = i.what === 'target' ? 'the target' : i.what;
  switch (i.kind) {
    case 'missing':
      return `${what} is configured but not running${i.desired ? ` (${i.desired})` : ''}`;
    case 'extra':
      return `${what} runs but is not configured${i.running ? ` (${i.running})` : ''}`;
    default:
      return `${what} differs: configured ${i.desired ?? '?'}, running ${i.running ?? '?'}`;
  }
}

/** Drift items by target, targets in the order they first appear. */
export function driftByTarget(items: DriftItem[]): { target: string; lines: string[] }[] {
  const m = new Map<string, string[]>();
  for (const i of items) {
    const l = m.get(i.target) ?? [];
    l.push(driftSentence(i));
    m.set(i.target, l);
  }
  return [...m].map(([target, lines]) => ({ target, lines }));
}

/** Sessions grouped under their target (targets without sessions are absent). */
export function sessionsByTarget(sessions: Session[]): Map<string, Session[]> {
  const m = new Map<string, Session[]>();
  for (const s of sessions) m.set(s.target, [...(m.get(s.target) ?? []), s]);
  return m;
}

/** An argv as one line a person can read and paste (arguments with spaces or quotes quoted). */
export function argvLine(argv: string[]): string {
  return argv
    .map((a) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`))
    .join(' ');
}

/** The plan as the dialog lists it: the commands, in order, one a line. */
export const planCommands = (p: Pick<Plan, 'commands'>): string[] => p.commands.map(argvLine);
