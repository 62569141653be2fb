/**
 * scst.conf, the file scstadmin reads (`-config`) and writes (`-write_config`): a parser into a
 * generic tree, a renderer that lays the tree out the way `scstadmin -write_config` does, the
 * rendering of the iSCSI desired state, and the reverse (a desired state adopted from a conf).
 *
 * Syntax (scst.conf(5)): `#` starts a comment; a line ending in `{` opens a section
 * (`HANDLER vdisk_fileio {`, `LUN 2 blockio1 {`), a line holding only `}` closes it; any other
 * line is `key value…` (an attribute, or a leaf entry such as `LUN 0 disk1`, `INITIATOR ini`,
 * `DEVICE 1:0:0:0`). Values with blanks are double-quoted (`IncomingUser "joe 12charsecret"`).
 *
 * Layout of the writer: a section's body is cut into blocks separated by one blank line —
 * attributes together, LUN entries together (sections or not), leaf DEVICE entries together,
 * every other section (and every INITIATOR, as scstadmin's own regression output shows) a
 * block of its own. Top-level sections are each followed by a blank line.
 */
import { RpcError } from '../../rpc/errors.js';
import type { BackingPath } from './backend.js';
import { chapSecretKey, deviceName, type IscsiState, type Lun, type Target } from './model.js';

/** One line of scst.conf: a leaf (`body` undefined) or a section (`body`, maybe empty). */
export interface ConfItem {
  key: string;
  /** the rest of the line after the key, as written (quotes kept) */
  value: string;
  body?: ConfItem[];
}

export type ConfTree = ConfItem[];

function stripComment(line: string): string {
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\\') {
      i++;
      continue;
    }
    if (line[i] === '#') return line.slice(0, i);
  }
  return line;
}

function splitKey(text: string): { key: string; value: string } {
  const m = /^(\S+)\s*(.*)$/.exec(text);
  if (!m) throw new Error('empty line');
  return { key: m[1] as string, value: (m[2] as string).trim() };
}

/** Parse scst.conf text into its tree (comments and blank lines dropped). */
export function parseScstConf(text: string): ConfTree {
  const root: ConfTree = [];
  const stack: ConfItem[][] = [root];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = stripComment(raw).trim();
    if (!line) return;
    const top = stack[stack.length - 1] as ConfItem[];
    if (line === '}') {
      if (stack.length === 1) throw new Error(`scst.conf line ${i + 1}: '}' without a section`);
      stack.pop();
      return;
    }
    if (line.endsWith('{')) {
      const { key, value } = splitKey(line.slice(0, -1).trim());
      const item: ConfItem = { key, value, body: [] };
      top.push(item);
      stack.push(item.body as ConfItem[]);
      return;
    }
    top.push(splitKey(line));
  });
  if (stack.length !== 1) throw new Error('scst.conf: a section is not closed');
  return root;
}

const LEAF_GROUPED = new Set(['LUN', 'DEVICE']);
const STRUCTURAL = new Set([
  'HANDLER',
  'DEVICE',
  'TARGET_DRIVER',
  'TARGET',
  'LUN',
  'GROUP',
  'INITIATOR',
  'DEVICE_GROUP',
  'TARGET_GROUP',
]);

/** Which block an item belongs to; consecutive items of one class share a block. */
function blockClass(it: ConfItem): string | undefined {
  if (it.key === 'LUN') return 'LUN';
  if (!STRUCTURAL.has(it.key)) return it.body ? undefined : 'attr';
  if (LEAF_GROUPED.has(it.key) && !it.body) return it.key;
  return undefined; // a block of its own
}

function renderBody(items: ConfItem[], depth: number): string[] {
  const ind = '\t'.repeat(depth);
  const out: string[] = [];
  let prev: string | undefined | null = null; // null: nothing yet
  for (const it of items) {
    const cls = blockClass(it);
    if (prev !== null && (cls === undefined || cls !== prev)) out.push('');
    prev = cls;
    const head = it.value ? `${ind}${it.key} ${it.value}` : `${ind}${it.key}`;
    if (!it.body) {
      out.push(head);
      continue;
    }
    out.push(`${head} {`, ...renderBody(it.body, depth + 1), `${ind}}`);
  }
  return out;
}

