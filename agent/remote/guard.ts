/**
 * The receiving side's forced command (authorized_keys `command="…",restrict`): sshd hands the
 * client's command line over in SSH_ORIGINAL_COMMAND, and this pure check turns it into the one
 * argv that may run, or a refusal in plain words. Allowed, under one dataset prefix only:
 * - `zfs receive [-F] [-s] [-u] -- <dataset>`
 * - `zfs list -H -t snapshot -o name,guid -d 1 -- <dataset>` (the snapshots and their GUIDs)
 * - `zfs get -H -o value receive_resume_token -- <dataset>`
 * - `zfs list -H -o name -t filesystem,volume -r -- <dataset>` (the names below it: recursive tasks)
 * - `zfs hold|release -- calypso-repl:<task> <dataset>@<snapshot>` (only the agent's own tags)
 * - `zfs destroy -- <dataset>@<snapshot>` (one snapshot: retention on the receiving side; never a
 *   filesystem, no -r/-R; a held snapshot is refused by ZFS itself)
 * and, only for a key authorized to be pulled from (`--send`, remote.authorize's `pull`):
 * - `zfs send [-i <dataset>@<snapshot>] -- <dataset>@<snapshot>`: a pull key reads every
 *   snapshot under the prefix
 * - `zfs send -t <token>`: a resume token names the snapshot it sends only inside its compressed
 *   payload, so the guard first has ZFS decode it (`zfs send -nvt <token>`, guard-main.ts) and
 *   sends only when the decoded `toname` is a snapshot under the prefix (checkResumeToken); an
 *   undecodable token, a name outside the prefix, or a ZFS without tokens (zfs-fuse) is refused
 * and two combined steps, which the guard runs itself (guard-main.ts, state.ts) so that a run pays
 * one session and one start of the guard for several reads or moves:
 * - `calypso state -- <dataset>...`: whether this ZFS keeps resume tokens, and each dataset's
 *   snapshots with their exact GUIDs and its resume token, as one JSON answer
 * - `calypso holds -- calypso-repl:<task> (hold|release) <dataset>@<snapshot> ...`
 * - `calypso settle -- calypso-repl:<task> <dataset>...`: after a run, compare the datasets' GUIDs
 *   with the source's and only then move the holds; the expectations and moves come on stdin as
 *   JSON, checked by checkSettle (only those datasets' snapshots, only this tag)
 * - `calypso drill-manifest -- <dataset>@<snapshot> <maxFiles> <maxBytes>`: a replica drill's manifest
 *   (manifest.ts): the snapshot cloned below the prefix, mounted read-only, walked (paths, sizes,
 *   SHA-256; a volume's clone: its device hashed whole), the clone destroyed; one JSON answer
 * Anything else (`ls /`, `zfs destroy` of a filesystem, a dataset outside the prefix, a shell) is refused.
 * The command line never reaches a shell: it is split here (plain words and '…' quotes only).
 */
import { type Limits, MAX_LIMITS } from './manifest.js';
import { type Expected, type HoldOp, parseHoldOps } from './state.js';

export type GuardDecision =
  | { argv: string[] }
  | { state: string[] }
  | { holds: { tag: string; ops: HoldOp[] } }
  | { settle: { tag: string; datasets: string[] } }
  | { manifest: { snapshot: string; limits: Limits } }
  /** `zfs send -t <token>`: decoded and checked (checkResumeToken) before it runs */
  | { resume: { token: string } }
  | { refusal: string };

/** at most this many datasets or hold moves in one combined call */
export const MAX_OPERANDS = 4096;

/** A dataset name: pool[/component]*, components of letters, digits, _ . : - (as the ZFS schemas). */
const DATASET = /^[A-Za-z][A-Za-z0-9_.:-]*(\/[A-Za-z0-9_.:-]+)*$/;
const SNAPSHOT = /^[A-Za-z][A-Za-z0-9_.:-]*(\/[A-Za-z0-9_.:-]+)*@[A-Za-z0-9_.:-]+$/;
/** the hold tags the agent uses (replication tasks), so a key cannot release an operator's hold */
export const HOLD_TAG = /^calypso-repl:[a-z0-9][a-z0-9-]{0,62}$/;

/** Split a command line into words: bare words and single-quoted strings; anything shell-like is refused. */
export function splitCommand(line: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      i++;
      continue;
    }
    let word = '';
    while (i < line.length && line[i] !== ' ') {
      const c = line[i]!;
      if (c === "'") {
        const end = line.indexOf("'", i + 1);
        if (end < 0) return undefined;
        word += line.slice(i + 1, end);
        i = end + 1;
      } else if (/[A-Za-z0-9_.,:@/=+-]/.test(c)) {
        word += c;
        i++;
      } else return undefined;
    }
    out.push(word);
  }
  return out;
}

