/**
 * `zpool status [-v] [-p] [-P]` and `zpool import` listings → typed pools (pure).
 *
 * Both dialects share the layout: header lines `  key: value` (continued on lines that start with a
 * tab), a `config:` section with an indented device tree (two spaces per level, after one tab) and
 * an `errors:` section. The differences handled here:
 * - zfs-fuse 0.7 says `scrub:` where OpenZFS says `scan:`, in one line
 *   ("scrub in progress for 0h0m, 3.23% done, 0h0m to go"); OpenZFS 2.x prints "in progress since
 *   <date>" and continues with tab-indented lines of scanned/issued/total bytes and "% done".
 * - zfs-fuse abbreviates large error counters ("2.43K"); OpenZFS does too unless `-p` is given.
 * - Import listings have no column header and no counters, and list `spares` without states.
 */
import type { DataErrors, PoolStatus, ScanStatus, Vdev, VdevClass, VdevTree, VdevType } from './types.js';
import { parseCount, parseDuration, parseSize, parseZfsDate } from './units.js';

const CLASS_HEADERS: Record<string, VdevClass> = {
  logs: 'log',
  log: 'log',
  cache: 'cache',
  spares: 'spare',
  spare: 'spare',
  special: 'special',
  dedup: 'dedup',
};

const KEY_RE = /^ *([a-z]+): ?(.*)$/;
const COUNT_RE = /^\d+(?:\.\d+)?[KMGTPE]?$/;

export function emptyTree(): VdevTree {
  return { data: [], log: [], cache: [], spare: [], special: [], dedup: [] };
}

/** Parse the whole output: one entry per pool block ("no pools available" → []). */
export function parseZpoolStatus(text: string): PoolStatus[] {
  const lines = text.split('\n');
  const blocks: string[][] = [];
  for (const line of lines) {
    const m = KEY_RE.exec(line);
    if (m && m[1] === 'pool') blocks.push([]);
    blocks.at(-1)?.push(line);
  }
  return blocks.map(parseBlock);
}

function parseBlock(lines: string[]): PoolStatus {
  const fields = new Map<string, string[]>();
  let key: string | undefined;
  let i = 0;
  const configLines: string[] = [];
  const errorLines: string[] = [];
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    const m = KEY_RE.exec(line);
    if (m && !line.startsWith('\t')) {
      key = m[1]!;
      if (key === 'config') {
        i++;
        break;
      }
      fields.set(key, [m[2]!.trim()]);
    } else if (key && line.trim() !== '') {
      fields.get(key)?.push(line.trim());
    }
  }
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    const m = KEY_RE.exec(line);
    if (m && m[1] === 'errors' && !line.startsWith('\t')) {
      errorLines.push(m[2]!.trim(), ...lines.slice(i + 1));
      break;
    }
    configLines.push(line);
  }
  const get = (k: string) => fields.get(k)?.join('\n');
  const join = (k: string) => fields.get(k)?.join(' ');
  const scanLines = fields.get('scan') ?? fields.get('scrub');
  const { tree, root } = parseConfig(configLines);
  const pool: PoolStatus = {
    name: get('pool') ?? '',
    state: get('state') ?? root?.state ?? 'UNKNOWN',
    scan: parseScan(scanLines ?? []),
    vdevs: tree,
    read: root?.read ?? 0,
    write: root?.write ?? 0,
    checksum: root?.checksum ?? 0,
  };
  const id = get('id');
  if (id) pool.id = id;
  const status = join('status');
  if (status) pool.status = status;
  const action = join('action');
  if (action) pool.action = action;
  const see = get('see');
  if (see) pool.see = see;
  if (errorLines.length) pool.errors = parseErrors(errorLines);
  return pool;
}

interface Row {
  level: number;
  vdev: Vdev;
}