/** Render a tree the way `scstadmin -write_config` lays it out; `header` becomes `# ` lines. */
export function renderConfTree(tree: ConfTree, header?: string[]): string {
  const out: string[] = [];
  if (header?.length) out.push(...header.map((h) => `# ${h}`), '', '');
  const attrs = tree.filter((t) => !t.body && !STRUCTURAL.has(t.key));
  const rest = tree.filter((t) => !attrs.includes(t));
  if (attrs.length) out.push(...renderBody(attrs, 0), '');
  for (const s of rest) out.push(...renderBody([s], 0), '');
  return `${out.join('\n')}\n`;
}

/** A value as scst.conf writes it: quoted when it holds a blank. */
export function confValue(v: string): string {
  return /\s/.test(v) ? `"${v}"` : v;
}

export function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

export const find = (items: ConfItem[] | undefined, key: string): ConfItem[] =>
  (items ?? []).filter((i) => i.key === key);
export const attr = (items: ConfItem[] | undefined, key: string): string | undefined => {
  const it = (items ?? []).find((i) => i.key === key && !i.body);
  return it ? unquote(it.value) : undefined;
};

// ---- the iSCSI desired state as scst.conf ----

/** secrets.env as the renderers read it (a Map will do) */
export interface SecretLookup {
  get(key: string): string | undefined;
}

export interface ScstRenderOptions {
  backingPath: BackingPath;
  /** secrets.env: CHAP secrets by chapSecretKey() */
  secrets: SecretLookup;
}

/** Shown in place of a CHAP secret that secrets.env does not hold yet (dry runs before one is set). */
export const UNSET_SECRET = 'UNSET-SECRET';

export const HEADER = [
  'Automatically generated by calypso-agent from its desired state; edits are overwritten.',
];

export function handlerOf(l: Lun): 'vdisk_blockio' | 'vdisk_fileio' {
  return l.backing.kind === 'zvol' ? 'vdisk_blockio' : 'vdisk_fileio';
}

/** A LUN's device attributes, in the order written (creation parameters of add_device too). */
export function deviceAttrs(l: Lun, backingPath: BackingPath): [string, string][] {
  return [
    ['filename', backingPath(l)],
    ['blocksize', String(l.blockSize)],
    ['read_only', l.readonly ? '1' : '0'],
    ['write_through', l.cache === 'write-through' ? '1' : '0'],
    ['t10_dev_id', l.serial],
    ['usn', l.serial],
    ['naa_id', `0x${l.naa}`],
  ];
}

/** The CHAP attribute values of a target (`user secret`), secrets from secrets.env. */
export function chapAttrs(t: Target, secrets: SecretLookup): [string, string][] {
  const out: [string, string][] = [];
  if (!t.chap) return out;
  out.push(['IncomingUser', `${t.chap.user} ${secrets.get(chapSecretKey(t.tid)) ?? UNSET_SECRET}`]);
  if (t.chap.mutualUser)
    out.push([
      'OutgoingUser',
      `${t.chap.mutualUser} ${secrets.get(chapSecretKey(t.tid, true)) ?? UNSET_SECRET}`,
    ]);
  return out;
}

/** The target-level LUNs: every LUN without groups; none with groups (only group members see LUNs). */
export function targetLevelLuns(t: Target): Lun[] {
  return t.groups.length ? [] : t.luns;
}

