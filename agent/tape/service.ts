/**
 * The tape service: changers (status, inventory, moves through mailslots), drives (status,
 * TapeAlert, rewind, eject, cleaning), media across libraries and the offer of a library to
 * Bacula. Changers and drives come from the hardware inventory by stable id, or from
 * `tape.changers`; the tools get `tape.toolEnv` (docs/design.md: the agent gets the device paths
 * and any preload through its configuration; nothing here is specific to a test).
 */
import { BACULA } from '../backup/port.js';
import type { Service, ServiceFactory, Subsystem } from '../deps.js';
import { tapeConfig } from './config.js';
import { createTapeContext, type TapeOptions } from './context.js';
import { changerMethods } from './methods-changer.js';
import { driveMethods } from './methods-drive.js';
import { mediaMethods } from './methods-media.js';
import { readTape, tapeMetrics } from './metrics.js';

export function createTapeService(options: TapeOptions = {}): ServiceFactory {
  return (deps): Service => {
    const t = createTapeContext(deps, options);
    deps.capabilities.declare(
      {
        name: 'mtx',
        bins: ['mtx', 'tapeinfo'],
        // mtx has no version flag; `mtx --version` prints usage with the version and exits 1
        versionArgs: ['--version'],
        versionFrom: /mtx version (\S+)/,
        okCodes: [0, 1],
      },
      { name: 'mt', bins: ['mt'], versionArgs: ['--version'], versionFrom: /(\d[\d.]+)/, okCodes: [0, 1] },
    );
    deps.metrics.contribute(...tapeMetrics(() => readTape(t)));
    return {
      name: 'tape',
      methods: [...changerMethods(t), ...driveMethods(t), ...mediaMethods(t)],
    };
  };
}

export const tapeService: ServiceFactory = createTapeService();

export const tapeSubsystem: Subsystem = {
  name: 'tape',
  service: tapeService,
  config: tapeConfig,
  needs: [BACULA],
  alertSources: ['tape'],
};

export { changerLockKey } from './locks.js';