/** The config section: an optional header row, then the tree. */
function parseConfig(lines: string[]): { tree: VdevTree; root?: Vdev } {
  const tree = emptyTree();
  let root: Vdev | undefined;
  let cls: VdevClass = 'data';
  const stack: Row[] = [];
  for (const raw of lines) {
    if (raw.trim() === '') continue;
    const body = raw.replace(/^\t/, '');
    const indent = body.length - body.trimStart().length;
    const level = Math.floor(indent / 2);
    const tokens = body.trim().split(/\s+/);
    if (tokens[0] === 'NAME' && tokens[1] === 'STATE') continue;
    if (level === 0 && tokens.length === 1 && CLASS_HEADERS[tokens[0]!]) {
      cls = CLASS_HEADERS[tokens[0]!]!;
      stack.length = 0;
      continue;
    }
    const vdev = parseDeviceLine(tokens, cls);
    if (level === 0) {
      root = vdev;
      root.type = 'root';
      cls = 'data';
      stack.length = 0;
      continue;
    }
    while (stack.length && stack.at(-1)!.level >= level) stack.pop();
    const parent = stack.at(-1);
    if (parent) parent.vdev.children.push(vdev);
    else tree[cls].push(vdev);
    stack.push({ level, vdev });
  }
  // a leaf's type is known only once we know it has no children
  const fix = (v: Vdev) => {
    if (v.children.length === 0 && !isGroupName(v.name)) v.type = leafType(v.name);
    v.children.forEach(fix);
  };
  for (const list of Object.values(tree)) list.forEach(fix);
  return { tree, root };
}

function parseDeviceLine(tokens: string[], cls: VdevClass): Vdev {
  const name = tokens[0]!;
  let rest = tokens.slice(1);
  let state = '';
  if (rest[0] && /^[A-Z]+$/.test(rest[0])) {
    state = rest[0];
    rest = rest.slice(1);
  }
  const counts: number[] = [];
  while (counts.length < 3 && rest[0] && COUNT_RE.test(rest[0])) {
    counts.push(parseCount(rest[0]));
    rest = rest.slice(1);
  }
  // a spare without a state in import listings is simply present
  if (!state && cls === 'spare') state = 'AVAIL';
  const vdev: Vdev = {
    name,
    type: groupType(name) ?? 'disk',
    state,
    read: counts[0] ?? 0,
    write: counts[1] ?? 0,
    checksum: counts[2] ?? 0,
    children: [],
  };
  if (name.startsWith('/')) vdev.path = name;
  const note = rest.join(' ').trim();
  if (note) {
    vdev.note = note;
    const was = /\bwas (\/\S+)/.exec(note);
    if (was) vdev.was = was[1];
    const done = /(\S+) (resilvered|repaired)\b/.exec(note);
    if (done) vdev[done[2] === 'resilvered' ? 'resilvered' : 'repaired'] = parseSize(done[1]);
    const act = /\((resilvering|repairing|awaiting resilver|non-allocating)\)/.exec(note);
    if (act) vdev.activity = act[1];
  }
  return vdev;
}

function groupType(name: string): VdevType | undefined {
  if (/^mirror-\d+$/.test(name)) return 'mirror';
  const rz = /^raidz([123])?-\d+$/.exec(name);
  if (rz) return `raidz${rz[1] ?? '1'}` as VdevType;
  if (/^draid\d/.test(name)) return 'draid';
  if (/^replacing-\d+$/.test(name)) return 'replacing';
  if (/^spare-\d+$/.test(name)) return 'spare';
  if (/^indirect-\d+$/.test(name)) return 'indirect';
  return undefined;
}

function isGroupName(name: string): boolean {
  return groupType(name) !== undefined;
}

function leafType(name: string): VdevType {
  if (/^\d{6,}$/.test(name)) return 'missing';
  if (name.startsWith('/') && !name.startsWith('/dev/')) return 'file';
  return 'disk';
}