export function scstTree(state: IscsiState, o: ScstRenderOptions): ConfTree {
  const tree: ConfTree = [];
  for (const handler of ['vdisk_blockio', 'vdisk_fileio'] as const) {
    const devices: ConfItem[] = [];
    for (const t of state.targets)
      for (const l of t.luns)
        if (handlerOf(l) === handler)
          devices.push({
            key: 'DEVICE',
            value: deviceName(t.tid, l.lun),
            body: deviceAttrs(l, o.backingPath).map(([key, v]) => ({ key, value: confValue(v) })),
          });
    if (devices.length) tree.push({ key: 'HANDLER', value: handler, body: devices });
  }
  const targets: ConfItem[] = state.targets.map((t) => {
    const body: ConfItem[] = chapAttrs(t, o.secrets).map(([key, v]) => ({ key, value: confValue(v) }));
    if (t.alias) body.push({ key: 'alias', value: t.alias });
    for (const p of t.portals)
      if (p.address !== '0.0.0.0' && p.address !== '::')
        body.push({ key: 'allowed_portal', value: p.address });
    body.push({ key: 'enabled', value: t.enabled ? '1' : '0' });
    body.push({ key: 'rel_tgt_id', value: String(t.tid) });
    for (const l of targetLevelLuns(t)) body.push(lunItem(l.lun, deviceName(t.tid, l.lun), l.readonly));
    for (const g of t.groups) {
      const gb: ConfItem[] = [];
      for (const m of g.luns) {
        const l = t.luns.find((x) => x.lun === m.target);
        gb.push(lunItem(m.lun, deviceName(t.tid, m.target), l?.readonly ?? false));
      }
      for (const i of g.initiators) gb.push({ key: 'INITIATOR', value: i });
      body.push({ key: 'GROUP', value: g.name, body: gb });
    }
    return { key: 'TARGET', value: t.iqn, body };
  });
  tree.push({
    key: 'TARGET_DRIVER',
    value: 'iscsi',
    body: [{ key: 'enabled', value: '1' }, ...targets],
  });
  return tree;
}

function lunItem(lun: number, device: string, readonly: boolean): ConfItem {
  const it: ConfItem = { key: 'LUN', value: `${lun} ${device}` };
  if (readonly) it.body = [{ key: 'read_only', value: '1' }];
  return it;
}

/**
 * Defence in depth behind the schemas: no rendered value may hold what would change the file's
 * or a sysfs command's structure (quote, brace, `#`, `;`, backslash, a line break or another
 * control character). Throws `invalid`, before any file is written or any write planned.
 */
