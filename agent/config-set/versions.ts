/**
 * Where the pipeline keeps a target's committed state and its versions in LMDB (index.ts drives
 * it): `config-set␀<target>␀head` names the committed version; each version has its state,
 * packed, under `…␀s␀<8 digits>` and its record (who, when, what, its files packed) under
 * `…␀v␀<8 digits>`.
 *
 * A version is written in two steps. Its state and record go in while the target's validation
 * command runs (`stage`): nothing reads them yet, since the head names the version before. The
 * commit (`write`, in the caller's transaction with the call's audit record) then only moves the
 * head. So the apply's answer waits for a small transaction, not for copying a 1,000-share state
 * and smb.conf into the map (3–5 ms of page faults there, bench/shares.ts); a change refused or
 * cut short leaves the next version's keys unread, and the next apply writes over them.
 *
 * The committed state is unpacked once per version and kept, frozen: every reader gets the same
 * object, and one that changed it in place would throw rather than change what the others see.
 *
 * Values written before read as they are, so an upgrade keeps every recorded version: the state
 * under `…␀state` (the first commit after removes it), inside each record as bytes or as a plain
 * object, and the files as an object.
 */

import type { Database } from 'lmdb';
import { Packr, Unpackr } from 'msgpackr';
import { RpcError } from '../../rpc/errors.js';
import type { FileSet, Head, VersionInfo, VersionRecord } from './types.js';

const packr = new Packr({ useRecords: true });
const unpackr = new Unpackr({ useRecords: true });

/** A state as stored: packed bytes (since the packed format) or the object itself (before). */
type Stored<S> = S | Uint8Array;

/**
 * A version record as stored: its files packed, its state under its own key (records written
 * before: the state inside, packed or as an object, and the files as an object).
 */
type StoredVersion<S> = Omit<VersionRecord<S>, 'state' | 'files'> & {
  state?: Stored<S>;
  files: Stored<Record<string, string>>;
};

/** A state's stored form, packed on its own (a copy: the packer reuses its buffer). */
export function packState(state: unknown): Buffer {
  return Buffer.from(packr.pack(state));
}

/** A stored state, whichever form it has (read at once: lmdb-js may reuse a value's buffer). */
export function unpackState<S>(v: Stored<S>): S {
  return v instanceof Uint8Array ? (unpackr.unpack(v) as S) : v;
}

/**
 * A stored value as its readers see it, packed parts unpacked (tests look through the whole
 * database for a secret that must not be there).
 */
export function readableValue(v: unknown): unknown {
  if (v instanceof Uint8Array) return unpackr.unpack(v);
  if (v && typeof v === 'object' && ('state' in v || 'files' in v)) {
    const r = v as { state?: unknown; files?: unknown };
    return {
      ...r,
      ...('state' in r ? { state: unpackState(r.state) } : {}),
      ...('files' in r ? { files: unpackState(r.files) } : {}),
    };
  }
  return v;
}

/** `v` and everything in it made read-only (typed arrays cannot be, and a state holds none). */
export function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/** Everything a version puts, made before its transactions (the packing outside LMDB's lock). */
export interface PreparedCommit {
  version: number;
  head: Head;
  state: Buffer;
  record: StoredVersion<unknown>;
  /** the state committed, frozen: what `state()` answers once the head names this version */
  frozen: unknown;
}

const digits = (v: number) => String(v).padStart(8, '0');

export class Versions<S> {
  /** the committed state, unpacked once for the version the head names */
  private cache: { version: number; state: S } | undefined;

  constructor(
    private db: Database,
    private name: string,
    private initial: () => S,
  ) {}

  private key(...parts: (string | number)[]): string {
    return ['config-set', this.name, ...parts.map(String)].join('\u0000');
  }
  private vkey(v: number): string {
    return this.key('v', digits(v));
  }
  private skey(v: number): string {
    return this.key('s', digits(v));
  }