/** The scan (OpenZFS) or scrub (zfs-fuse) header and its continuation lines. */
export function parseScan(lines: string[]): ScanStatus {
  const text = lines.join('\n');
  const first = lines[0] ?? '';
  const scan: ScanStatus = { state: 'none', text };
  if (first === '' || /^none requested/.test(first)) return scan;
  const fn = /^(scrub|resilver|error scrub)/.exec(first)?.[1];
  if (fn) scan.function = fn === 'error scrub' ? 'error-scrub' : (fn as 'scrub' | 'resilver');
  else if (/^resilvered\b/.test(first)) scan.function = 'resilver';
  // zfs-fuse: "scrub in progress for 0h0m, 3.23% done, 0h0m to go"
  const fuseRunning = /in progress for (\S+), ([\d.]+)% done, (\S+) to go/.exec(first);
  if (fuseRunning) {
    scan.state = 'scanning';
    scan.elapsedSec = parseDuration(fuseRunning[1]);
    scan.percent = Number(fuseRunning[2]);
    scan.remainingSec = parseDuration(fuseRunning[3]);
    return scan;
  }
  // zfs-fuse: "scrub completed after 0h0m with 0 errors on <date>" / "scrub stopped after …"
  const fuseDone = /(completed|stopped) after (\S+) with (\d+) errors on (.+)$/.exec(first);
  if (fuseDone) {
    scan.state = fuseDone[1] === 'completed' ? 'finished' : 'canceled';
    scan.elapsedSec = parseDuration(fuseDone[2]);
    scan.errors = Number(fuseDone[3]);
    scan.endedAt = parseZfsDate(fuseDone[4]);
    if (scan.state === 'finished') scan.percent = 100;
    return scan;
  }
  // OpenZFS finished: "scrub repaired 0B in 00:00:01 with 0 errors on <date>", "resilvered 10.5G in …"
  const done = /(?:repaired|resilvered) (\S+) in (.+?) with (\d+) errors on (.+)$/.exec(first);
  if (done) {
    scan.state = 'finished';
    scan.processed = parseSize(done[1]);
    scan.elapsedSec = parseDuration(done[2]);
    scan.errors = Number(done[3]);
    scan.endedAt = parseZfsDate(done[4]);
    scan.percent = 100;
    return scan;
  }
  const canceled = /canceled on (.+)$/.exec(first);
  if (canceled) {
    scan.state = 'canceled';
    scan.endedAt = parseZfsDate(canceled[1]);
    return scan;
  }
  const running = /(in progress|paused) since (.+)$/.exec(first);
  if (running) {
    scan.state = running[1] === 'paused' ? 'paused' : 'scanning';
    if (scan.state === 'scanning') scan.startedAt = parseZfsDate(running[2]);
    parseOpenZfsProgress(lines.slice(1), scan);
  }
  return scan;
}

function parseOpenZfsProgress(lines: string[], scan: ScanStatus): void {
  for (const line of lines) {
    const on = (re: RegExp, f: (m: RegExpExecArray) => void) => {
      const m = re.exec(line);
      if (m) f(m);
    };
    on(/started on (.+)$/, (m) => {
      scan.startedAt = parseZfsDate(m[1]);
    });
    // 2.2+: "5.61G / 11.4G scanned at 1.12G/s, 2.01G / 11.4G issued at 412M/s"
    // 2.0/2.1: "1.23G scanned at 105M/s, 800M issued at 68.3M/s, 10.5G total"; paused: "1.23G scanned, 800M issued, 10.5G total"
    on(/(\S+)(?: \/ (\S+))? scanned/, (m) => {
      scan.scanned = parseSize(m[1]);
      if (m[2]) scan.total = parseSize(m[2]);
    });
    on(/(\S+)(?: \/ (\S+))? issued/, (m) => {
      scan.issued = parseSize(m[1]);
      if (m[2]) scan.total = parseSize(m[2]);
    });
    on(/(\S+) total/, (m) => {
      scan.total = parseSize(m[1]);
    });
    on(/(\S+) (?:repaired|resilvered),/, (m) => {
      scan.processed = parseSize(m[1]);
    });
    on(/([\d.]+)% done/, (m) => {
      scan.percent = Number(m[1]);
    });
    on(/(\S+(?: days? \S+)?) to go/, (m) => {
      scan.remainingSec = parseDuration(m[1]);
    });
  }
  if (scan.percent === undefined && scan.issued !== undefined && scan.total) {
    scan.percent = Math.min(100, Math.round((scan.issued / scan.total) * 10000) / 100);
  }
}

function parseErrors(lines: string[]): DataErrors {
  const head = lines[0] ?? '';
  const text = lines
    .map((l) => l.trim())
    .filter(Boolean)
    .join('\n');
  if (/^No known data errors/.test(head)) return { count: 0, files: [], text };
  const n = /^(\d+) data errors?/.exec(head);
  const files = /Permanent errors/.test(head)
    ? lines
        .slice(1)
        .map((l) => l.trim())
        .filter(Boolean)
    : [];
  return { count: n ? Number(n[1]) : files.length, files, text };
}
