/**
 * The subsystem services the agent loads. Each is `(deps) => Service`; add a line to register one.
 */
import type { ServiceFactory } from '../deps.js';
import { backupService } from './backup.js';
import { createHardwareService, hardwareService } from './hardware.js';
import { releaseService } from './release.js';
import { terminalService } from './terminal.js';
import { zfsService } from './zfs.js';

export const SERVICES: ServiceFactory[] = [
  hardwareService,
  backupService,
  releaseService,
  terminalService,
  zfsService,
];

/**
 * What the appliance itself runs (calypso-agent's entry point): the same services, with the
 * hotplug monitor started at once so that a pulled or inserted disk is noticed even before any
 * client has asked for the inventory. Test agents use SERVICES, whose monitor starts on the
 * first hardware call, so that each does not spawn its own `udevadm monitor`.
 */
export const APPLIANCE_SERVICES: ServiceFactory[] = SERVICES.map((f) =>
  f === hardwareService ? createHardwareService({ startMonitor: true }) : f,
);
