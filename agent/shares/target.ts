/**
 * The shares' managed-config target (`shares`): smb.conf rendered from the desired state,
 * checked by Samba's own `testparm -s` (which exits 0 even on an unknown parameter, so its
 * messages are read), and taken into use by the running smbd with `smbcontrol reload-config`
 * — skipped when no smbd runs on this file (its pid file names no live smbd; it reads the file
 * when it starts). The NFS exports file
 * beside it, taken into use with `exportfs -ra` (which has no check-only mode: its complaints
 * refuse the change, and the pipeline puts the previous file back and runs it again).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { invalid } from '../../rpc/errors.js';
import type { ConfigTarget, Step } from '../config-set/index.js';
import type { Layout } from '../layout.js';
import type { SharesConfig } from './config.js';
import { EMPTY_SHARES, type SharesState } from './model.js';
import { nfsShares, renderExports } from './render-nfs.js';
import { renderSmbConf, type SmbGlobals } from './render-smb.js';

export interface SambaPaths {
  conf: string;
  dirs: SmbGlobals['dirs'];
}

/** Where the exports file is: calypso.yaml's `shares.exportsFile`, else under the prefix's /etc/exports.d. */
export function exportsPathOf(cfg: SharesConfig, layout: Layout): string {
  return cfg.exportsFile ?? path.join(layout.prefix, 'etc/exports.d/calypso.exports');
}

export const hasSmb = (s: SharesState) => s.shares.some((x) => x.protocols.includes('smb'));
export const hasNfs = (s: SharesState) => nfsShares(s).length > 0;

/**
 * exportfs skips what it cannot export and goes on (a directory that does not exist, an option it
 * does not know, a file system that needs fsid=), and its exit status says little: every line it
 * writes on stderr refuses the change (measured in the lab: "Failed to stat <dir>: No such file or
 * directory", "<file>:2: unknown keyword", exit 1; "requires fsid= for NFS export").
 */
export function exportfsStep(timeoutMs: number): Step {
  return {
    argv: ['exportfs', '-ra'],
    timeoutMs,
    // its complaints are read below, whatever the status
    okCodes: [0, 1],
    check: (r) => {
      const bad = r.stderr
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '');
      if (bad.length)
        throw invalid(`exportfs refuses the rendered exports: ${bad.join('; ')}`, { exportfs: bad });
    },
  };
}

export function sambaPaths(layout: Layout): SambaPaths {
  const base = path.join(layout.stateDir, 'samba');
  return {
    conf: path.join(layout.generated('samba'), 'smb.conf'),
    dirs: {
      private: path.join(base, 'private'),
      state: path.join(base, 'state'),
      lock: path.join(base, 'lock'),
      cache: path.join(base, 'cache'),
      pid: path.join(base, 'run'),
      ncalrpc: path.join(base, 'ncalrpc'),
      log: path.join(layout.logDir, 'samba'),
    },
  };
}

export function smbGlobals(cfg: SharesConfig, p: SambaPaths): SmbGlobals {
  return {
    port: cfg.smbPort,
    interfaces: cfg.smbInterfaces,
    workgroup: cfg.workgroup,
    guestAccount: cfg.guestAccount,
    dirs: p.dirs,
  };
}

/** testparm's complaints about a file that it nevertheless answers 0 for. */
const TESTPARM_ERRORS =
  /Unknown parameter encountered|Ignoring unknown parameter|ERROR|Error loading services/i;

export function testparmStep(conf: string, timeoutMs: number): Step {
  return {
    argv: ['testparm', '-s', conf],
    timeoutMs,
    // its dump of every section is not read: its complaints are on stderr
    discardStdout: true,
    check: (r) => {
      const bad = r.stderr.split('\n').filter((l) => TESTPARM_ERRORS.test(l));
      if (bad.length)
        throw invalid(`testparm refuses the rendered smb.conf: ${bad.join('; ')}`, { testparm: bad });
    },
  };
}

/**
 * An smbd runs on this configuration: its pid file (`smbd.pid` in the file's `pid directory`,
 * where smbcontrol itself looks it up) names a live process called smbd. No process started:
 * `smbcontrol … ping` cost a third process per apply (100–300 ms each under load, bench/shares.ts),
 * and reload-config reaches the same pid through the same file.
 */
export async function smbdRunning(pidDir: string): Promise<boolean> {
  // two small reads inline: as thread-pool round trips they cost a wake-up each under load
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  const pid = Number.parseInt(read(path.join(pidDir, 'smbd.pid')), 10);
  if (!(pid > 0)) return false;
  return read(`/proc/${pid}/comm`).startsWith('smbd');
}

export function sharesTarget(
  cfg: SharesConfig,
  p: SambaPaths,
  exportsFile: string,
): ConfigTarget<SharesState> {
  const timeoutMs = cfg.commandTimeoutSec * 1000;
  return {
    name: 'shares',
    initial: () => EMPTY_SHARES,
    render: (s) =>
      new Map([
        [p.conf, renderSmbConf(s, smbGlobals(cfg, p))],
        [exportsFile, renderExports(s)],
      ]),
    mode: () => 0o644,
    // inline (directories that exist after the first apply): seven thread-pool round trips cost
    // up to tens of ms under load
    prepare: async () => {
      mkdirSync(p.dirs.private, { recursive: true, mode: 0o700 });
      for (const d of [p.dirs.state, p.dirs.lock, p.dirs.cache, p.dirs.pid, p.dirs.ncalrpc, p.dirs.log])
        mkdirSync(d, { recursive: true, mode: 0o755 });
      mkdirSync(path.dirname(exportsFile), { recursive: true, mode: 0o755 });
    },
    // an agent with NFS shares only needs no Samba: testparm checks smb.conf when it has a share
    // (or joins a domain)
    // testparm reads the new smb.conf beside the live one (it includes nothing): a running smbd,
    // which re-reads its file when it changes, never sees one testparm refuses
    validatesStaged: true,
    validate: ({ state, staged }) =>
      hasSmb(state) || state.ad ? [testparmStep(staged?.(p.conf) ?? p.conf, timeoutMs)] : [],
    activate: ({ state, previous, changed }) => [
      {
        argv: ['smbcontrol', '-s', p.conf, 'smbd', 'reload-config'],
        timeoutMs,
        when: { describe: 'smbd runs on this configuration', test: () => smbdRunning(p.dirs.pid) },
      },
      // the exports of NFS shares changed (the last one removed included), or a re-apply (nothing
      // changed) of a state with NFS shares: exportfs -ra also puts back an export removed by hand
      // (exportfs -u). A machine that never had an NFS share never runs exportfs.
      ...((changed.includes(exportsFile) && (hasNfs(state) || hasNfs(previous))) ||
      (changed.length === 0 && hasNfs(state))
        ? [exportfsStep(timeoutMs)]
        : []),
    ],
  };
}
