/**
 * What a restore drill checks (docs/drills.md): the catalog's signature of every regular file
 * of a backup chain (the FileSet's `Signature = MD5|SHA1`, stored by the director in File.MD5)
 * against a digest of the restored copy. Pure SQL and encoding here, beside the one I/O helper
 * that hashes a restored file.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { lit } from './catalog-sql.js';
import type { FileResult } from './drill-model.js';
import { decodeLStat } from './parse-lstat.js';

/**
 * The latest entry of every file of a chain (Full + Differential/Incrementals), directories
 * and files deleted by an Accurate job (FileIndex 0) left out, with its signature and LStat.
 */
export function chainFilesSql(jobIds: readonly number[]): string {
  const ids = jobIds.map(lit).join(', ');
  return `WITH latest AS (
  SELECT max(f.FileId) AS fileId FROM File f WHERE f.JobId IN (${ids}) GROUP BY f.PathId, f.FilenameId
)
SELECT p.Path AS dir, n.Name AS name, f.MD5 AS sig, f.LStat AS lstat
FROM latest l JOIN File f ON f.FileId = l.fileId JOIN Path p ON p.PathId = f.PathId
  JOIN Filename n ON n.FilenameId = f.FilenameId
WHERE n.Name <> '' AND f.FileIndex > 0
ORDER BY p.Path, n.Name;`;
}

/** The last successful (or warning) backup of a job, by JobId. */
export function lastBackupSql(job: string): string {
  return `SELECT JobId AS jobId FROM Job WHERE Name = ${lit(job)} AND Type = 'B' AND JobStatus IN ('T', 'W')
ORDER BY JobId DESC LIMIT 1;`;
}

export interface ChainRow {
  dir: string;
  name: string;
  sig: string | null;
  lstat: string;
}

export interface ExpectedFile {
  path: string;
  size: number;
  /** catalog signature, Bacula base64 */
  sig: string;
  /** a second name of a hard-linked file (LStat LinkFI): its data comes with the first name */
  linked: boolean;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/**
 * Regular files with a signature (to check) and how many regular files have none. An entry
 * without one is a hard link to an earlier file of the job (Bacula sends the data once) or a
 * job whose FileSet has `signature: none`; both are counted, not checked.
 */
export function expectedFiles(rows: readonly ChainRow[]): { files: ExpectedFile[]; unsigned: number } {
  const files: ExpectedFile[] = [];
  let unsigned = 0;
  for (const r of rows) {
    const st = decodeLStat(r.lstat);
    if ((st.mode & S_IFMT) !== S_IFREG) continue;
    if (!r.sig || r.sig === '0') {
      unsigned++;
      continue;
    }
    files.push({ path: r.dir + r.name, size: st.size, sig: r.sig, linked: st.linkFi !== 0 });
  }
  return { files, unsigned };
}

const DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Bacula's bin_to_base64 (src/lib/base64.c): the usual alphabet, no `=` padding. With
 * `compatible` false (older file daemons) each byte is sign-extended into the bit register
 * and the last partial group is not shifted left, so digests differ from standard base64;
 * a drill accepts either form (signatureMatches).
 */
export function baculaBase64(bin: Uint8Array, compatible: boolean): string {
  let reg = 0;
  let rem = 0;
  let out = '';
  for (let i = 0; i < bin.length; ) {
    if (rem < 6) {
      reg = (reg << 8) >>> 0;
      const b = bin[i++]!;
      reg = (reg | (compatible ? b : b >= 128 ? (b - 256) >>> 0 : b)) >>> 0;
      rem += 8;
    }
    out += DIGITS[(reg >>> (rem - 6)) & 0x3f];
    rem -= 6;
  }
  if (rem) {
    const mask = (1 << rem) - 1;
    out += DIGITS[compatible ? ((reg & mask) << (6 - rem)) & 0x3f : reg & mask];
  }
  return out;
}

/** MD5 (22 characters) or SHA1 (27), from the length of a catalog signature. */
export function algorithmOf(sig: string): 'md5' | 'sha1' | undefined {
  return sig.length === 22 ? 'md5' : sig.length === 27 ? 'sha1' : undefined;
}

export function signatureMatches(sig: string, digest: Uint8Array): boolean {
  return baculaBase64(digest, true) === sig || baculaBase64(digest, false) === sig;
}

/** Hash one restored file (streamed: files may be large). */
export async function digestFile(
  file: string,
  algorithm: 'md5' | 'sha1',
  signal?: AbortSignal,
): Promise<Buffer> {
  const h = createHash(algorithm);
  await pipeline(createReadStream(file), h, { signal });
  return h.digest();
}

/** Compare one expected file with its restored copy under `where`. */
export async function checkFile(where: string, f: ExpectedFile, signal?: AbortSignal): Promise<FileResult> {
  const algorithm = algorithmOf(f.sig);
  const base = { path: f.path, size: f.size, expected: f.sig };
  if (!algorithm)
    return { ...base, result: 'unreadable', actual: 'signature of unknown length in the catalog' };
  try {
    const d = await digestFile(path.join(where, f.path), algorithm, signal);
    if (signatureMatches(f.sig, d)) return { path: f.path, size: f.size, result: 'ok' };
    return { ...base, result: 'different', actual: baculaBase64(d, true) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ...base, result: 'missing' };
    if (signal?.aborted) throw err;
    return { ...base, result: 'unreadable', actual: code ?? String(err) };
  }
}

/**
 * What a sample draws from: no second names of hard links. Field finding (Bacula 9.6.7,
 * test/backup/drill.test.ts): a sample of 3 that drew one name of a hard-linked pair without the
 * name whose entry carries the data failed on a fresh backup — bvfs restores the entry, which
 * has only a link to make. A whole-backup drill checks every name.
 */
export function sampleable(files: readonly ExpectedFile[]): ExpectedFile[] {
  return files.filter((f) => !f.linked);
}

/** A uniform random sample of `n` (Fisher–Yates on a copy; `random` returns [0, 1)). */
export function sample<T>(items: readonly T[], n: number, random: () => number = Math.random): T[] {
  const a = [...items];
  const k = Math.min(n, a.length);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (a.length - i));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, k);
}