/** The dataset is the prefix or below it. */
export function underPrefix(dataset: string, prefix: string): boolean {
  return dataset === prefix || dataset.startsWith(`${prefix}/`);
}

/** Flags before `--` (each one of `allowed`, no repeats) and the operands after it. */
function parseArgs(words: string[], allowed: string[]): { flags: string[]; operands: string[] } | string {
  const sep = words.indexOf('--');
  if (sep < 0) return 'the operands must follow --';
  const flags = words.slice(0, sep);
  for (const f of flags) if (!allowed.includes(f)) return `option ${f} is not allowed`;
  if (new Set(flags).size !== flags.length) return 'an option is repeated';
  return { flags, operands: words.slice(sep + 1) };
}

export interface GuardOptions {
  /** the key may read snapshots under the prefix (`zfs send`): pull tasks */
  send?: boolean;
}

export function checkCommand(line: string, prefix: string, o: GuardOptions = {}): GuardDecision {
  const refuse = (why: string): GuardDecision => ({
    refusal: `this key may only replicate into ${prefix}: ${why}`,
  });
  if (!DATASET.test(prefix))
    return { refusal: `the guard's prefix ${JSON.stringify(prefix)} is not a dataset` };
  if (!line.trim()) return refuse('an interactive session is not allowed');
  const words = splitCommand(line);
  if (!words) return refuse('the command has characters other than names and options');
  const [tool, sub, ...rest] = words;
  const allowed = `receive, list, get, hold, release, destroy of a snapshot${o.send ? ', send' : ''}`;
  const inPrefix = (ds: string, kind: RegExp) => kind.test(ds) && underPrefix(ds.split('@')[0]!, prefix);
  if (tool === 'calypso') return combined(sub, rest, prefix, inPrefix, refuse);
  if (tool !== 'zfs') return refuse(`${tool} is not allowed (only zfs ${allowed}, calypso state|holds)`);
  switch (sub) {
    case 'receive': {
      const a = parseArgs(rest, ['-F', '-s', '-u']);
      if (typeof a === 'string') return refuse(a);
      if (a.operands.length !== 1 || !inPrefix(a.operands[0]!, DATASET))
        return refuse(`zfs receive into ${a.operands.join(' ') || 'nothing'} is outside ${prefix}`);
      return { argv: ['zfs', 'receive', ...a.flags, '--', a.operands[0]!] };
    }
    case 'list': {
      const want = ['-H', '-t', 'snapshot', '-o', 'name,guid', '-d', '1', '--'];
      const tree = ['-H', '-o', 'name', '-t', 'filesystem,volume', '-r', '--'];
      const is = (w: string[]) => rest.length === w.length + 1 && w.every((x, i) => rest[i] === x);
      if (!is(want) && !is(tree))
        return refuse(
          'only `zfs list -H -t snapshot -o name,guid -d 1 -- <dataset>` and `zfs list -H -o name -t filesystem,volume -r -- <dataset>` are allowed',
        );
      const ds = rest.at(-1)!;
      if (!inPrefix(ds, DATASET)) return refuse(`${ds} is outside ${prefix}`);
      return { argv: ['zfs', ...words.slice(1)] };
    }
    case 'get': {
      const want = ['-H', '-o', 'value', 'receive_resume_token', '--'];
      if (rest.length !== want.length + 1 || want.some((w, i) => rest[i] !== w))
        return refuse('only `zfs get -H -o value receive_resume_token -- <dataset>` is allowed');
      const ds = rest.at(-1)!;
      if (!inPrefix(ds, DATASET)) return refuse(`${ds} is outside ${prefix}`);
      return { argv: ['zfs', ...words.slice(1)] };
    }
    case 'hold':
    case 'release': {
      const a = parseArgs(rest, []);
      if (typeof a === 'string') return refuse(a);
      const [tag, snap] = a.operands;
      if (a.operands.length !== 2 || !HOLD_TAG.test(tag!))
        return refuse(`zfs ${sub} takes a calypso-repl:<task> tag and one snapshot`);
      if (!inPrefix(snap!, SNAPSHOT)) return refuse(`${snap} is not a snapshot under ${prefix}`);
      return { argv: ['zfs', sub, '--', tag!, snap!] };
    }
    case 'destroy': {
      const a = parseArgs(rest, []);
      if (typeof a === 'string') return refuse(a);
      const [snap] = a.operands;
      if (a.operands.length !== 1 || !inPrefix(snap!, SNAPSHOT))
        return refuse(
          `zfs destroy takes one snapshot under ${prefix}, never a filesystem (${a.operands.join(' ')})`,
        );
      return { argv: ['zfs', 'destroy', '--', snap!] };
    }
    case 'send': {
      if (!o.send) return refuse('zfs send is not allowed: this key was not authorized to be pulled from');
      if (rest[0] === '-t') {
        if (rest.length !== 2 || !isResumeToken(rest[1]!))
          return refuse(
            `only \`zfs send -t <token>\` is allowed, the token as ZFS prints it (digits, then three hexadecimal parts joined by -, at most ${MAX_TOKEN} characters)`,
          );
        return { resume: { token: rest[1]! } };
      }
      const sep = rest.indexOf('--');
      const flags = sep < 0 ? rest : rest.slice(0, sep);
      const ops = sep < 0 ? [] : rest.slice(sep + 1);
      const inc = flags.length === 2 && flags[0] === '-i' ? flags[1] : undefined;
      if (sep < 0 || (flags.length !== 0 && inc === undefined) || ops.length !== 1)
        return refuse('only `zfs send [-i <snapshot>] -- <snapshot>` is allowed');
      for (const s of [ops[0]!, ...(inc ? [inc] : [])])
        if (!inPrefix(s, SNAPSHOT)) return refuse(`${s} is not a snapshot under ${prefix}`);
      return { argv: ['zfs', 'send', ...(inc ? ['-i', inc] : []), '--', ops[0]!] };
    }
    default:
      return refuse(`zfs ${sub ?? ''} is not allowed (only ${allowed})`);
  }
}