  /**
   * The committed desired state (the target's initial state before the first apply): one frozen
   * object per version, shared by every reader.
   */
  state(): S {
    const h = this.head();
    if (h && this.cache?.version === h.version) return this.cache.state;
    const v = ((h && this.db.get(this.skey(h.version))) ?? this.db.get(this.key('state'))) as
      | Stored<S>
      | undefined;
    if (v === undefined) return this.initial();
    const state = deepFreeze(unpackState(v));
    if (h) this.cache = { version: h.version, state };
    return state;
  }

  head(): Head | undefined {
    return this.db.get(this.key('head')) as Head | undefined;
  }

  /** A version's values: its state packed once (and frozen), its files redacted and packed. */
  prepare(
    info: VersionInfo,
    state: S,
    files: FileSet,
    redact: (text: string, file: string) => string,
  ): PreparedCommit {
    const redacted: Record<string, string> = {};
    for (const [p, text] of files) if (text !== undefined) redacted[p] = redact(text, p);
    return {
      version: info.version,
      head: { version: info.version, paths: [...files.keys()].filter((p) => files.get(p) !== undefined) },
      state: packState(state),
      record: { ...info, files: packState(redacted) },
      frozen: deepFreeze(state),
    };
  }

  /** The version's state and record, written before its commit: unread until the head names it. */
  async stage(c: PreparedCommit): Promise<void> {
    await this.db.transaction(() => {
      this.db.put(this.skey(c.version), c.state);
      this.db.put(this.vkey(c.version), c.record);
    });
  }

  /**
   * A version staged but not committed (its change refused or failed; a crash cut it short: at
   * the next start) leaves no trace: its keys removed while the head names the one before.
   */
  async unstage(version: number): Promise<void> {
    if (version <= (this.head()?.version ?? 0)) return;
    if (this.db.get(this.skey(version)) === undefined && this.db.get(this.vkey(version)) === undefined)
      return;
    await this.db.transaction(() => {
      this.db.remove(this.skey(version));
      this.db.remove(this.vkey(version));
    });
  }

  /**
   * The commit's puts, after `stage` (inside the caller's transaction): the head moved, the state
   * key of the format before removed, the versions beyond the kept ones pruned.
   */
  write(c: PreparedCommit, keep: number): void {
    this.db.put(this.key('head'), c.head);
    this.db.remove(this.key('state'));
    const end = digits(Math.max(0, c.version - keep + 1));
    for (const part of ['s', 'v'])
      for (const { key } of this.db.getRange({ start: this.key(part, ''), end: this.key(part, end) }))
        this.db.remove(key);
  }

  /** After the commit's transaction: its state is the one readers get. */
  committed(c: PreparedCommit): void {
    this.cache = { version: c.version, state: c.frozen as S };
  }

  /** The stored record of a committed version (a staged one the head does not name yet is not one). */
  private stored(v: number): StoredVersion<S> {
    const rec =
      v <= (this.head()?.version ?? 0)
        ? (this.db.get(this.vkey(v)) as StoredVersion<S> | undefined)
        : undefined;
    if (!rec) throw new RpcError('not_found', `${this.name}: configuration version ${v} does not exist`);
    return rec;
  }

  /** One recorded version, its state and files unpacked. */
  record(v: number): VersionRecord<S> {
    const rec = this.stored(v);
    return { ...rec, state: this.stateOf(v, rec), files: unpackState(rec.files) };
  }

  /** One recorded version's state (a restore's: its files are not read). */
  stateOf(v: number, rec?: StoredVersion<S>): S {
    const packed = this.db.get(this.skey(v)) as Uint8Array | undefined;
    if (packed !== undefined && v <= (this.head()?.version ?? 0)) return unpackState<S>(packed);
    const r = rec ?? this.stored(v);
    if (r.state === undefined)
      throw new RpcError('not_found', `${this.name}: configuration version ${v} has no state recorded`);
    return unpackState(r.state);
  }

  /** Recorded versions, newest first (from the one the head names). */
  history(): VersionInfo[] {
    const h = this.head();
    if (!h) return [];
    const out: VersionInfo[] = [];
    for (const { value } of this.db.getRange({
      start: this.vkey(h.version),
      end: this.key('v', ''),
      reverse: true,
    })) {
      const { version, time, user, summary, changed } = value as StoredVersion<S>;
      out.push({ version, time, user, summary, changed });
    }
    return out;
  }
}
