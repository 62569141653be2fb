/** Processes found from /proc: what refers to a directory (the demo's and the tests' leftovers checks). */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcRef {
  pid: number;
  name: string;
  cmdline: string;
}

function read(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

/** Processes (other than this one) whose command line, working directory or environment names `dir`. */
export function processesReferring(dir: string): ProcRef[] {
  const out: ProcRef[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    const cmdline = read(`/proc/${e}/cmdline`).split('\0').join(' ').trim();
    let cwd = '';
    try {
      cwd = readlinkSync(`/proc/${e}/cwd`);
    } catch {
      /* gone */
    }
    const env = read(`/proc/${e}/environ`);
    if ([cmdline, cwd, env].some((h) => h.includes(dir)))
      out.push({ pid: Number(e), name: read(`/proc/${e}/comm`).trim(), cmdline });
  }
  return out;
}
