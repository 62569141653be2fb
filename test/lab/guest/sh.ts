/** Small helpers for the tests that run inside the lab guest (as root, on the real kernel). */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { repoRoot } from '../../helpers/paths.js';

const exec = promisify(execFile);

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run argv (no shell); never throws on a non-zero exit: the test asserts on `code`. */
export async function sh(argv: string[], timeoutMs = 60_000): Promise<Ran> {
  try {
    const r = await exec(argv[0]!, argv.slice(1), { timeout: timeoutMs, maxBuffer: 64 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return {
      code: typeof err.code === 'number' ? err.code : -1,
      stdout: err.stdout ?? '',
      stderr: err.stderr || err.message,
    };
  }
}

/** Run argv and return stdout; throws with the command's stderr when it fails. */
export async function ok(argv: string[], timeoutMs = 60_000): Promise<string> {
  const r = await sh(argv, timeoutMs);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** A function of scripts/lab/guest-lib.sh (lab_iscsid, lab_nfsd, lab_dbus, ...). */
export function labLib(fn: string, ...args: string[]): Promise<string> {
  const lib = path.join(repoRoot(), 'scripts/lab/guest-lib.sh');
  return ok(['sh', '-c', `. "$0"; ${fn} "$@"`, lib, ...args], 120_000);
}

export async function waitFor(p: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!existsSync(p)) {
    if (Date.now() > end) throw new Error(`${p} did not appear within ${ms} ms`);
    await sleep(100);
  }
}

/** Refuse to run anywhere but in the lab guest: these tests load modules and log in as root. */
export function assertInGuest(): void {
  if (!existsSync('/calypso-lab-run/cmd.sh')) {
    throw new Error(
      'this file runs inside the kernel lab guest (test/lab/guest.ts runGuestTests), not on the host',
    );
  }
}
