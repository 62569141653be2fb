/** The ZFS subsystem's implementation of its zvols port (port.ts), from its own argv builders. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Capabilities } from '../capabilities.js';
import * as cmd from './commands.js';
import type { ZvolsPort } from './port.js';
import { ZFS_PROBE } from './probes.js';

/** Declares the zfs capability too: a provider without the rest of ZFS (a test guest) still probes it. */
export function zvolsPort(capabilities: Capabilities): ZvolsPort {
  capabilities.declare(ZFS_PROBE);
  const device = (name: string) => path.join('/dev/zvol', name);
  const destroy = (name: string) => ['zfs', 'destroy', '--', name];
  return {
    create: (s, timeoutMs) => ({
      argv: cmd.zvolCreate({
        name: s.name,
        size: String(s.sizeBytes),
        sparse: s.thin,
        ...(s.volblocksize ? { blocksize: s.volblocksize } : {}),
      }),
      undo: destroy(s.name),
      ...(timeoutMs ? { timeoutMs } : {}),
    }),
    destroy,
    device,
    exists: (name) => existsSync(device(name)),
    require: async () => {
      await capabilities.require('zfs');
    },
  };
}
