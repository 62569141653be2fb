/**
 * The subsystems the agent loads: the one list a new subsystem is added to. Each entry comes
 * from `agent/<subsystem>/service.ts`, which declares the subsystem's methods, its capability
 * probes and its slice of calypso.yaml (docs/layout.md, "Adding a subsystem").
 */
import { notifySubsystem } from './alerts/notify.js';
import { alertsSubsystem } from './alerts/service.js';
import { backupSubsystem } from './backup/service.js';
import { configSchemaWith } from './config.js';
import type { Subsystem } from './deps.js';
import { createHardwareService, hardwareSubsystem } from './hardware/service.js';
import { lioBackendFactory } from './iscsi/backend-lio.js';
import { scstBackendFactory } from './iscsi/backend-scst.js';
import { tgtBackendFactory } from './iscsi/backend-tgt.js';
import { iscsiSubsystem } from './iscsi/service.js';
import { metricsSubsystem } from './metrics/service.js';
import { objectSubsystem } from './object/service.js';
import { releaseSubsystem } from './release/service.js';
import { remoteSubsystem } from './remote/service.js';
import { sharesSubsystem } from './shares/service.js';
import { tapeSubsystem } from './tape/service.js';
import { terminalSubsystem } from './terminal/service.js';
import { vtlSubsystem } from './vtl/service.js';
import { zfsSubsystem } from './zfs/service.js';

export const SUBSYSTEMS: Subsystem[] = [
  alertsSubsystem,
  hardwareSubsystem,
  backupSubsystem,
  releaseSubsystem,
  terminalSubsystem,
  zfsSubsystem,
  tapeSubsystem,
  vtlSubsystem,
  objectSubsystem,
  sharesSubsystem,
  remoteSubsystem,
  // SCST first (its sysfs tree and scstadmin), then LIO when loaded, then tgt when tgtd answers,
  // then LIO when its modules can be loaded (a fallback: service.ts choose)
  iscsiSubsystem([scstBackendFactory, lioBackendFactory, tgtBackendFactory]),
  metricsSubsystem,
  notifySubsystem,
];

/**
 * What the appliance itself runs (calypso-agent's entry point): the same subsystems, with the
 * hotplug monitor started at once so that a pulled or inserted disk is noticed even before any
 * client has asked for the inventory. Test agents use SUBSYSTEMS, whose monitor starts on the
 * first hardware call, so that each does not spawn its own `udevadm monitor`.
 */
export const APPLIANCE_SUBSYSTEMS: Subsystem[] = SUBSYSTEMS.map((s) =>
  s === hardwareSubsystem ? { ...s, service: createHardwareService({ startMonitor: true }) } : s,
);

/** calypso.yaml's full schema: the core plus every subsystem's slice. */
export function fullConfigSchema(subsystems: readonly Subsystem[] = SUBSYSTEMS) {
  return configSchemaWith(subsystems.flatMap((s) => (s.config ? [s.config] : [])));
}
