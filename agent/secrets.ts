/**
 * secrets.env (etc/calypso/secrets.env, mode 0600): every subsystem's secrets, one store. Reads
 * come from memory; every write goes through one queue that re-reads the file, changes its own
 * keys and writes it back atomically, so two subsystems writing at the same moment never lose
 * each other's keys. A dry run previews changes (`preview`): code that reads secrets inside it
 * sees the change, and nothing is written.
 *
 * The managed-config pipeline journals the secrets a change brings (the previous values) and
 * puts them back when the change fails or a crash cuts it short (agent/config-set/index.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './fs/atomic-write.js';

export interface SecretChange {
  key: string;
  /** undefined deletes the key */
  value: string | undefined;
  /** a comment line written above a new key (what the secret is for) */
  comment?: string;
}

/** What code that only reads secrets receives (renderers, backends). */
export interface SecretReader {
  get(key: string): string | undefined;
  has(key: string): boolean;
}

export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** KEY=VALUE lines; `#` comments and blank lines skipped; one pair of quotes removed. */
export function parseSecrets(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trimStart().startsWith('#')) continue;
    let v = m[2] ?? '';
    if (v.length >= 2 && (v.startsWith('"') || v.startsWith("'")) && v.endsWith(v[0]!)) v = v.slice(1, -1);
    out.set(m[1]!, v);
  }
  return out;
}

/** The file's text with `changes` made; other lines (other keys, comments) are kept verbatim. */
export function editSecrets(text: string, changes: SecretChange[]): string {
  let lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const c of changes) {
    if (!KEY.test(c.key)) throw new Error(`secrets: invalid key ${JSON.stringify(c.key)}`);
    const re = new RegExp(`^\\s*${c.key}\\s*=`);
    const idx = lines.findIndex((l) => re.test(l));
    if (c.value === undefined) {
      if (idx >= 0) {
        // the comment written with the key goes with it (`# KEY: …`, or `# bacula: …` of older agents)
        const above = idx > 0 ? lines[idx - 1]! : '';
        const commentAbove = above.startsWith(`# ${c.key}: `) || above.startsWith('# bacula: ');
        lines = lines.filter((_, i) => i !== idx && !(commentAbove && i === idx - 1));
      }
      continue;
    }
    if (/[\r\n]/.test(c.value)) throw new Error('secrets: newline in value');
    const line = `${c.key}=${c.value}`;
    if (idx >= 0) lines[idx] = line;
    else lines.push(...(c.comment ? [`# ${c.key}: ${c.comment.replace(/[\r\n]/g, ' ')}`] : []), line);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

export class SecretStore implements SecretReader {
  private values: Map<string, string>;
  private chain: Promise<unknown> = Promise.resolve();
  private pending = new AsyncLocalStorage<Map<string, string | undefined>>();

  constructor(
    readonly file: string,
    values?: Map<string, string>,
  ) {
    this.values = values ?? new Map();
  }

  /** The store of a file as it is now (no file: empty). */
  static load(file: string): SecretStore {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // no secrets yet
    }
    return new SecretStore(file, parseSecrets(text));
  }

  get(key: string): string | undefined {
    const p = this.pending.getStore();
    if (p?.has(key)) return p.get(key);
    return this.values.get(key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  keys(): string[] {
    return [...this.values.keys()];
  }

  /** Run `fn` seeing `changes` as if they were written (a dry run); nothing is written. */
  preview<T>(changes: SecretChange[], fn: () => T): T {
    if (!changes.length) return fn();
    const merged = new Map(this.pending.getStore() ?? []);
    for (const c of changes) merged.set(c.key, c.value);
    return this.pending.run(merged, fn);
  }

  /**
   * Write `changes` (one at a time with every other write of every subsystem): the file is
   * read again, edited and written atomically with mode 0600. Returns the previous values, as
   * the changes that undo this one.
   */
  update(changes: SecretChange[]): Promise<SecretChange[]> {
    if (!changes.length) return Promise.resolve([]);
    for (const c of changes) {
      if (!KEY.test(c.key)) throw new Error(`secrets: invalid key ${JSON.stringify(c.key)}`);
      if (c.value !== undefined && /[\r\n]/.test(c.value)) throw new Error('secrets: newline in value');
    }
    const run = this.chain.then(async () => {
      let text = '';
      try {
        text = await readFile(this.file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      const onDisk = parseSecrets(text);
      const previous = changes.map((c) => ({ key: c.key, value: onDisk.get(c.key) }));
      const next = editSecrets(text, changes);
      await writeFileAtomic(this.file, next, { mode: 0o600 });
      this.values = parseSecrets(next);
      return previous;
    });
    this.chain = run.catch(() => {});
    return run;
  }
}
