/**
 * The installed tree, as data: every directory of docs/design.md's filesystem domains with its owner
 * and mode, the accounts, and where the operating system integration files go. Pure: the
 * installer applies it, the tests walk the result against it and against docs/design.md.
 *
 * Appliance paths come from the layout module. The OS integration directories (systemd, udev,
 * logrotate, Cockpit) are the distribution's, not the appliance's, so they are spelled here, once,
 * under the same prefix.
 */

import path from 'node:path';
import { DATA_AREAS, type DataArea, type Layout } from '../layout.js';
import { AGENT_UNIT } from '../release/port.js';
import type { Owner } from './fs-apply.js';

/** the agent's systemd unit (the release subsystem owns it: it restarts the agent on upgrade) */
export { AGENT_UNIT };

export interface Account {
  kind: 'group' | 'user';
  name: string;
  /** for users: the primary group */
  group?: string;
  comment: string;
}

/**
 * `calypso` is the auditor group and the unprivileged service account (the agent itself runs as
 * root: it owns the storage stack). `calypso-admin` and `calypso-operator` are empty groups that
 * the site adds people to; their members get those roles on the Unix socket.
 */
export const ACCOUNTS: Account[] = [
  { kind: 'group', name: 'calypso', comment: 'Calypso auditors (read only) and service account group' },
  { kind: 'group', name: 'calypso-admin', comment: 'Calypso administrators' },
  { kind: 'group', name: 'calypso-operator', comment: 'Calypso operators' },
  { kind: 'user', name: 'calypso', group: 'calypso', comment: 'Calypso appliance' },
];

export interface DirSpec {
  path: string;
  mode: number;
  owner: Owner;
  why: string;
}

export interface SystemPaths {
  /** where the command line is linked so that `calypsoctl` is on PATH */
  binDir: string;
  systemdUnitDir: string;
  logrotateDir: string;
  udevRulesDir: string;
  cockpitDir: string;
}

export function systemPaths(prefix: string): SystemPaths {
  const at = (p: string) => path.join(prefix, p);
  return {
    // A tarball install is local software: /usr/local/bin, which every distribution's PATH has.
    binDir: at('usr/local/bin'),
    // Local administrator units: a tarball install is not a distribution package (/usr/lib/systemd).
    systemdUnitDir: at('etc/systemd/system'),
    logrotateDir: at('etc/logrotate.d'),
    udevRulesDir: at('etc/udev/rules.d'),
    cockpitDir: at('usr/share/cockpit/calypso'),
  };
}

const ROOT: Owner = { user: 'root', group: 'root' };
const CALYPSO: Owner = { user: 'root', group: 'calypso' };

/** Data areas holding other people's data or secrets are closed; shares are browsable by design. */
const DATA_MODES: Record<DataArea, number> = {
  db: 0o700,
  backups: 0o750,
  object: 0o750,
  shares: 0o755,
  vtl: 0o750,
  iscsi: 0o750,
  uploads: 0o750,
  cache: 0o750,
  _system: 0o700,
};

/** The appliance's directories in creation order (parents first). */
export function appDirs(layout: Layout): DirSpec[] {
  const d = (p: string, mode: number, owner: Owner, why: string): DirSpec => ({ path: p, mode, owner, why });
  return [
    d(path.dirname(layout.optRoot), 0o755, ROOT, 'vendor directory'),
    d(layout.optRoot, 0o755, ROOT, 'binaries'),
    d(layout.releases, 0o755, ROOT, 'one directory per release, X.Y.Z'),
    d(layout.thirdParty, 0o755, ROOT, 'third-party components shared by releases'),
    d(layout.etc, 0o750, CALYPSO, 'configuration; auditors may read calypso.yaml'),
    d(layout.tlsDir, 0o750, CALYPSO, 'WebSocket TLS certificate and key'),
    d(layout.integrationsDir, 0o750, CALYPSO, 'settings for external systems (monitoring, mail, S3 peers)'),
    d(layout.systemDir, 0o750, ROOT, 'subsystem configuration generated from LMDB'),
    d(layout.srv, 0o755, ROOT, 'data (ZFS datasets when a pool exists)'),
    ...DATA_AREAS.map((a) => d(layout.data[a], DATA_MODES[a], ROOT, `data: ${a}`)),
    // systemd manages these three at run time (LogsDirectory=, StateDirectory=, RuntimeDirectory=)
    // as root:root; owning them the same way keeps the installer and systemd from fighting.
    d(layout.logDir, 0o750, ROOT, 'logs (the agent rotates its own; logrotate the rest)'),
    d(layout.stateDir, 0o700, ROOT, 'agent state'),
    d(layout.lmdbDir, 0o700, ROOT, 'LMDB environment'),
    d(layout.runDir, 0o755, ROOT, 'socket and pid; the socket itself is 0660 root:calypso'),
  ];
}

/** Distribution directories the integration files go into (exist on a real system). */
export function systemDirs(sys: SystemPaths): DirSpec[] {
  const parents = new Set<string>();
  for (const p of [
    sys.binDir,
    sys.systemdUnitDir,
    sys.logrotateDir,
    sys.udevRulesDir,
    path.dirname(sys.cockpitDir),
  ]) {
    parents.add(p);
  }
  return [...parents].map((p) => ({ path: p, mode: 0o755, owner: ROOT, why: 'distribution directory' }));
}

/** Commands of the release put on PATH, as links into `current` (they follow upgrades). */
export const PATH_COMMANDS = ['calypsoctl'] as const;

export interface CommandLink {
  link: string;
  /** relative, so the link also resolves under a prefix */
  target: string;
  /** what the target resolves to on this tree */
  resolved: string;
}

export function commandLinks(layout: Layout, sys: SystemPaths): CommandLink[] {
  return PATH_COMMANDS.map((c) => {
    const resolved = path.join(layout.current, 'bin', c);
    const link = path.join(sys.binDir, c);
    return { link, target: path.relative(sys.binDir, resolved), resolved };
  });
}

export const FILE_MODES = {
  config: { mode: 0o640, owner: CALYPSO },
  secrets: { mode: 0o600, owner: ROOT },
  tlsCert: { mode: 0o644, owner: CALYPSO },
  tlsKey: { mode: 0o600, owner: ROOT },
  unit: { mode: 0o644, owner: ROOT },
  logrotate: { mode: 0o644, owner: ROOT },
  udevRule: { mode: 0o644, owner: ROOT },
  web: { mode: 0o644, owner: ROOT },
  webDir: { mode: 0o755, owner: ROOT },
} as const;

export const TLS_FILES = { cert: 'cert.pem', key: 'key.pem' } as const;
