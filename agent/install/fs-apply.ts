/**
 * Idempotent filesystem steps for the installer: each `ensure*` compares what is on disk with
 * what is wanted and changes only what differs, recording every change. Running the install a
 * second time therefore reports no change and leaves mtimes alone.
 *
 * Files are written atomically (temp file in the same directory, fsync, rename, fsync dir), so
 * an install interrupted at any point never leaves a half-written calypso.yaml or unit file.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  type Stats,
  symlinkSync,
} from 'node:fs';
import path from 'node:path';
import { syncDirSync, writeFileAtomicSync } from '../fs/atomic-write.js';

export interface Owner {
  /** Account names as in the plan (root, calypso, …). */
  user: string;
  group: string;
}

/** Numeric ids of accounts, or undefined when the account does not exist (prefix installs). */
export interface IdResolver {
  uid(user: string): number | undefined;
  gid(group: string): number | undefined;
}

export interface Change {
  path: string;
  action: 'mkdir' | 'write' | 'chmod' | 'chown' | 'symlink' | 'account' | 'command';
  detail?: string;
}

export class Applier {
  readonly changes: Change[] = [];

  constructor(
    private ids: IdResolver,
    /** false: only record what would change (dry run). */
    private apply = true,
  ) {}

  private record(change: Change): void {
    this.changes.push(change);
  }

  ensureDir(dir: string, mode: number, owner: Owner): void {
    const st = statOrUndefined(dir);
    if (st && !st.isDirectory()) throw new Error(`${dir}: exists and is not a directory`);
    if (!st) {
      if (this.apply) {
        // Missing parents (var/, var/lib/ under a fresh prefix) get the usual 0755, not this mode.
        mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 });
        mkdirSync(dir, { mode });
      }
      this.record({ path: dir, action: 'mkdir', detail: octal(mode) });
    }
    this.ensureMeta(dir, mode, owner, st);
  }

  /** Write `content` unless the file already holds exactly that. */
  ensureFile(file: string, content: string | Buffer, mode: number, owner: Owner): void {
    const st = statOrUndefined(file);
    if (st && !st.isFile()) throw new Error(`${file}: exists and is not a regular file`);
    const want = typeof content === 'string' ? Buffer.from(content) : content;
    if (!st || !readFileSync(file).equals(want)) {
      if (this.apply) writeFileAtomicSync(file, want, { mode: mode });
      this.record({ path: file, action: 'write', detail: `${want.length} bytes` });
      this.ensureMeta(file, mode, owner, undefined);
      return;
    }
    this.ensureMeta(file, mode, owner, st);
  }

  /** Create the file only when it is absent (config the admin edits, secrets, keys). */
  ensureFileOnce(file: string, make: () => string | Buffer, mode: number, owner: Owner): void {
    const st = statOrUndefined(file);
    if (st) {
      this.ensureMeta(file, mode, owner, st);
      return;
    }
    this.ensureFile(file, make(), mode, owner);
  }

  ensureSymlink(link: string, target: string): void {
    const st = statOrUndefined(link);
    if (st?.isSymbolicLink() && readlinkSync(link) === target) return;
    if (st && !st.isSymbolicLink()) throw new Error(`${link}: exists and is not a symbolic link`);
    if (this.apply) {
      // New link beside the old one, then rename over it: the link is never missing.
      const tmp = `${link}.tmp-${randomBytes(4).toString('hex')}`;
      symlinkSync(target, tmp);
      renameSync(tmp, link);
      syncDirSync(path.dirname(link));
    }
    this.record({ path: link, action: 'symlink', detail: target });
  }

  /** Record an external change (account creation, daemon reload) made by the caller. */
  note(change: Change): void {
    this.record(change);
  }

  private ensureMeta(p: string, mode: number, owner: Owner, st: Stats | undefined): void {
    const cur = st ?? (this.apply ? lstatSync(p) : undefined);
    if (cur && (cur.mode & 0o7777) !== mode) {
      if (this.apply) chmodSync(p, mode);
      this.record({ path: p, action: 'chmod', detail: `${octal(cur.mode & 0o7777)} -> ${octal(mode)}` });
    }
    const uid = this.ids.uid(owner.user);
    const gid = this.ids.gid(owner.group);
    // An account that does not exist (a prefix install that creates no accounts) is left as is:
    // the plan still records the intended owner, which the install report shows.
    if (uid === undefined && gid === undefined) return;
    const wantUid = uid ?? cur?.uid ?? -1;
    const wantGid = gid ?? cur?.gid ?? -1;
    if (!cur || cur.uid !== wantUid || cur.gid !== wantGid) {
      if (this.apply) chownSync(p, wantUid, wantGid);
      this.record({ path: p, action: 'chown', detail: `${owner.user}:${owner.group}` });
    }
  }
}

export function statOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export const octal = (mode: number) => `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
