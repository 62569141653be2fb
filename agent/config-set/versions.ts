/**
 * Where the pipeline keeps a target's committed state and its versions in LMDB (index.ts drives
 * it): `config-set␀<target>␀state`, `…␀head` and one record per version, `…␀v␀<8 digits>`.
 *
 * The state is packed once per commit (msgpackr, its record structures inline, so the bytes
 * read alone) and the same bytes go under `state` and into the version record: lmdb-js's own
 * encoding of the state object, twice a commit with its shared structures, was most of a
 * 1,000-share commit (~85 ms, docs/benchmarks.md); a standalone pack is a few ms, and index.ts
 * makes it while the target's validation command runs. Values written before (the state as a
 * plain object, in both places) read as they are: a stored state is packed when it is bytes
 * (a state is always an object), so an upgrade keeps every recorded version.
 */

import type { Database } from 'lmdb';
import { Packr, Unpackr } from 'msgpackr';
import { RpcError } from '../../rpc/errors.js';
import type { FileSet, Head, VersionInfo, VersionRecord } from './types.js';

const packr = new Packr({ useRecords: true });
const unpackr = new Unpackr({ useRecords: true });

/** A state as stored: packed bytes (since the packed format) or the object itself (before). */
type Stored<S> = S | Uint8Array;

/** A version record as stored: the state packed, or (records written before) the object. */
type StoredVersion<S> = Omit<VersionRecord<S>, 'state'> & { state: Stored<S> };

/** A state's stored form, packed on its own (a copy: the packer reuses its buffer). */
export function packState(state: unknown): Buffer {
  return Buffer.from(packr.pack(state));
}

/** A stored state, whichever form it has (read at once: lmdb-js may reuse a value's buffer). */
export function unpackState<S>(v: Stored<S>): S {
  return v instanceof Uint8Array ? (unpackr.unpack(v) as S) : v;
}

/**
 * A stored value as its readers see it, packed states unpacked (tests look through the whole
 * database for a secret that must not be there).
 */
export function readableValue(v: unknown): unknown {
  if (v instanceof Uint8Array) return unpackr.unpack(v);
  if (v && typeof v === 'object' && 'state' in v && (v as { state: unknown }).state instanceof Uint8Array)
    return { ...v, state: unpackr.unpack((v as { state: Uint8Array }).state) };
  return v;
}

/** Everything a commit puts, made before its transaction (the packing outside the lock on LMDB). */
export interface PreparedCommit {
  version: number;
  head: Head;
  state: Buffer;
  record: StoredVersion<unknown>;
}

export class Versions<S> {
  constructor(
    private db: Database,
    private name: string,
    private initial: () => S,
  ) {}

  private key(...parts: (string | number)[]): string {
    return ['config-set', this.name, ...parts.map(String)].join('\u0000');
  }
  private vkey(v: number): string {
    return this.key('v', String(v).padStart(8, '0'));
  }

  /** The committed desired state (the target's initial state before the first apply). */
  state(): S {
    const v = this.db.get(this.key('state')) as Stored<S> | undefined;
    return v === undefined ? this.initial() : unpackState(v);
  }

  head(): Head | undefined {
    return this.db.get(this.key('head')) as Head | undefined;
  }

  /** The commit's values: the state packed once, the version record holding the same bytes. */
  prepare(
    info: VersionInfo,
    state: S,
    files: FileSet,
    redact: (text: string, file: string) => string,
  ): PreparedCommit {
    const redacted: Record<string, string> = {};
    for (const [p, text] of files) if (text !== undefined) redacted[p] = redact(text, p);
    const packed = packState(state);
    return {
      version: info.version,
      head: { version: info.version, paths: [...files.keys()].filter((p) => files.get(p) !== undefined) },
      state: packed,
      record: { ...info, state: packed, files: redacted },
    };
  }

  /** The commit's puts (inside the caller's transaction); the versions beyond the kept ones pruned. */
  write(c: PreparedCommit, keep: number): void {
    this.db.put(this.key('state'), c.state);
    this.db.put(this.key('head'), c.head);
    this.db.put(this.vkey(c.version), c.record);
    for (const { key } of this.db.getRange({
      start: this.key('v', ''),
      end: this.vkey(Math.max(0, c.version - keep + 1)),
    })) {
      this.db.remove(key);
    }
  }

  /** One recorded version, its state unpacked. */
  record(v: number): VersionRecord<S> {
    const rec = this.db.get(this.vkey(v)) as StoredVersion<S> | undefined;
    if (!rec) throw new RpcError('not_found', `${this.name}: configuration version ${v} does not exist`);
    return { ...rec, state: unpackState(rec.state) };
  }

  /** Recorded versions, newest first. */
  history(): VersionInfo[] {
    const out: VersionInfo[] = [];
    for (const { value } of this.db.getRange({
      start: this.key('v', '99999999'),
      end: this.key('v', ''),
      reverse: true,
    })) {
      const { version, time, user, summary, changed } = value as StoredVersion<S>;
      out.push({ version, time, user, summary, changed });
    }
    return out;
  }
}
