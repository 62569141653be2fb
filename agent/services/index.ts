/**
 * The subsystem services the agent loads. Each is `(deps) => Service`; add a line to register one.
 */
import type { ServiceFactory } from '../deps.js';
import { backupService } from './backup.js';
import { hardwareService } from './hardware.js';
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
