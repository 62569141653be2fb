/**
 * What a test run may leave on the host, found from /proc and zpool: ZFS pools, daemons
 * (zfs-fuse, tgtd, bacula-*, ceph-*, radosgw, cockpit-ws, chromium, prometheus, agents) and
 * mounts. Used by the suite's first file (aa-baseline: what ran before the suite) and its last
 * (zz-leftovers: nothing the suite started survives it).
 *
 * Under scripts/test.mjs a daemon belongs to the suite when it carries the run's tag in its
 * environment (CALYPSO_SUITE_RUN: inherited by what a test spawns, passed on by the runner to the
 * commands the agent starts, and by test helpers that spawn with an environment of their own
 * through suiteTag()). Nothing else counts, whenever it started: a demo agent, a tgtd in another
 * terminal, another checkout's test run with its own temporary directories.
 *
 * Run by hand (no tag), a daemon counts when it refers to a test's temporary directory (command
 * line, working directory or environment) or, failing a marker (tgtd takes no config path), when
 * it was not running before the suite's first file (aa-baseline).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const BASELINE_FILE = path.join(os.tmpdir(), 'calypso-suite-baseline.json');

/** Temporary roots the suite's tests create (tempDir, fastTempDir, playwright's profiles). */
export const TEST_ROOTS = [
  path.join(os.tmpdir(), 'calypso-'),
  '/dev/shm/calypso-',
  path.join(os.tmpdir(), 'playwright'),
];

const DAEMONS =
  /^(zfs-fuse|tgtd|bacula-(dir|sd|fd)|ceph-(mon|osd|mgr|mds)|radosgw|cockpit-ws|cockpit-bridge|chrom(e|ium)|prometheus|minio)$/;

export interface Proc {
  pid: number;
  name: string;
  cmdline: string;
  /** a test temp root it refers to, if any */
  marker?: string;
  /** its CALYPSO_SUITE_RUN, if any */
  run?: string;
}

/** The run tag for a child a test spawns with an environment of its own ({} outside the suite). */
export function suiteTag(): Record<string, string> {
  const run = process.env.CALYPSO_SUITE_RUN;
  return run ? { CALYPSO_SUITE_RUN: run } : {};
}

function read(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

function markerOf(pid: number, cmdline: string): Pick<Proc, 'marker' | 'run'> {
  let cwd = '';
  try {
    cwd = readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    /* gone or not ours */
  }
  const environ = read(`/proc/${pid}/environ`);
  const run = /(?:^|\0)CALYPSO_SUITE_RUN=([^\0]*)/.exec(environ)?.[1];
  const env = environ.replaceAll('\0', ' ');
  for (const hay of [cmdline, cwd, env]) {
    for (const r of TEST_ROOTS)
      if (hay.includes(r))
        return {
          marker: `${hay === cmdline ? 'command line' : hay === cwd ? 'cwd' : 'environment'} names ${r}…`,
          run,
        };
  }
  return { run };
}

/** Watched daemons, and calypso agents, running now (not this process or its ancestors). */
export function daemons(): Proc[] {
  const skip = new Set<number>([process.pid, process.ppid]);
  const out: Proc[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (skip.has(pid)) continue;
    const name = read(`/proc/${e}/comm`).trim();
    const cmdline = read(`/proc/${e}/cmdline`).split('\0').join(' ').trim();
    const agent = /(^|\/)node\b/.test(cmdline) && /agent\/(main|release\/supervisor)\.(js|ts)/.test(cmdline);
    if (!DAEMONS.test(name) && !agent) continue;
    out.push({ pid, name: agent ? 'calypso-agent' : name, cmdline, ...markerOf(pid, cmdline) });
  }
  return out;
}

/** Processes whose command line, working directory or environment names `dir`. */
export { processesReferring } from '../sandbox/procs.js';

/** Pools zfs-fuse (or ZFS) knows, with their vdev paths; [] when no daemon answers. */
export function pools(): { name: string; vdevs: string[] }[] {
  const list = spawnSync('zpool', ['list', '-H', '-o', 'name'], { encoding: 'utf8', timeout: 20_000 });
  if (list.status !== 0) return [];
  return list.stdout
    .split('\n')
    .filter(Boolean)
    .map((name) => {
      const st = spawnSync('zpool', ['status', '-P', '--', name], { encoding: 'utf8', timeout: 20_000 });
      const vdevs = [...(st.stdout ?? '').matchAll(/^\s+(\/\S+)/gm)].map((m) => m[1]!);
      return { name, vdevs };
    });
}

/** Mounts under a test temp root. */
export function mounts(): string[] {
  return read('/proc/self/mounts')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[1] && TEST_ROOTS.some((r) => f[1]!.startsWith(r)))
    .map((f) => `${f[0]} on ${f[1]} (${f[2]})`);
}

export interface Baseline {
  pids: number[];
  pools: string[];
}

export function readBaseline(): Baseline | undefined {
  if (!existsSync(BASELINE_FILE)) return undefined;
  try {
    return JSON.parse(readFileSync(BASELINE_FILE, 'utf8')) as Baseline;
  } catch {
    return undefined;
  }
}

/**
 * Everything the suite left behind, as lines for an assertion message. `run`: the suite's run
 * tag (scripts/test.mjs); '' or undefined when a file runs by hand.
 */
export function leftovers(baseline = readBaseline(), run = process.env.CALYPSO_SUITE_RUN): string[] {
  const before = new Set(baseline?.pids ?? []);
  const poolsBefore = new Set(baseline?.pools ?? []);
  const out: string[] = [];
  for (const p of daemons()) {
    if (before.has(p.pid)) continue;
    if (run) {
      if (p.run === run) out.push(`daemon ${p.name} (pid ${p.pid}) started by this run: ${p.cmdline}`);
    } else if (p.marker) out.push(`daemon ${p.name} (pid ${p.pid}): ${p.marker}: ${p.cmdline}`);
    else if (baseline) out.push(`daemon ${p.name} (pid ${p.pid}) started during the suite: ${p.cmdline}`);
  }
  for (const p of pools()) {
    if (poolsBefore.has(p.name)) continue;
    const tmpVdev = p.vdevs.find((v) => TEST_ROOTS.some((r) => v.startsWith(r)));
    if (tmpVdev || (baseline && !run)) out.push(`pool ${p.name}${tmpVdev ? ` (vdev ${tmpVdev})` : ''}`);
  }
  for (const m of mounts()) out.push(`mount ${m}`);
  return out;
}