/** the longest resume token accepted (OpenZFS 2.1's are ~200–300 characters) */
export const MAX_TOKEN = 4096;
/** a resume token as OpenZFS prints it: `<version>-<checksum>-<length>-<compressed nvlist>`, hexadecimal */
const TOKEN = /^[0-9]+-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+$/;
export const isResumeToken = (t: string) => t.length <= MAX_TOKEN && TOKEN.test(t);

/** What the guard runs to have ZFS decode a token without sending anything. */
export const decodeTokenArgv = (token: string) => ['zfs', 'send', '-nvt', token];

/**
 * Whether a resume token may be sent by a key restricted to `prefix`, from what `zfs send -nvt
 * <token>` answered (OpenZFS prints the token's nvlist: `toname = pool/ds@snap`, `toguid`,
 * `fromguid` for an incremental, ...): exactly one `toname`, a snapshot under the prefix. ZFS
 * sends the snapshot the token names (and an incremental's origin from that same dataset, by
 * its GUID), so this name is what the stream reads. Anything else is refused in words.
 */
export function checkResumeToken(
  token: string,
  decoded: { code: number; stdout: string; stderr: string },
  prefix: string,
): { argv: string[] } | { refusal: string } {
  const refuse = (why: string) => ({
    refusal: `this key may only replicate into ${prefix}: ${why}`,
  });
  if (!isResumeToken(token)) return refuse('the resume token is malformed');
  if (decoded.code !== 0) {
    const said = decoded.stderr.trim().split('\n')[0] ?? '';
    if (/invalid option|unrecognized option|illegal option/i.test(decoded.stderr))
      return refuse(`this ZFS cannot send by resume token (zfs-fuse has no zfs send -t): ${said}`);
    return refuse(
      `ZFS could not decode the resume token, so it is not sent: ${said || `exit ${decoded.code}`}`,
    );
  }
  const names = decoded.stdout
    .split('\n')
    .map((l) => /^\s*toname\s*=\s*(.*?)\s*$/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
  if (names.length !== 1)
    return refuse(
      `the decoded resume token names ${names.length ? `${names.length} snapshots` : 'no snapshot'} (one toname expected), so it is not sent`,
    );
  const name = names[0]!;
  if (!SNAPSHOT.test(name) || !underPrefix(name.split('@')[0]!, prefix))
    return refuse(`the resume token sends ${name}, which is not a snapshot under ${prefix}`);
  return { argv: ['zfs', 'send', '-t', token] };
}

/** `calypso state -- <dataset>...` and `calypso holds -- <tag> (hold|release) <snapshot> ...` */
function combined(
  sub: string | undefined,
  rest: string[],
  prefix: string,
  inPrefix: (ds: string, kind: RegExp) => boolean,
  refuse: (why: string) => GuardDecision,
): GuardDecision {
  if (sub !== 'state' && sub !== 'holds' && sub !== 'settle' && sub !== 'drill-manifest')
    return refuse(
      `calypso ${sub ?? ''} is not allowed (only calypso state, holds, settle and drill-manifest)`,
    );
  if (rest[0] !== '--') return refuse(`the operands of calypso ${sub} must follow --`);
  const ops = rest.slice(1);
  if (sub === 'drill-manifest') {
    const [snapshot, files, bytes] = ops;
    const bounded = (w: string | undefined, max: number) =>
      w !== undefined && /^[1-9]\d{0,15}$/.test(w) && Number(w) <= max ? Number(w) : undefined;
    const maxFiles = bounded(files, MAX_LIMITS.maxFiles);
    const maxBytes = bounded(bytes, MAX_LIMITS.maxBytes);
    if (ops.length !== 3 || maxFiles === undefined || maxBytes === undefined)
      return refuse(
        `calypso drill-manifest takes one snapshot, a file count (at most ${MAX_LIMITS.maxFiles}) and a byte count (at most ${MAX_LIMITS.maxBytes})`,
      );
    if (!inPrefix(snapshot!, SNAPSHOT)) return refuse(`${snapshot} is not a snapshot under ${prefix}`);
    return { manifest: { snapshot: snapshot!, limits: { maxFiles, maxBytes } } };
  }
  if (ops.length === 0 || ops.length > MAX_OPERANDS)
    return refuse(`calypso ${sub ?? ''} takes 1 to ${MAX_OPERANDS} operands`);
  switch (sub) {
    case 'state': {
      for (const ds of ops) if (!inPrefix(ds, DATASET)) return refuse(`${ds} is outside ${prefix}`);
      return { state: ops };
    }
    case 'settle': {
      const [tag, ...datasets] = ops;
      if (!HOLD_TAG.test(tag!) || !datasets.length)
        return refuse('calypso settle takes a calypso-repl:<task> tag, then datasets');
      for (const ds of datasets) if (!inPrefix(ds, DATASET)) return refuse(`${ds} is outside ${prefix}`);
      return { settle: { tag: tag!, datasets } };
    }
    default: {
      const [tag, ...moves] = ops;
      const parsed = parseHoldOps(moves);
      if (!HOLD_TAG.test(tag!) || !parsed)
        return refuse('calypso holds takes a calypso-repl:<task> tag, then hold|release <snapshot> pairs');
      for (const h of parsed)
        if (!inPrefix(h.snapshot, SNAPSHOT)) return refuse(`${h.snapshot} is not a snapshot under ${prefix}`);
      return { holds: { tag: tag!, ops: parsed } };
    }
  }
}

/** `calypso settle`'s stdin: the expectations of exactly its datasets, hold moves of their snapshots only. */
export function checkSettle(
  text: string,
  datasets: string[],
): { expect: Expected[]; ops: HoldOp[] } | { refusal: string } {
  let v: { expect?: unknown; ops?: unknown };
  try {
    v = JSON.parse(text);
  } catch {
    return { refusal: 'calypso settle reads JSON on its input' };
  }
  const names = new Set(datasets);
  const isName = (x: unknown) => typeof x === 'string' && /^[A-Za-z0-9_.:-]+$/.test(x);
  const isGuid = (x: unknown) => typeof x === 'string' && /^\d{1,20}$/.test(x);
  const expect = Array.isArray(v.expect) ? (v.expect as Expected[]) : undefined;
  const ops = Array.isArray(v.ops) ? (v.ops as HoldOp[]) : undefined;
  if (!expect || !ops || expect.length !== datasets.length || ops.length > MAX_OPERANDS)
    return { refusal: 'calypso settle takes { expect: one per dataset, ops }' };
  for (const e of expect)
    if (
      !names.has(e?.dataset) ||
      !isName(e.newest) ||
      !Array.isArray(e.snapshots) ||
      e.snapshots.length > 100_000 ||
      !e.snapshots.every((x) => isName(x?.snapshot) && isGuid(x?.guid))
    )
      return { refusal: `calypso settle: an expectation outside ${datasets.join(', ')} or malformed` };
  for (const h of ops) {
    const at = typeof h?.snapshot === 'string' ? h.snapshot.indexOf('@') : -1;
    if (
      (h?.op !== 'hold' && h?.op !== 'release') ||
      at < 0 ||
      !names.has(h.snapshot.slice(0, at)) ||
      !SNAPSHOT.test(h.snapshot)
    )
      return { refusal: `calypso settle moves holds on snapshots of ${datasets.join(', ')} only` };
  }
  return {
    expect: expect.map((e) => ({
      dataset: e.dataset,
      newest: e.newest,
      snapshots: e.snapshots.map((x) => ({ snapshot: x.snapshot, guid: x.guid })),
    })),
    ops: ops.map((h) => ({ op: h.op, snapshot: h.snapshot })),
  };
}