export function assertSafeTree(tree: ConfTree): void {
  const bad = /["{}#;\\\x00-\x1f\x7f]/;
  const walk = (items: ConfItem[]) => {
    for (const it of items) {
      const raw = it.value.startsWith('"') && it.value.endsWith('"') ? it.value.slice(1, -1) : it.value;
      if (bad.test(raw) || bad.test(it.key))
        throw new RpcError(
          'invalid',
          `scst.conf: ${it.key} value ${JSON.stringify(raw)} holds a character it may not`,
        );
      if (it.body) walk(it.body);
    }
  };
  walk(tree);
}

export function renderScstConf(state: IscsiState, o: ScstRenderOptions): string {
  const tree = scstTree(state, o);
  assertSafeTree(tree);
  return renderConfTree(tree, HEADER);
}

/** Hide CHAP secrets (`IncomingUser "joe secret"` → `IncomingUser "joe ********"`). */
export function redactScst(text: string): string {
  return text.replace(/\b(IncomingUser\d*|OutgoingUser\d*)(\s+"?)(\S+) [^"\n;]*("?)/g, '$1$2$3 ********$4');
}

// ---- adopt: a desired state from a conf (what SCST runs, as scstadmin -write_config saw it) ----

export interface AdoptResult {
  state: IscsiState;
  /** CHAP secrets found, by chapSecretKey() (to go to secrets.env, never LMDB) */
  secrets: Map<string, string>;
  /** what could not be expressed in the model (one sentence each) */
  skipped: string[];
}

const DEV = /^t(\d+)l(\d+)$/;

/**
 * The model from a parsed scst.conf. `backingOf` maps a device's filename back to a backing
 * (zvol dataset / file name) or undefined when it is neither. Devices not named t<tid>l<lun>
 * get the LUN number they are exported under; targets without rel_tgt_id get the next free tid.
 * A LUN whose device has no usable usn / naa_id gets `serial` / `naa` '' — the caller assigns
 * one with newIdentity() before the state is stored (the schema refuses '').
 */
export function stateFromScstConf(
  tree: ConfTree,
  backingOf: (filename: string) => Lun['backing'] | undefined,
): AdoptResult {
  const skipped: string[] = [];
  const secrets = new Map<string, string>();
  const devices = new Map<string, { handler: string; body: ConfItem[] }>();
  for (const h of find(tree, 'HANDLER'))
    for (const d of find(h.body, 'DEVICE')) devices.set(d.value, { handler: h.value, body: d.body ?? [] });
  const drv = find(tree, 'TARGET_DRIVER').find((d) => d.value === 'iscsi');
  const targets: Target[] = [];
  const used = new Set(
    find(drv?.body, 'TARGET')
      .map((t) => Number(attr(t.body, 'rel_tgt_id')))
      .filter((n) => Number.isInteger(n) && n > 0),
  );
  let next = 1;
  for (const ti of find(drv?.body, 'TARGET')) {
    const rel = Number(attr(ti.body, 'rel_tgt_id'));
    let tid = Number.isInteger(rel) && rel > 0 ? rel : 0;
    if (!tid) {
      while (used.has(next)) next++;
      tid = next;
      used.add(tid);
    }
    const t: Target = {
      tid,
      iqn: ti.value,
      portals: [],
      luns: [],
      groups: [],
      enabled: attr(ti.body, 'enabled') === '1',
    };
    const alias = attr(ti.body, 'alias');
    if (alias) t.alias = alias;
    const lunFor = new Map<string, number>(); // device → target LUN
    const addLun = (n: number, dev: string, lunBody: ConfItem[] | undefined): number | undefined => {
      const known = lunFor.get(dev);
      if (known !== undefined) return known;
      const d = devices.get(dev);
      if (!d) {
        skipped.push(`${t.iqn}: LUN ${n} uses device ${dev}, which no HANDLER defines`);
        return undefined;
      }
      const filename = attr(d.body, 'filename') ?? '';
      const backing = backingOf(filename);
      if (!backing) {
        skipped.push(
          `${t.iqn}: device ${dev} (${filename || 'no filename'}) is neither a zvol nor a data-area file`,
        );
        return undefined;
      }
      const m = DEV.exec(dev);
      const lun = m && Number(m[1]) === tid ? Number(m[2]) : n;
      const usn = attr(d.body, 'usn') ?? attr(d.body, 't10_dev_id') ?? '';
      const naa = (attr(d.body, 'naa_id') ?? '').replace(/^0x/, '');
      t.luns.push({
        lun,
        backing,
        blockSize: attr(d.body, 'blocksize') === '4096' ? 4096 : 512,
        readonly: attr(d.body, 'read_only') === '1' || attr(lunBody, 'read_only') === '1',
        cache: attr(d.body, 'write_through') === '1' ? 'write-through' : 'write-back',
        serial: /^[A-Za-z0-9]{1,16}$/.test(usn) ? usn : '',
        naa: /^6[0-9a-f]{31}$/.test(naa) ? naa : '',
      });
      lunFor.set(dev, lun);
      return lun;
    };
    for (const li of find(ti.body, 'LUN')) {
      const [n, dev] = li.value.split(/\s+/);
      addLun(Number(n), dev ?? '', li.body);
    }
    for (const gi of find(ti.body, 'GROUP')) {
      const luns: { lun: number; target: number }[] = [];
      for (const li of find(gi.body, 'LUN')) {
        const [n, dev] = li.value.split(/\s+/);
        const target = addLun(Number(n), dev ?? '', li.body);
        if (target !== undefined) luns.push({ lun: Number(n), target });
      }
      t.groups.push({ name: gi.value, initiators: find(gi.body, 'INITIATOR').map((i) => i.value), luns });
    }
    const inUsers = find(ti.body, 'IncomingUser').map((i) => unquote(i.value).split(/\s+/));
    const outUsers = find(ti.body, 'OutgoingUser').map((i) => unquote(i.value).split(/\s+/));
    if (inUsers.length > 1)
      skipped.push(`${t.iqn}: ${inUsers.length} incoming CHAP users, only the first is kept`);
    const [inU, inS] = inUsers[0] ?? [];
    if (inU) {
      t.chap = { user: inU };
      if (inS) secrets.set(chapSecretKey(tid), inS);
      const [outU, outS] = outUsers[0] ?? [];
      if (outU) {
        t.chap.mutualUser = outU;
        if (outS) secrets.set(chapSecretKey(tid, true), outS);
      }
    }
    for (const p of find(ti.body, 'allowed_portal'))
      t.portals.push({ address: unquote(p.value), port: 3260 });
    targets.push(t);
  }
  if (!drv && tree.length) skipped.push('the file has no TARGET_DRIVER iscsi section');
  return { state: { targets }, secrets, skipped };
}

/** Parse, turning a syntax error into `invalid`. */
export function parseScstConfOrInvalid(text: string): ConfTree {
  try {
    return parseScstConf(text);
  } catch (err) {
    throw new RpcError('invalid', (err as Error).message);
  }
}
