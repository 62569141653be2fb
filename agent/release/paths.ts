/**
 * Where the release machinery keeps its own files, all derived from the layout (which owns the
 * appliance's paths): the upgrade journal and history under the state directory, state backups
 * beside them, the upgrade log with the other logs, the supervisor's control files in the
 * runtime directory, and the trusted release key with the configuration.
 */
import path from 'node:path';
import type { Layout } from '../layout.js';

/** The agent's systemd unit: what an upgrade restarts and the installer enables. */
export const AGENT_UNIT = 'calypso-agent.service';

export interface ReleasePaths {
  /** var/lib/calypso/release */
  dir: string;
  /** the journal of the upgrade in progress; its presence means an upgrade is unfinished */
  journal: string;
  /** finished upgrades, newest last */
  history: string;
  /** when each release was installed (prune order) */
  installed: string;
  /** var/lib/calypso/backups/<upgrade id>: copies of the LMDB state taken before a migration */
  backups: string;
  upgradeLog: string;
  /** ed25519 public key (PEM); when present, releases must carry a valid manifest.sig */
  trustedKey: string;
  /** the test supervisor (a stand-in for systemd) */
  supervisorPid: string;
  supervisorState: string;
  /** while this file names a live process, the supervisor keeps the agent stopped */
  holdFile: string;
}

export function releasePaths(layout: Layout): ReleasePaths {
  const dir = path.join(layout.stateDir, 'release');
  return {
    dir,
    journal: path.join(dir, 'upgrade.json'),
    history: path.join(dir, 'history.json'),
    installed: path.join(dir, 'installed.json'),
    backups: path.join(layout.stateDir, 'backups'),
    upgradeLog: path.join(layout.logDir, 'upgrade.log'),
    trustedKey: path.join(layout.etc, 'release-signing.pub'),
    supervisorPid: path.join(layout.runDir, 'supervisor.pid'),
    supervisorState: path.join(layout.runDir, 'supervisor.json'),
    holdFile: path.join(layout.runDir, 'agent.hold'),
  };
}

export const releaseDir = (layout: Layout, version: string) => path.join(layout.releases, version);
